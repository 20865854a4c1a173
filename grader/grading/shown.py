"""The one way text from a check reaches a report, the gradebook or Gradescope.

Every message and every artifact a test leaves passes ``shown``: it caps the length (a
message at ``MESSAGE_CHARS``, all a test leaves at ``TEST_BYTES``) and, for a hidden test, makes
the text again from its catalogue template with every field that may hold something the
student's code chose masked. A hidden test's code runs after the student's code has seen the
test's inputs; whatever that code can choose (a dict key, a class or function name, a value, a
shape, a dtype, an exit code, an exception's text) could carry those inputs out.

What a hidden message may show is an allow-list: template text; the fields in ``TRUSTED``
(values the suite computed from its own data: the call's description, thresholds, counts and
the index of the worst element); and text the grader vouched for (``vouched``: built only from
the submitted files, such as a location checked against their syntax tree). Everything else,
including any plain ``str`` the grader did not make from the catalogue, becomes ``MASK``.
"""

from __future__ import annotations

import json
from typing import Any

from grader.util.i18n import Message, tr

MESSAGE_CHARS = 4000  # one message (a traceback with its source lines and a rebuild snippet fit)
TEST_BYTES = 64 * 1024  # everything one test leaves: message, output, attached data
MASK = "…"

_ALL = None
# Field -> the message ids (prefixes) where the suite fills it from its own data; None: everywhere.
TRUSTED: dict[str, tuple[str, ...] | None] = {
    "call": _ALL,  # call_text: shapes and dtypes of the suite's inputs (no student type names when hidden)
    "allowed": _ALL,
    "chapter": _ALL,
    "defaults": _ALL,
    "expect": _ALL,
    "f": _ALL,
    "good": _ALL,
    "i": _ALL,
    "index": _ALL,
    "max": _ALL,
    "path": _ALL,
    "seconds": _ALL,
    "step": _ALL,
    "steps": _ALL,
    "test": _ALL,
    "total": _ALL,
    "version": _ALL,
    "want": _ALL,
    "what": _ALL,
    "where": _ALL,
    "wrong": _ALL,
    "verdict": _ALL,
    "n": ("fb.bn.", "fb.ctx."),
    "key": ("fb.net.", "k8.tc.missing_curve"),
    "name": ("fb.not_attempted", "fb.internal", "fb.nudge.default"),
    "rel": ("fb.values_off_hidden",),  # a band: near or far
    "worst": ("fb.gradcheck",),  # a band in hidden tests
    "ratio": ("fb.dropout.share",),
    "point": ("fb.numgrad.",),
    "file": ("fb.rebuild",),
    "value": ("fb.not_finite",),  # inf or -inf: non-finite by construction
}


def vouched(text: str) -> Message:
    """Text the grader made only from its own data and the submitted files (never from what
    the student's code sent back): shown in hidden tests as it is."""
    return Message.made(None, "", {}, str(text))


def _trusted(msg_id: str | None, field: str) -> bool:
    if msg_id is None or field not in TRUSTED:
        return False
    where = TRUSTED[field]
    return where is None or any(msg_id == w or (w.endswith(".") and msg_id.startswith(w)) for w in where)


def _glue(text: str) -> bool:
    """Spacing and punctuation the grader puts between messages (' ', '\\n', ': ')."""
    return len(text) <= 4 and not any(ch.isalnum() for ch in text)


def _masked(text: object) -> str:
    """A hidden test's text: the catalogue's template with untrusted fields masked."""
    if not isinstance(text, Message) or not hasattr(text, "parts"):
        return text if isinstance(text, str) and _glue(text) else MASK
    if text.msg_id is None:
        if not text.parts:
            return str(text)  # vouched
        return "".join(_masked(part) for part in text.parts)
    fields = {
        name: (str(value) if _trusted(text.msg_id, name) else _masked(value) if isinstance(value, Message) else MASK)
        for name, value in text.fields.items()
    }
    from grader.util.i18n import t

    return t(text.msg_id, text.lang or "en", **fields)


def _cap(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    note = tr("fb.shown.cut", chars=len(text) - limit)
    return text[:limit] + note


def shown(text: Any, *, hidden: bool, limit: int = MESSAGE_CHARS) -> str:
    """THE choke point: the text as a report, the gradebook or Gradescope may show it.

    Hidden tests: made again from the catalogue with student-derived fields masked. Always:
    at most ``limit`` characters (plus a note saying how many were left out)."""
    if not isinstance(text, str):
        text = "" if text is None else MASK if hidden else str(text)
    if hidden:
        text = _masked(text)
    return _cap(str(text), limit)


def shown_test(message: Any, artifacts: list[dict[str, Any]], *, hidden: bool) -> tuple[str, list[dict[str, Any]]]:
    """A test's message and what it attached (output, load errors, curves), through ``shown``:
    in a hidden test only the grader's own artifacts built from verified data (``vouched``
    strings, numbers the grader computed, marked ``"grader": True``) are kept; all of it fits
    in ``TEST_BYTES``, the artifacts that do not fit are left out."""
    text = shown(message, hidden=hidden)
    budget = TEST_BYTES - len(text.encode("utf-8"))
    kept: list[dict[str, Any]] = []
    for artifact in artifacts:
        if hidden and not artifact.get("grader"):
            continue
        # the grader's own artifacts hold only what it built from verified data
        bounded = _bounded({k: v for k, v in artifact.items() if k != "grader"}, hidden and not artifact.get("grader"))
        size = len(json.dumps(bounded, ensure_ascii=False).encode("utf-8"))
        if size > budget:
            continue
        budget -= size
        kept.append(bounded)
    return text, kept


def _bounded(value: Any, hidden: bool, depth: int = 0) -> Any:
    """Plain data with every string through ``shown`` (a hidden test's strings: vouched ones
    only), nested at most 4 deep (an artifact is a flat record with lists of numbers)."""
    if isinstance(value, str):
        return shown(value, hidden=hidden)
    if isinstance(value, bool) or value is None or isinstance(value, (int, float)):
        return value
    if depth >= 4:
        return None
    if isinstance(value, dict):
        return {str(k)[:100]: _bounded(v, hidden, depth + 1) for k, v in list(value.items())[:100]}
    if isinstance(value, (list, tuple)):
        return [_bounded(v, hidden, depth + 1) for v in list(value)[: TEST_BYTES // 8]]
    return None
