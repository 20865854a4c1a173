"""``python -m grader.cli`` (the same as ``python -m grader`` and the ``grade`` script)."""

from grader.cli import run

run()
