"""Auto-grader for the deep-learning-from-scratch exercises and quizzes."""

__version__ = "0.1.0"


def load_ipython_extension(ipython):  # noqa: ANN001, ANN201 - IPython's hook for `%load_ext grader`
    """``%load_ext grader`` in a notebook: the ``%grade`` magic (see grader.notebook)."""
    from grader.notebook import load_ipython_extension as load

    load(ipython)
