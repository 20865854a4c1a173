"""``grade check``: the command's work (``check_command``), and its fast start.

The work is plain Python (no typer): ``main.py``'s typer command calls it, and so does
``fast_check``, which reads the common command lines itself (``grade check chapter5
--solutions``, ``--path``, ``--json``, ``--format``, ``--public``, ``--sandbox``,
``--show-output``, ``--lang``) so that a check does not pay for typer and click (their import
and the building of every command's parameters, about a quarter of the time a check takes
beyond the floor ``python -c "import numpy, pytest"``). Anything it does not read exactly as
click would (``--help``, an unknown or repeated option, a missing or extra argument, a value
outside its choices, ``--``) it leaves to typer, which then parses, explains and errs as always.

Stdlib only at import time, like the rest of the command line's start.
"""

from __future__ import annotations

import sys
from pathlib import Path

from grader.cli.safety import LANGS, guarded
from grader.util.errors import EXIT_INTERRUPTED, EXIT_NOT_ALL_PASSED, EXIT_OK

FORMATS = ("text", "json", "gradescope")
SANDBOXES = ("auto", "bwrap", "none")

# option -> (field, choices): None takes any text; flags have no entry here
_VALUED = {"--path": ("path", None), "--format": ("fmt", FORMATS), "--sandbox": ("sandbox", SANDBOXES),
           "--lang": ("lang", LANGS)}
_FLAGS = {"--solutions": "solutions", "--json": "json_out", "--public": "public", "--show-output": "show_output"}


def parse_fast(args: list[str]) -> dict[str, object] | None:
    """The keyword arguments of ``check_command`` for ``args`` (what follows ``grade``), or None
    when they are not a plain ``check`` command line that this parser reads as click would."""
    group_lang = None
    if len(args) >= 2 and args[0] == "--lang" and args[1] in LANGS:  # grade --lang zh check ...
        group_lang, args = args[1], args[2:]
    elif args and args[0].startswith("--lang=") and args[0][7:] in LANGS:
        group_lang, args = args[0][7:], args[1:]
    if not args or args[0] != "check":
        return None
    found: dict[str, object] = {}
    chapter = None
    rest = args[1:]
    i = 0
    while i < len(rest):
        arg = rest[i]
        i += 1
        if arg in _FLAGS:
            if _FLAGS[arg] in found:
                return None
            found[_FLAGS[arg]] = True
            continue
        name, eq, value = arg.partition("=")
        if name in _VALUED:
            if not eq:
                if i >= len(rest):
                    return None
                value = rest[i]
                i += 1
            field, choices = _VALUED[name]
            if field in found or not value or value.startswith("-") or (choices and value not in choices):
                return None
            found[field] = value
            continue
        if arg.startswith("-") or chapter is not None:
            return None  # --help, an option of another command, --, a second argument: typer's
        chapter = arg
    if chapter is None:
        return None
    path = found.pop("path", None)
    return {
        "chapter": chapter,
        "solutions": bool(found.pop("solutions", False)),
        "path": Path(str(path)) if path is not None else None,
        "json_out": bool(found.pop("json_out", False)),
        "fmt": found.pop("fmt", "text"),
        "public": bool(found.pop("public", False)),
        "sandbox": found.pop("sandbox", "auto"),
        "show_output": bool(found.pop("show_output", False)),
        "lang": found.pop("lang", None),
        "group_lang": group_lang,
    }


def fast_check(args: list[str]) -> int | None:
    """Run ``grade check`` from ``args`` without typer; None when typer must read them."""
    options = parse_fast(args)
    if options is None:
        return None
    group_lang = options.pop("group_lang")
    if group_lang is not None:  # as the typer group's callback does with `grade --lang zh check`
        from grader.util.i18n import set_lang

        set_lang(str(group_lang))
    return guarded(options.get("lang"), check_command, **options)  # type: ignore[arg-type]


def _echo(text: str, err: bool = False) -> None:
    stream = sys.stderr if err else sys.stdout
    stream.write(text + "\n")
    stream.flush()


def check_command(
    chapter: str,
    solutions: bool = False,
    path: Path | None = None,
    json_out: bool = False,
    fmt: str = "text",
    public: bool = False,
    sandbox: str = "auto",
    show_output: bool = False,
    lang: str | None = None,
) -> int:
    """Grade a chapter and show the report; the exit code (0: all passed, 1: not all, 130:
    interrupted). Grader errors propagate (the caller's guard shows them)."""
    from grader.grading import progress
    from grader.grading.catalog import load_catalog
    from grader.grading.runner import require_chapter, resolve_target, run_check
    from grader.util.i18n import session_lang, set_lang, t

    if lang is not None:  # before the run: the feedback is written in it
        set_lang(lang)
    language = session_lang()
    catalog = load_catalog()
    chap = chapter_or_quiz_only(catalog, chapter, language)
    if chap is None:
        return EXIT_OK
    target = resolve_target(path, solutions)
    require_chapter(target, chap.id)
    live = None
    if not json_out and fmt == "text":
        from grader.grading.live import LiveProgress, on_a_real_file

        if on_a_real_file(sys.stdout):  # a terminal, a pipe or a file (not an in-memory capture)
            live = LiveProgress(sys.stdout, language)
    try:
        report = run_check(chap, target, public_only=public, sandbox=sandbox, in_process=True, live=live)
    except KeyboardInterrupt:  # before any test was collected
        _echo(t("check.interrupted_early", language), err=True)
        return EXIT_INTERRUPTED
    finally:
        if live is not None:
            live.close()
    if not report.interrupted:  # an interrupted check leaves the chapter's last full one recorded
        progress.record_check_quietly(report)  # advisory progress for `grade status`; never fails a check
    if json_out or fmt == "json":
        _echo(report.to_json())
    elif fmt == "gradescope":
        import json

        _echo(json.dumps(report.to_gradescope(), ensure_ascii=False, indent=2))
    else:
        from grader import reports

        first_hints = reports.render_check(report, catalog, reports.console(), language, show_output=show_output)
        workspace = quiet_workspace() if first_hints else None
        if workspace is not None:  # the report showed hint 1: the next `grade hint` shows hint 2
            progress.record_hints_seen(workspace, dict.fromkeys(first_hints, 1))  # one write for all
    if report.interrupted:
        return EXIT_INTERRUPTED
    return EXIT_OK if report.all_passed else EXIT_NOT_ALL_PASSED


def chapter_or_quiz_only(catalog, name: str, lang: str):  # type: ignore[no-untyped-def]
    """The chapter to check; None for a quiz-only chapter (chapter1), answered with its quiz."""
    from grader.grading.catalog import normalize_chapter
    from grader.util.errors import UnknownName
    from grader.util.i18n import t

    try:
        return catalog.chapter(name)
    except UnknownName:
        workspace = quiet_workspace()
        if workspace is not None:
            from grader.grading.progress import quiz_only_chapters

            key = normalize_chapter(name)
            if any(c.id == key for c in quiz_only_chapters(catalog, workspace)):
                _echo(t("check.quiz_only", lang, chapter=key))
                return None
        raise


def quiet_workspace() -> Path | None:
    from grader.grading.runner import find_workspace
    from grader.util.errors import UsageError

    try:
        return find_workspace()
    except UsageError:
        return None
