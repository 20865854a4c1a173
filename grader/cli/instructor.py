"""Instructor commands: release, submit, collect, export, report (``register(app)``).

Top-level imports stay light (typer and stdlib); the work is imported inside commands.
"""

from __future__ import annotations

import enum
from pathlib import Path
from typing import Annotated, Optional

import typer

from grader.cli.kit import LangOpt, Sandbox, _h, _lang, guard
from grader.cli.text import INSTRUCTOR_PANEL


class ExportFormat(str, enum.Enum):
    csv = "csv"
    canvas = "canvas"
    gradescope = "gradescope"
    json = "json"


DbOpt = Annotated[Path, typer.Option("--db", help=_h("help.db"))]
CourseOpt = Annotated[Optional[Path], typer.Option("--course", help=_h("help.course"))]


def _existing_db(db: Path) -> Path:
    from grader.util.errors import UsageError

    if not db.is_file():
        raise UsageError(f"No gradebook at {db}. Run grade collect SUBMISSIONS --db {db} first.")
    return db


def _roster_lines(db: Path) -> list[str]:
    """What ``grade collect`` and ``grade report`` say about the roster (nothing without one)."""
    from grader.instructor.gradebook import Gradebook
    from grader.instructor.roster import describe, match

    if not db.is_file():
        return []
    with Gradebook(db) as gb:
        return describe(match(gb.roster(), [r["student"] for r in gb.submissions("graded")]))


