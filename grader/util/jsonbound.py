"""JSON from files a student wrote (manifests, quiz responses, notebooks), read with
bounds: the size and the nesting are checked on the raw bytes before ``json.loads``
builds anything, so a file nested 100,000 levels deep is a clear error, never a
RecursionError that stops a whole collection."""

from __future__ import annotations

import json
import re
from typing import Any

MAX_JSON_DEPTH = 32
# A string, or an unterminated one up to the end: the match always succeeds once it starts
# at a quote, so the scan is linear (``"\"\"\"...`` with no closing quote used to be
# rescanned from every escaped quote: quadratic, an hour for a 1 MB file).
_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*(?:"|\\?\Z)', re.DOTALL)
_JSON_BRACKETS = re.compile(rb"[\[\]{}]")


class JsonTooLarge(ValueError):
    """Larger or nested deeper than the caller allows."""


def load_json_bounded(raw: bytes, what: str, max_bytes: int, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """``json.loads`` of ``raw`` once its size and nesting are known to be within bounds.
    Raises ``JsonTooLarge`` for those, and ``ValueError`` (``UnicodeDecodeError``
    included) for anything that is not JSON."""
    if len(raw) > max_bytes:
        raise JsonTooLarge(f"{what} is larger than {max_bytes // 1000} KB")
    depth = 0
    for bracket in _JSON_BRACKETS.findall(_JSON_STRING.sub(b'""', raw)):
        if bracket in (b"[", b"{"):
            depth += 1
            if depth > max_depth:
                raise JsonTooLarge(f"{what} is nested more than {max_depth} levels deep")
        else:
            depth -= 1
    return json.loads(raw.decode("utf-8"))
