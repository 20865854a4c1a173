"""Notebooks: the ``%grade`` magic and ``check``/``hint`` for Jupyter (``magics``), making
the chapter notebooks from the stubs (``build``), and reading a student's exercise sources
out of ``.py`` files or ``.ipynb`` cells (``sources``).

Owns: everything that knows the notebook format and the dl-grade cell markers.
May import: ``magics`` is student-facing, at the level of the commands: it may use grading,
reports and the utilities. ``build`` may import the grading catalog, ``sources`` and the
utilities. ``sources`` imports only the utilities: the grading core and the instructor side
read submissions through it.
Must never: run student code here (sources are read as text, bounded, with ``json`` and
never with nbformat: grading needs no notebook package); import IPython at module level
(only inside the extension hook); let ``sources`` or ``build`` import ``magics``.

``from grader.notebook import check, hint`` and ``%load_ext grader`` are the public entry
points; they load ``magics`` on first use so that ``grader.notebook.sources`` stays light.
"""

from __future__ import annotations

from typing import Any

_MAGICS = ("check", "hint", "grade_magic", "load_ipython_extension")


def __getattr__(name: str) -> Any:
    if name in _MAGICS:
        from grader.notebook import magics

        return getattr(magics, name)
    raise AttributeError(f"module 'grader.notebook' has no attribute {name!r}")
