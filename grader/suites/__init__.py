"""The grading suites: one folder per chapter (``chapterN/test_*.py``, the hidden tests in
``test_*_hidden.py``, their shared reference code in ``_reference.py``, the hidden tests'
count in ``hidden.json``), run by ``grader.grading.runner`` under pytest with
``grader.grading.plugin`` (``pytest.ini`` here). They are data as much as code: copied into
releases (hidden tests stripped) and the Gradescope autograder.

Owns: what each exercise is tested on, and the feedback a failing test gives.
May import: the check helpers (``grader.grading.checks``, ``gradcheck``, ``keras_checks``),
``grader.util.i18n`` for messages, ``grader.boundary.proxy`` for type names, and their own
chapter's ``_reference`` (tests/test_architecture.py keeps to this list).
Must never: keep state between targets (``grade collect`` runs many submissions in one
session: module globals, caches and class attributes carry nothing from one student to
the next; shared work goes through the ``target_state`` fixture); reach student code other
than through the ``student`` fixture's proxies; put a hidden test's code or expected values
into a message.
"""
