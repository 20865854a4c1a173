"""The ``grade`` command. Thin: parse options, call one core function, hand the result
to ``grader.reports``. Errors are caught once, in ``_guard``, and become exit codes.
Heavy modules (numpy, pytest, rich) are imported inside commands, never at start-up."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from grader.cli.check import quiet_workspace
from grader.cli.completion import complete_chapter, complete_exercise
from grader.cli.kit import Format, LangOpt, Sandbox, _guard, _h, _lang, default_lang
from grader.cli.safety import last_defence
from grader.cli.text import LocalGroup
from grader.util.i18n import t

app = typer.Typer(
    name="grade",
    cls=LocalGroup,  # --help, click's words and usage errors in the language of the command line
    help=_h("help.app"),
    no_args_is_help=False,
    add_completion=True,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)

@app.callback(invoke_without_command=True)
def main(ctx: typer.Context, lang: LangOpt = None) -> None:
    from grader.util.i18n import set_lang

    if lang is not None:  # `grade --lang zh check ...` (LocalGroup already read it, with one after the command)
        set_lang(lang.value)
    if ctx.invoked_subcommand is None:
        from grader.cli.student import welcome

        welcome(_lang(lang))


@app.command(help=_h("help.check"))
@_guard
def check(
    chapter: Annotated[str, typer.Argument(help=_h("help.check.chapter"), autocompletion=complete_chapter)],
    solutions: Annotated[bool, typer.Option("--solutions", help=_h("help.check.solutions"))] = False,
    path: Annotated[Path | None, typer.Option("--path", help=_h("help.check.path"))] = None,
    json_out: Annotated[bool, typer.Option("--json", help=_h("help.check.json"))] = False,
    fmt: Annotated[Format, typer.Option("--format", help=_h("help.check.format"))] = Format.text,
    public: Annotated[bool, typer.Option("--public", help=_h("help.check.public"))] = False,
    sandbox: Annotated[Sandbox, typer.Option("--sandbox", help=_h("help.check.sandbox"))] = Sandbox.auto,
    show_output: Annotated[bool, typer.Option("--show-output", help=_h("help.check.show_output"))] = False,
    lang: LangOpt = None,
) -> None:
    from grader.cli.check import check_command

    code = check_command(chapter, solutions=solutions, path=path, json_out=json_out, fmt=fmt.value, public=public,
                         sandbox=sandbox.value, show_output=show_output, lang=lang.value if lang is not None else None)
    raise typer.Exit(code)


@app.command(help=_h("help.hint"))
@_guard
def hint(
    exercise: Annotated[str, typer.Argument(help=_h("help.hint.exercise"), autocompletion=complete_exercise)],
    number: Annotated[int | None, typer.Argument(help=_h("help.hint.number"))] = None,
    all_hints: Annotated[bool, typer.Option("--all", help=_h("help.hint.all"))] = False,
    lang: LangOpt = None,
) -> None:
    from grader import reports
    from grader.grading.catalog import load_catalog
    from grader.grading.lookup import find_exercise
    from grader.util.errors import UsageError

    language = _lang(lang)
    ex = find_exercise(load_catalog(), exercise)
    if not ex.hints:
        raise UsageError(t("hint.none", language, id=ex.id))
    if number is not None and not 1 <= number <= len(ex.hints):
        raise UsageError(t("hint.range", language, id=ex.id, n=len(ex.hints)))
    workspace = quiet_workspace()
    seen = 0
    if workspace is not None:
        from grader.grading.progress import hints_seen

        seen = hints_seen(workspace, ex.id)
    out = reports.console()
    if all_hints:
        reports.render_hint(ex, None, out, language)
        shown = len(ex.hints)
    elif number is not None:
        reports.render_hint(ex, number, out, language)
        shown = number
    elif seen >= len(ex.hints):
        reports.render_no_more_hints(ex, out, language)
        return
    else:
        shown = seen + 1
        reports.render_hint(ex, shown, out, language)
    reports.render_hints_left(ex, max(seen, shown), all_hints, out, language, shown=shown)
    if workspace is not None:
        from grader.grading.progress import record_hint_seen

        record_hint_seen(workspace, ex.id, shown)


@app.command("list", help=_h("help.list"))
@_guard
def list_(lang: LangOpt = None) -> None:
    from grader import reports
    from grader.grading.catalog import load_catalog

    reports.render_list(load_catalog(), reports.console(), _lang(lang))

from grader.cli.instructor import register as _reg_instructor  # noqa: E402

_reg_instructor(app)


from grader.cli.quiz import register as _reg_quiz

_reg_quiz(app)

from grader.cli.student import register as _reg_student  # noqa: E402

_reg_student(app)


def run() -> None:
    def command_line() -> None:
        if len(sys.argv) == 1 and not any(k.endswith("_COMPLETE") for k in os.environ):
            # plain `grade`: the welcome, without typer's parameter machinery (it loads pydantic, ~70 ms)
            from grader.cli.student import welcome

            welcome(default_lang())
            return
        app()

    last_defence(command_line)


if __name__ == "__main__":
    run()
