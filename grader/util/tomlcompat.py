"""TOML parsing on every Python the project supports.

``tomllib`` is in the standard library from 3.11; on 3.10 (Ubuntu 22.04's python3, Gradescope's
default image) the ``tomli`` backport, which has the same API, is a dependency instead. Import
``tomllib`` from here, never directly: ``from grader.util.tomlcompat import tomllib``.
"""

from __future__ import annotations

import sys

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised by the 3.10 leg of .ci/matrix
    import tomli as tomllib

__all__ = ["tomllib"]
