"""One catalogue of user-facing strings, in English and Chinese.

The strings live in ``grader/data/messages.toml`` as ``"message.id" = { en = "...", zh = "..." }``
with ``str.format`` fields (``{chapter}``). Code asks for a message by id and language:
``t("check.footer.score", "zh", score="3", max="10")``. Stdlib only, loaded once, so the CLI can use
it at start-up. ``tests/test_i18n.py`` checks that every id has both languages, that both use the
same fields, and that every id the code asks for exists.
"""

from __future__ import annotations

import functools
import string
from pathlib import Path

from grader.util.tomlcompat import tomllib

MESSAGES_FILE = Path(__file__).resolve().parents[1] / "data" / "messages.toml"
LANGS = ("en", "zh")

_chosen: str | None = None  # --lang of this command (set by the CLI), else the environment's


def set_lang(lang: str | None) -> None:
    """The language this process speaks from now on (``--lang`` wherever it was given; a
    grading subprocess gets it as ``GRADE_LANG``)."""
    global _chosen
    _chosen = lang if lang in LANGS else None


def session_lang() -> str:
    """The chosen language: ``--lang``, else ``GRADE_LANG``, else a ``zh_*`` locale."""
    import os

    if _chosen is not None:
        return _chosen
    for var in ("GRADE_LANG", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(var, "")
        if value:
            return "zh" if value.lower().startswith("zh") else "en"
    return "en"


COMPILED_FILE = MESSAGES_FILE.parent / "messages.compiled.json"


def _sources() -> list[Path]:
    return [MESSAGES_FILE, *sorted(MESSAGES_FILE.parent.glob("messages_*.toml"))]


def files_digest(paths: list[Path]) -> str:
    """A digest of files' names and bytes: what a compiled JSON beside source files was made
    from (messages here, the catalog in ``grader.grading.catalog``)."""
    import hashlib

    h = hashlib.sha256()
    for path in paths:
        data = path.read_bytes()
        h.update(f"{path.name}\0{len(data)}\0".encode())
        h.update(data)
    return h.hexdigest()


def _parse(paths: list[Path]) -> dict[str, dict[str, str]]:
    merged: dict[str, dict[str, str]] = {}
    for path in paths:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        for key, value in data.items():
            if key in merged:
                raise KeyError(f"message id {key!r} is defined twice ({path.name})")
            merged[key] = {lang: str(value.get(lang, "")) for lang in LANGS}
    return merged


@functools.cache
def catalogue() -> dict[str, dict[str, str]]:
    """``messages.toml`` and the ``messages_*.toml`` beside it (one per area, e.g. Keras
    feedback); an id defined twice is a bug and raises.

    The TOML files are the source. Parsing them costs about 60 ms, a third of ``grade --help``,
    so ``messages.compiled.json`` holds the same catalogue with the digest of the files it was
    made from (``python -m grader.util.i18n``); it is used only while that digest matches, so an
    edited TOML file is read directly until the JSON is made again (a test keeps it fresh)."""
    import json

    paths = _sources()
    try:
        compiled = json.loads(COMPILED_FILE.read_text(encoding="utf-8"))
        messages = compiled["messages"]
        if compiled.get("digest") == files_digest(paths) and isinstance(messages, dict):
            return {key: {lang: str(entry[lang]) for lang in LANGS} for key, entry in messages.items()}
    except (OSError, ValueError, KeyError, TypeError):
        pass
    return _parse(paths)


def compile_catalogue() -> Path:
    """Write ``messages.compiled.json`` from the TOML files."""
    import json

    paths = _sources()
    data = {"digest": files_digest(paths), "messages": _parse(paths)}
    COMPILED_FILE.write_text(json.dumps(data, ensure_ascii=False, sort_keys=True, indent=0) + "\n", encoding="utf-8")
    return COMPILED_FILE


def t(msg_id: str, lang: str = "en", **fields: object) -> str:
    """The message ``msg_id`` in ``lang`` ('en' or 'zh'), with ``fields`` filled in.

    An unknown id is a bug in the grader and raises KeyError; a missing translation falls back
    to English (the catalogue test keeps that from happening)."""
    entry = catalogue()[msg_id]
    text = entry.get(lang) or entry["en"]
    return text.format(**fields) if fields else text


class Message(str):
    """Text ``tr`` made from a catalogue template and its fields, remembering both: a hidden
    test's message is made again from them with every field that may come from the student's
    code masked (``grader.grading.shown``). Adding text to a message keeps the pieces apart."""

    msg_id: str | None
    lang: str
    fields: dict[str, object]
    parts: tuple[object, ...]

    @classmethod
    def made(cls, msg_id: str | None, lang: str, fields: dict[str, object], text: str,
             parts: tuple[object, ...] = ()) -> Message:
        message = cls(text)
        message.msg_id, message.lang, message.fields, message.parts = msg_id, lang, fields, parts
        return message

    def __add__(self, other: object) -> Message:
        if not isinstance(other, str):
            return NotImplemented
        return Message.made(None, self.lang, {}, str.__add__(self, other), (*_pieces(self), *_pieces(other)))

    def __radd__(self, other: object) -> Message:
        if not isinstance(other, str):
            return NotImplemented
        return Message.made(None, self.lang, {}, str.__add__(other, self), (*_pieces(other), *_pieces(self)))


def _pieces(text: str) -> tuple[object, ...]:
    if isinstance(text, Message) and text.msg_id is None and text.parts:
        return text.parts
    return (text,)


def tr(msg_id: str, **fields: object) -> str:
    """``t`` in the session's language: for text built where the language is not passed down
    (per-test feedback, written on the trusted side of a check). A ``Message``: the template
    and fields stay readable for ``grader.grading.shown``."""
    lang = session_lang()
    return Message.made(msg_id, lang, fields, t(msg_id, lang, **fields))


def fields_of(text: str) -> set[str]:
    """The ``{name}`` fields a message uses (for the catalogue test)."""
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def error_text(exc: BaseException, lang: str) -> str:
    """A grader error as the student should read it in ``lang``.

    Errors carry English text (the core raises them without knowing the language); the common
    ones are rebuilt here from their fields so that a Chinese session stays Chinese."""
    import re

    from grader.util.errors import UnknownName

    if lang != "en" and isinstance(exc, UnknownName):
        match = re.match(r"No (\w+) named", str(exc))
        kind = getattr(exc, "kind", None) or (match.group(1) if match else "")
        kind_text = t(f"kind.{kind}", lang) if f"kind.{kind}" in catalogue() else kind
        text = t("error.unknown_name", lang, kind=kind_text, name=exc.name)
        if exc.suggestions:
            text += t("error.did_you_mean", lang, names=" / ".join(f"'{s}'" for s in exc.suggestions))
        if getattr(exc, "known", None):
            text += t("error.known_names", lang, kind=kind_text, names=", ".join(exc.known))
        return text
    if lang != "en":
        for pattern, msg_id in _ERRORS:
            match = re.fullmatch(pattern, str(exc), flags=re.S)
            if match:
                return t(msg_id, lang, **match.groupdict())
    return str(exc)


# Errors raised in English by the core (grader.grading.runner, grader.grading.catalog), rebuilt in the student's language.
_ERRORS: tuple[tuple[str, str], ...] = (
    (r"No exercises/ folder here or in a parent folder\. Run grade from your course workspace\.", "error.no_workspace"),
    (r"Use either --path or --solutions, not both\.", "error.path_and_solutions"),
    (r"(?P<path>.+) is not a folder\. --path takes a folder laid out like exercises/\.", "error.not_a_folder"),
    (r"There is no solutions/ folder here \(student releases do not include solutions\)\.", "error.no_solutions"),
    (r"This chapter needs (?P<what>.+), which is not installed here\. Install it with: (?P<command>.+)", "error.needs_install"),
    (r"This chapter needs (?P<what>[^:]+): (?P<command>pip install .+)", "error.needs"),
    (r"'(?P<name>[^']+)' is in more than one chapter: use the full id \((?P<ids>[^)]*)\)\.", "error.ambiguous"),
    (r"Checking (?P<chapter>\w+) took longer than (?P<seconds>\d+) s and was stopped\.", "error.check_too_long"),
    # grade submit (grader.instructor.submit)
    (r"No exercises/ folder in (?P<workspace>.+)\. Run grade submit from your course workspace\.", "error.submit_no_exercises"),
    (r"(?P<rel>.+) is larger than (?P<mb>\d+) MB; clear its outputs \(Kernel > Restart & Clear Output\), save, and submit again\.", "error.submit_notebook_too_large"),
    (r"(?P<rel>.+) is larger than (?P<kb>\d+) KB; remove data files from exercises/\.", "error.submit_file_too_large"),
    (r"A student id is 1-64 letters, digits or \. _ @ \+ - \(no spaces\), e\.g\. --student s1234567\.", "error.student_id"),
)


if __name__ == "__main__":  # python -m grader.util.i18n: compile the catalogue after editing a messages*.toml
    print(compile_catalogue())
