"""The grading core, on the trusted side: find the student's workspace and sources
(``runner``), run the suites under pytest with the grader's plugin (``plugin``: the hooks;
``recorder``: the per-test record and results file; ``targets``: batch switching between
targets; ``failures``: what a failing test says; ``student_code``: the ``student`` fixture),
the check helpers the suites call (``checks``, ``gradcheck``, ``keras_checks``; a Keras
archive's checks in ``keras_archive``, the capped ``keras_helper`` process that opens it
and the trusted side's handle on it, ``keras_client``), verdicts (``results``, ``shown``), the chapter catalog
(``catalog``, ``lookup``), live progress (``live``), ``grade watch``'s warm check server
(``warm``, and its client ``warmcheck``) and the student's recorded progress (``progress``).

Owns: what a verdict is and how it is reached. A new check helper for the suites goes in
``checks.py`` (or ``keras_checks.py`` for Keras models); a new catalog field in ``catalog.py``.
May import: ``grader.boundary`` (the only way to touch student code), ``grader.notebook.sources``
and ``grader.util``.
Must never: import the commands (``grader.cli``), the instructor side, quizzes or reports
(they sit above it); execute, import or unpickle student code in this process (every call
goes through the boundary's proxies); show a hidden test's code or expected values.
"""
