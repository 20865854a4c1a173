"""The recorder of a grading session: the key under which the plugin keeps it in pytest's
config stash. Other pytest plugins of the grader (``live``) find the recorder through this
key, without importing the plugin that registers them."""

from __future__ import annotations

from typing import Any

import pytest

RECORDER = pytest.StashKey[Any]()
