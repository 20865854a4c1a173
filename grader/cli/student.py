"""Student commands beside ``check``: ``grade status``, ``grade watch`` and the welcome screen.

Top-level imports stay light (typer + stdlib + the catalog): rich, numpy and pytest load only
inside command bodies, so ``grade`` and ``grade --help`` start fast."""

from __future__ import annotations

from typing import Annotated

import typer

from grader.cli.completion import complete_chapter
from grader.cli.kit import LangOpt, Sandbox, _lang, default_lang, guard
from grader.util.i18n import t

_LOCALE = default_lang()


def welcome(lang: str) -> None:
    """``grade`` with no arguments: what this is, the next step (from progress) and the main commands."""
    from grader.grading.catalog import load_catalog
    from grader.grading.progress import compute_status, describe_next
    from grader.grading.runner import find_workspace
    from grader.util.errors import UsageError

    typer.secho(t("welcome.title", lang), bold=True)
    try:
        workspace = find_workspace()
    except UsageError:
        typer.secho(t("welcome.no_workspace", lang), fg="yellow")
        workspace = None
    catalog = load_catalog()
    first = next(iter(catalog.chapters), "chapter2")
    if workspace is not None:
        status = compute_status(catalog, workspace)
        words, command = describe_next(status.next, catalog, lang)
        typer.echo("")
        typer.echo(t("welcome.next", lang) + words + (" " + typer.style(command, fg="cyan") if command else ""))
        # the example commands name the first chapter with exercises still to do (not a quiz-only one)
        todo = [c.chapter.id for c in status.chapters if c.exercises and not c.exercises_done]
        first = todo[0] if todo else first
    typer.echo("")
    typer.echo(t("welcome.commands", lang))
    rows = [
        ("grade status", "welcome.cmd.status"),
        (f"grade check {first}", "welcome.cmd.check"),
        (f"grade watch {first}", "welcome.cmd.watch"),
        (f"grade hint {first}.…", "welcome.cmd.hint"),
        ("grade --help", "welcome.cmd.help"),
    ]
    for command, msg_id in rows:
        typer.echo("  " + typer.style(f"{command:<24}", fg="cyan") + t(msg_id, lang))


def _workspace(lang: str):  # type: ignore[no-untyped-def]
    """The course workspace, or a usage error in the student's language."""
    from grader.grading.runner import find_workspace
    from grader.util.errors import UsageError

    try:
        return find_workspace()
    except UsageError:
        raise UsageError(t("welcome.no_workspace", lang)) from None


def register(app: typer.Typer) -> None:
    @app.command(help=t("help.status", _LOCALE))
    @guard
    def status(lang: LangOpt = None) -> None:
        from grader import reports
        from grader.grading.catalog import load_catalog
        from grader.grading.progress import compute_status
        from grader.reports.status import render_status

        language = _lang(lang)
        catalog = load_catalog()
        result = compute_status(catalog, _workspace(language))
        for msg_id, fields in result.notes:
            reports.note(t(msg_id, language, **fields))
        render_status(result, catalog, reports.console(), language)

    @app.command(help=t("help.watch", _LOCALE))
    @guard
    def watch(
        chapter: Annotated[str, typer.Argument(help=t("help.watch.chapter", _LOCALE), autocompletion=complete_chapter)],
        poll: Annotated[bool, typer.Option("--poll", help=t("help.watch.poll", _LOCALE))] = False,
        interval: Annotated[float, typer.Option("--interval", min=0.05, help=t("help.watch.interval", _LOCALE))] = 0.5,
        sandbox: Annotated[Sandbox, typer.Option("--sandbox", help=t("help.check.sandbox", _LOCALE))] = Sandbox.auto,
        lang: LangOpt = None,
    ) -> None:
        from grader.cli.watch import watch_chapter
        from grader.grading.catalog import load_catalog

        _workspace(_lang(lang))
        catalog = load_catalog()
        watch_chapter(catalog, catalog.chapter(chapter), lang=_lang(lang), poll=poll, interval=interval, sandbox=sandbox.value)
