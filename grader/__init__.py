"""Auto-grader for the deep-learning-from-scratch exercises and quizzes.

The packages, top layer first (the contracts in ``[tool.importlinter]`` of pyproject.toml
enforce the order; see README "Layout"): ``cli`` (commands) and ``notebook.magics``;
``reports``; ``instructor``; ``quiz``; ``notebook.build``; ``grading``; ``notebook.sources``;
``boundary``; ``util``. ``suites`` are the tests the grading core runs; ``catalog/`` and
``data/`` hold data, not code.
"""

from grader.util.version import VERSION as __version__

__all__ = ["__version__", "load_ipython_extension"]


def load_ipython_extension(ipython):  # noqa: ANN001, ANN201 - IPython's hook for `%load_ext grader`
    """``%load_ext grader`` in a notebook: the ``%grade`` magic (see grader.notebook)."""
    from grader.notebook.magics import load_ipython_extension as load

    load(ipython)
