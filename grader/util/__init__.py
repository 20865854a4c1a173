"""Small shared utilities, the bottom layer: errors and exit codes (``errors``), messages in
English and Chinese (``i18n``; ``python -m grader.util.i18n`` recompiles them), TOML on
every supported Python (``tomlcompat``), cleaning untrusted text and ids (``textclean``),
locked atomic files (``fsutil``), JSON with a size bound (``jsonbound``), the version.

Owns: helpers that know nothing about grading, students, quizzes or commands.
May import: the standard library (and ``tomli`` on 3.10); nothing else of the grader.
Must never: import any other grader package; import numpy, pytest or rich (every command
loads these modules at start-up); keep state beyond a process-wide cache.
"""
