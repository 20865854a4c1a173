"""The grading core, on the trusted side: find the student's workspace and sources
(``runner``), run the suites under pytest with the grader's plugin (``plugin``: the
recorder of verdicts, batch switching between targets, the hooks), the check helpers the
suites call (``checks``, ``gradcheck``, ``keras_checks`` and its capped ``keras_helper``
process), verdicts (``results``, ``shown``), the chapter catalog (``catalog``, ``lookup``),
live progress (``live``) and the student's recorded progress (``progress``).

Owns: what a verdict is and how it is reached. A new check helper for the suites goes in
``checks.py`` (or ``keras_checks.py`` for Keras models); a new catalog field in ``catalog.py``.
May import: ``grader.boundary`` (the only way to touch student code), ``grader.notebook.sources``
and ``grader.util``.
Must never: import the commands (``grader.cli``), the instructor side, quizzes or reports
(they sit above it); execute, import or unpickle student code in this process (every call
goes through the boundary's proxies); show a hidden test's code or expected values.
"""