def register(app: typer.Typer) -> None:
    # Instructor commands print English; --lang sets the language of their --help and usage errors.
    roster_app = typer.Typer(help=_h("help.roster"), no_args_is_help=True, rich_markup_mode=None)
    app.add_typer(roster_app, name="roster", rich_help_panel=INSTRUCTOR_PANEL)

    @roster_app.callback()
    def roster(lang: LangOpt = None) -> None:
        _lang(lang)  # `grade roster --lang zh import ...`

    @roster_app.command("import", help=_h("help.roster.import"))
    @guard
    def roster_import(
        file: Annotated[Path, typer.Argument(help=_h("help.roster.import.file"))],
        db: DbOpt = Path("gradebook.sqlite"),
        lang: LangOpt = None,
    ) -> None:
        _lang(lang)
        from grader import reports
        from grader.instructor.gradebook import Gradebook
        from grader.instructor.roster import read_roster

        roster = read_roster(file)
        with Gradebook(db) as gb:
            gb.set_roster(roster)
        what = "Canvas gradebook export" if roster.layout == "canvas" else "plain roster"
        extra = f", {len(roster.assignments)} Canvas assignment columns" if roster.assignments else ""
        reports.plain(f"Roster imported from {file} ({what}): {len(roster.entries)} students{extra}.")
        for line in _roster_lines(db):
            reports.plain(line)

    @app.command(help=_h("help.release"), rich_help_panel=INSTRUCTOR_PANEL)
    @guard
    def release(
        out: Annotated[Path, typer.Argument(help=_h("help.release.out"))],
        graded_quizzes: Annotated[bool, typer.Option("--graded-quizzes", help=_h("help.release.graded_quizzes"))] = False,
        force: Annotated[bool, typer.Option("--force", help=_h("help.release.force"))] = False,
        allow_dirty: Annotated[bool, typer.Option("--allow-dirty", help=_h("help.release.allow_dirty"))] = False,
        notebooks: Annotated[bool, typer.Option("--notebooks", help=_h("help.release.notebooks"))] = False,
        wheel_url: Annotated[Optional[str], typer.Option("--wheel-url", metavar="URL",
                                                         help=_h("help.release.wheel_url"))] = None,
        lang: LangOpt = None,
    ) -> None:
        _lang(lang)
        from grader import reports
        from grader.instructor.release import make_release

        manifest = make_release(out, graded_quizzes=graded_quizzes, force=force, allow_dirty=allow_dirty,
                                notebooks=notebooks, wheel_url=wheel_url)
        hidden = manifest["hidden"]
        assert isinstance(hidden, dict)
        counts = ", ".join(f"{ch} {v['tests']}" for ch, v in hidden.items())
        reports.plain(f"Release written to {out} ({', '.join(manifest['chapters'])}); "  # type: ignore[arg-type]
                      f"stubs from {manifest['stubs_from']}; hidden tests kept back: {counts or 'none'}. "
                      "Nothing secret found in it.")
        if manifest.get("notebooks"):
            reports.plain(f"Notebooks: {', '.join(manifest['notebooks'])}")  # type: ignore[arg-type]
        if manifest.get("wheel"):
            where = f", else from {manifest['wheel_url']}" if manifest.get("wheel_url") else ""
            reports.plain(f"Wheel: {manifest['wheel']} (the notebooks' first cell installs it from beside the "
                          f"notebook{where})")
        left_out = manifest.get("left_out") or []
        if left_out:
            reports.plain(f"Not released (uncommitted changes in exercises/): {', '.join(left_out)}")  # type: ignore[arg-type]

    @app.command(help=_h("help.submit"))
    @guard
    def submit(
        student: Annotated[str, typer.Option("--student", help=_h("help.submit.student"))],
        output: Annotated[Optional[Path], typer.Option("-o", "--output", help=_h("help.submit.output"))] = None,
        lang: LangOpt = None,
    ) -> None:
        from grader import reports
        from grader.grading.runner import find_workspace
        from grader.instructor.submit import make_submission
        from grader.util.i18n import t

        language = _lang(lang)  # a student command: its messages follow --lang (errors: grader.util.i18n.error_text)
        path, manifest = make_submission(find_workspace(), student, output)
        files = manifest["files"]
        assert isinstance(files, dict)
        reports.plain(t("submit.wrote", language, path=path, n=len(files), student=student))

    @app.command(help=_h("help.collect"), rich_help_panel=INSTRUCTOR_PANEL)
    @guard
    def collect(
        submissions: Annotated[Optional[list[Path]], typer.Argument(help=_h("help.collect.submissions"))] = None,
        db: DbOpt = Path("gradebook.sqlite"),
        workers: Annotated[int, typer.Option("--workers", "-j", min=1, help=_h("help.collect.workers"))] = 2,
        scheduler: Annotated[Optional[str], typer.Option("--scheduler", help=_h("help.collect.scheduler"))] = None,
        chapter: Annotated[Optional[list[str]], typer.Option("--chapter", help=_h("help.collect.chapter"))] = None,
        sandbox: Annotated[Sandbox, typer.Option("--sandbox", help=_h("help.collect.sandbox"))] = Sandbox.auto,
        batch_size: Annotated[Optional[int], typer.Option("--batch-size", min=1, help=_h("help.collect.batch_size"))] = None,
        regrade: Annotated[bool, typer.Option("--regrade", help=_h("help.collect.regrade"))] = False,
        student: Annotated[Optional[list[str]], typer.Option("--student", help=_h("help.collect.student"))] = None,
        gradescope: Annotated[bool, typer.Option("--gradescope", help=_h("help.collect.gradescope"))] = False,
        canvas: Annotated[bool, typer.Option("--canvas", help=_h("help.collect.canvas"))] = False,
        allow_weak_isolation: Annotated[
            bool, typer.Option("--allow-weak-isolation", help=_h("help.collect.allow_weak_isolation"))
        ] = False,
        lang: LangOpt = None,
    ) -> None:
        _lang(lang)
        from grader import reports
        from grader.boundary import sandbox as sandboxes
        from grader.grading.catalog import load_catalog
        from grader.instructor.collect import collect as run_collect
        from grader.instructor.collect import regrade as run_regrade
        from grader.reports.instructor import CollectProgress, render_collect
        from grader.util.errors import UsageError

        chapters = [load_catalog().chapter(c).id for c in chapter] if chapter else None
        if scheduler is None and not allow_weak_isolation and sandboxes.strength(sandbox.value) == "weak":
            raise UsageError(
                "No sandbox can be made on this machine (bubblewrap is not usable, the kernel gives no "
                f"user or mount namespaces, and a chroot jail needs "
                f"{sandboxes.jail_missing() or 'root with CAP_SYS_CHROOT, CAP_SETUID and CAP_SETGID'}), so submissions "
                "could read each other and the hidden tests. "
                "Install bubblewrap, or pass --allow-weak-isolation to grade anyway."
            )
        out = reports.console()
        if gradescope and canvas:
            raise UsageError("--gradescope and --canvas are two layouts: collect each with its own command.")
        if regrade:
            if gradescope or canvas:
                raise UsageError("--regrade grades the stored copies, with the times recorded when they were "
                                 "collected: --gradescope and --canvas go with new submissions.")
            if submissions:
                raise UsageError("--regrade grades the submissions already in the gradebook: pass no SUBMISSIONS "
                                 "(collect new ones without --regrade).")
            summary = run_regrade(_existing_db(db), chapters=chapters, students=student, workers=workers,
                                  scheduler=scheduler, sandbox=sandbox.value, batch_size=batch_size,
                                  progress=CollectProgress(out))
        else:
            if student:
                raise UsageError("--student only goes with --regrade (a student's id comes from the file name).")
            if not submissions:
                raise UsageError("Pass submission zips or folders (or a folder of them), or --regrade.")
            origins = None
            if gradescope:
                from grader.instructor.gradescope import collect_inputs

                submissions, origins = collect_inputs(submissions)
            summary = run_collect(
                submissions, db, workers=workers, scheduler=scheduler, chapters=chapters, sandbox=sandbox.value,
                batch_size=batch_size, progress=CollectProgress(out), quiz_chapters=chapters, origins=origins,
                canvas_downloads=canvas,
            )
        render_collect(summary, out)
        for line in _roster_lines(db):
            reports.plain(line)
        if summary.failed:
            raise typer.Exit(1)

    @app.command("export", help=_h("help.export"), rich_help_panel=INSTRUCTOR_PANEL)
    @guard
    def export_(
        db: DbOpt = Path("gradebook.sqlite"),
        fmt: Annotated[ExportFormat, typer.Option("--format", "-f", help=_h("help.export.format"))] = ExportFormat.csv,
        output: Annotated[Optional[Path], typer.Option("-o", "--output", help=_h("help.export.output"))] = None,
        canvas_columns: Annotated[Optional[Path], typer.Option(
            "--canvas-columns", help=_h("help.export.canvas_columns"))] = None,
        course: CourseOpt = None,
        raw: Annotated[bool, typer.Option("--raw", help=_h("help.export.raw"))] = False,
        lang: LangOpt = None,
    ) -> None:
        _lang(lang)
        import sys

        from grader import reports
        from grader.instructor.course import find_course
        from grader.instructor.export import export, read_column_map
        from grader.instructor.gradebook import Gradebook

        column_map = read_column_map(canvas_columns) if canvas_columns is not None else None
        course_file = find_course(_existing_db(db), course)
        notes: list[str] = []
        with Gradebook(_existing_db(db)) as gb:
            text, written = export(gb, fmt.value, output, column_map=column_map, notes=notes, course=course_file,
                                   raw=raw)
        for note in notes:
            reports.plain(note, file=sys.stderr)
        if text is not None:
            sys.stdout.write(text)
        elif fmt is ExportFormat.gradescope:
            reports.plain(f"Wrote {len(written)} results.json files under {output or Path('gradescope')}.",
                          file=sys.stderr)

    @app.command("gradescope-autograder", help=_h("help.gradescope_autograder"), rich_help_panel=INSTRUCTOR_PANEL)
    @guard
    def gradescope_autograder(
        out: Annotated[Path, typer.Argument(help=_h("help.gradescope_autograder.out"))],
        chapter: Annotated[Optional[list[str]], typer.Option("--chapter", help=_h("help.gradescope_autograder.chapter"))] = None,
        allow_weak_isolation: Annotated[bool, typer.Option(
            "--allow-weak-isolation", help=_h("help.gradescope_autograder.allow_weak_isolation"))
        ] = False,
        lang: LangOpt = None,
    ) -> None:
        _lang(lang)
        from grader import reports
        from grader.instructor.gradescope import build_autograder

        config = build_autograder(out, chapter, allow_weak_isolation=allow_weak_isolation)
        reports.plain(f"Wrote {out}: chapters {', '.join(config['chapters'])}; quizzes "
                      f"{', '.join(config['quizzes']) or 'none'}. Upload it as the assignment's autograder "
                      "(Configure Autograder, Zip file upload, Ubuntu base image).")

    @app.command(help=_h("help.report"), rich_help_panel=INSTRUCTOR_PANEL)
    @guard
    def report(
        db: DbOpt = Path("gradebook.sqlite"),
        html: Annotated[Optional[Path], typer.Option("--html", help=_h("help.report.html"))] = None,
        changes: Annotated[bool, typer.Option("--changes", help=_h("help.report.changes"))] = False,
        course: CourseOpt = None,
        similarity: Annotated[bool, typer.Option("--similarity", help=_h("help.report.similarity"))] = False,
        similarity_share: Annotated[float, typer.Option(
            "--similarity-share", help=_h("help.report.similarity_share"))] = 0.2,
        lang: LangOpt = None,
    ) -> None:
        _lang(lang)
        from grader import reports
        from grader.instructor.gradebook import Gradebook
        from grader.instructor.report import build_changes, build_report
        from grader.reports.instructor import render_changes, render_class_report

        if similarity:
            from grader.instructor.similarity import similarity_report
            from grader.reports.similarity import render_similarity_html, render_similarity_summary

            sim = similarity_report(_existing_db(db), similarity_share)
            page = html if html is not None else db.parent / "similarity.html"
            page.write_text(render_similarity_html(sim), encoding="utf-8")
            render_similarity_summary(sim, reports.console(), page)
            return
        if changes:
            with Gradebook(_existing_db(db)) as gb:
                render_changes(build_changes(gb), reports.console())
            return
        from grader.instructor.course import find_course

        course_file = find_course(_existing_db(db), course)
        with Gradebook(_existing_db(db)) as gb:
            rep = build_report(gb, course=course_file)
        render_class_report(rep, reports.console())
        for line in _roster_lines(db):
            reports.plain(line)
        if html is not None:
            from grader.reports.html import render_html

            html.write_text(render_html(rep), encoding="utf-8")
            reports.plain(f"HTML report written to {html}")
