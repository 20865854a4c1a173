"""The grader's version (``grader.__version__``), here so that modules recording it in
releases and results need not import the ``grader`` package itself (which loads the
notebook extension)."""

VERSION = "0.1.0"
