"""The instructor's side: make a release (``release``), hand in (``submit``, run by the
student but built here), read submissions (``submission``, ``canvas_download``), collect
and grade them (``collect``, ``batch``) into a SQLite gradebook (``gradebook``), the roster,
course dates and lateness, exports for Canvas and Gradescope (``export``, ``canvas_format``,
``gradescope``), class reports (``report``) and similarity (``similarity``).

Owns: everything after a student hands work in; identity and time come from here, never
from the submission. A new export format goes beside ``export.py``.
May import: grading (runner, catalog, results), quizzes, ``grader.notebook.build`` and
``grader.notebook.sources``, the boundary's sandbox and container limits, the utilities.
Must never: import the commands or reports (``grader.cli.instructor`` calls in, and
``grader.reports`` draws the results); trust anything in a submission (names, manifests,
quiz answers, ids, times: bounded, cleaned, checked); run student code in this process
(grading goes through the runner and the boundary); unpickle anything.
"""
