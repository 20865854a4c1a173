"""The ``grade`` command. Thin: parse options, call one core function, hand the result
to ``grader.reports``. Errors are caught once, in ``_guard``, and become exit codes.
Heavy modules (numpy, pytest, rich) are imported inside commands, never at start-up."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from grader.clikit import Format, LangOpt, Sandbox, _guard, _lang
from grader.errors import EXIT_INTERNAL, EXIT_NOT_ALL_PASSED, EXIT_OK

app = typer.Typer(
    name="grade",
    help="Check your deep-learning exercises, read hints and take quizzes.",
    no_args_is_help=False,
    add_completion=True,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)

@app.callback(invoke_without_command=True)
def main(ctx: typer.Context) -> None:
    if ctx.invoked_subcommand is None:
        typer.echo("grade — check your deep-learning exercises.")
        typer.echo("  grade list              chapters and exercises")
        typer.echo("  grade check chapter2    grade your work on a chapter")
        typer.echo("  grade hint chapter2.AND read a hint")
        typer.echo("  grade --help            every command")


@app.command()
@_guard
def check(
    chapter: Annotated[str, typer.Argument(help="Chapter to check, e.g. chapter3 (or just 3).")],
    solutions: Annotated[bool, typer.Option("--solutions", help="Grade the reference solutions instead.")] = False,
    path: Annotated[Path | None, typer.Option("--path", help="Grade this folder (laid out like exercises/).")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print one JSON object instead of the report.")] = False,
    fmt: Annotated[Format, typer.Option("--format", help="text, json or gradescope (results.json).")] = Format.text,
    public: Annotated[bool, typer.Option("--public", help="Run only the public tests, as a student release does.")] = False,
    sandbox: Annotated[Sandbox, typer.Option("--sandbox", help="Worker isolation: auto uses bubblewrap when present.")] = Sandbox.auto,
    lang: LangOpt = None,
) -> None:
    """Grade one chapter of your exercises and show what passed, what failed and why."""
    from grader.catalog import load_catalog
    from grader.runner import resolve_target, run_check

    catalog = load_catalog()
    chap = catalog.chapter(chapter)
    target = resolve_target(path, solutions)
    report = run_check(chap, target, public_only=public, sandbox=sandbox.value)
    if json_out or fmt is Format.json:
        typer.echo(report.to_json())
    elif fmt is Format.gradescope:
        import json

        typer.echo(json.dumps(report.to_gradescope(), ensure_ascii=False, indent=2))
    else:
        from grader import reports

        reports.render_check(report, catalog, reports.console(), _lang(lang))
    raise typer.Exit(EXIT_OK if report.all_passed else EXIT_NOT_ALL_PASSED)


@app.command()
@_guard
def hint(
    exercise: Annotated[str, typer.Argument(help="Exercise id, e.g. chapter2.XOR (or a unique name like softmax).")],
    number: Annotated[int | None, typer.Argument(help="Which hint (1 = the gentlest). Default: all.")] = None,
    lang: LangOpt = None,
) -> None:
    """Show the hints for an exercise, gentlest first."""
    from grader import reports
    from grader.catalog import load_catalog
    from grader.errors import UsageError

    ex = load_catalog().exercise(exercise)
    if not ex.hints:
        raise UsageError(f"{ex.id} has no hints yet.")
    if number is not None and not 1 <= number <= len(ex.hints):
        raise UsageError(f"{ex.id} has hints 1 to {len(ex.hints)}.")
    reports.render_hint(ex, number, reports.console(), _lang(lang))


@app.command("list")
@_guard
def list_(lang: LangOpt = None) -> None:
    """List chapters and their exercises."""
    from grader import reports
    from grader.catalog import load_catalog

    reports.render_list(load_catalog(), reports.console(), _lang(lang))


from grader.quizcli import register as _reg_quiz
_reg_quiz(app)


def run() -> None:
    try:
        app()
    except Exception as exc:  # noqa: BLE001 - last line of defence: no traceback at a student
        from grader import reports

        reports.error(f"internal grader error ({type(exc).__name__}: {exc}). Please tell your instructor.")
        sys.exit(EXIT_INTERNAL)


if __name__ == "__main__":
    run()
