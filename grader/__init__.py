"""Auto-grader for the deep-learning-from-scratch exercises and quizzes."""

__version__ = "0.1.0"
