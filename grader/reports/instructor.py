"""Terminal output of the instructor commands: collect's progress bar and summary, the
class report, release/submit/export confirmations."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

if TYPE_CHECKING:
    from grader.instructor.collect import CollectSummary
    from grader.instructor.report import Change, ClassReport


class CollectProgress:
    """collect's ``Progress`` as a rich progress bar (submissions graded / to grade)."""

    def __init__(self, out: Console) -> None:
        self.out = out
        self.bar = Progress(
            TextColumn("[bold]grading"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("submissions"),
            TimeElapsedColumn(),
            TextColumn("[grade.dim]{task.description}"),
            console=out,
            transient=False,
        )
        self.task: Any = None

    def start(self, total: int) -> None:
        self.bar.start()
        self.task = self.bar.add_task("", total=total)

    def advance(self, n: int, text: str = "") -> None:
        if self.task is not None:
            self.bar.update(self.task, advance=n, description=text[:30])

    def stop(self) -> None:
        self.bar.stop()


def render_collect(summary: CollectSummary, out: Console) -> None:
    if summary.regrade:
        line = Text(f"{summary.graded} regraded", style="grade.pass")
        line.append(f" of {summary.found} (grade report --changes lists what moved)")
    else:
        # counted per (submission, chapter): a known submission still gets the chapters it lacks
        # a chapter the submission holds no file of is recorded, not graded: counted apart
        line = Text(f"{summary.submission_chapters - summary.not_submitted} submission-chapters graded",
                    style="grade.pass")
        line.append(f" ({summary.graded} submissions)"
                    + (f" · {summary.not_submitted} not submitted (no files)" if summary.not_submitted else "")
                    + f" · {summary.chapters_present} already in the gradebook · ")
        line.append(f"{len(summary.rejected)} rejected", style="grade.fail" if summary.rejected else "")
    if summary.failed:
        line.append(f" · {len(summary.failed)} failed to grade (the next run retries them)", style="grade.error")
    line.append(f" · {summary.elapsed:.1f} s", style="grade.dim")
    if summary.submission_chapters:
        line.append(f" · {summary.rate:.1f} submission-chapters/s", style="grade.dim")
    out.print(line)
    for source, reason in summary.rejected:
        out.print(Text("  rejected ", style="grade.fail") + Text(f"{source}: {reason}"))
    for batch, reason in summary.failed:
        out.print(Text("  failed ", style="grade.error") + Text(f"{batch}: {reason}"))
    for note in summary.notes:
        out.print(Text("  note: ", style="grade.todo") + Text(note))
    if summary.isolation:
        out.print(Text(f"isolation ({summary.executor}): " + ", ".join(summary.isolation), style="grade.dim"))


def _pct(x: float) -> str:
    return f"{100 * x:.0f}%"


def render_class_report(report: ClassReport, out: Console, top_tests: int = 15) -> None:
    out.print(Text(f"{report.students} students · {report.submissions} submissions · "
                   f"{len(report.rejected)} rejected", style="grade.title"))
    if report.chapters or report.quizzes:
        t = Table(title="Scores (each student's newest graded submission)", title_justify="left")
        for col in ("", "n", "mean", "median", "full marks", "not graded", "not submitted", "distribution"):
            t.add_column(col, justify="left" if col in ("", "distribution") else "right")
        for ch in [*report.chapters, *report.quizzes]:
            if not ch.scores:
                t.add_row(ch.chapter, "0", "not graded", "", "", str(ch.not_graded),
                          str(ch.not_submitted or ""), "")
                continue
            t.add_row(ch.chapter, str(len(ch.scores)), f"{ch.mean:.1f}/{ch.max_score:g}", f"{ch.median:.1f}",
                      str(ch.full_marks), str(ch.not_graded or ""), str(ch.not_submitted or ""),
                      _spark(ch.histogram()))
        out.print(t)
    hardest = sorted(report.tests, key=lambda s: (s.pass_rate, s.chapter, s.name))[:top_tests]
    if hardest:
        t = Table(title="Lowest pass rates", title_justify="left")
        for col in ("test", "visibility", "pass rate", "statuses"):
            t.add_column(col)
        for s in hardest:
            statuses = ", ".join(f"{k} {v}" for k, v in sorted(s.statuses.items()) if k != "passed")
            t.add_row(f"{s.exercise}: {s.name}", s.visibility, _pct(s.pass_rate), statuses)
        out.print(t)
    if report.items:
        t = Table(title="Quiz items (flag: discrimination < 0.15, from 20 answers up)", title_justify="left")
        for col in ("chapter", "question", "n", "difficulty", "discrimination", ""):
            t.add_column(col)
        for it in report.items:
            disc = "n/a" if it.discrimination is None else f"{it.discrimination:+.2f}"
            mark = (Text("too few answers", style="grade.dim") if it.too_few
                    else Text("flag", style="grade.fail") if it.flagged else "")
            t.add_row(it.chapter, it.question, str(it.n), f"{it.difficulty:.2f}", disc, mark)
        out.print(t)
    if report.failing:
        t = Table(title="Most common failing messages (students who got each)", title_justify="left")
        for col in ("students", "exercise", "status", "message"):
            t.add_column(col)
        for m in report.failing:
            t.add_row(str(m.count), m.exercise, m.status, Text(m.message))
        out.print(t)
    if report.students_table:
        lowest = sorted(report.students_table, key=lambda r: (r.total, r.student))[:top_tests]
        t = Table(title=f"Lowest totals ({len(lowest)} of {len(report.students_table)} students; "
                        "--html has every student)", title_justify="left")
        t.add_column("student")
        t.add_column("total", justify="right")
        t.add_column("tests not passed", justify="right")
        t.add_column("not graded")
        t.add_column("not submitted")
        for r in lowest:
            missing = ", ".join(c for c, v in r.chapters.items() if v is None)
            t.add_row(Text(r.student), f"{r.total:.1f}/{r.max_total:g}", str(len(r.failures)), missing,
                      ", ".join(r.not_submitted))
        out.print(t)
    if report.late_policy:
        from grader.reports.late import render_late_terminal

        render_late_terminal(report, out)
    for student, problem in report.problems:
        out.print(Text("problem ", style="grade.todo") + Text(f"{student}: {problem}"))
    for student, source, reason in report.rejected:
        out.print(Text("rejected ", style="grade.fail") + Text(f"{student} ({source}): {reason}"))
    if report.isolation:
        out.print(Text("isolation: " + ", ".join(e.removeprefix("isolation: ") for e in report.isolation),
                       style="grade.dim"))


def _spark(counts: list[int]) -> str:
    blocks = " ▁▂▃▄▅▆▇█"
    top = max(counts) if counts else 0
    if not top:
        return ""
    return "".join(blocks[round(c / top * 8)] for c in counts)


def render_changes(changes: list[Change], out: Console) -> None:
    """``grade report --changes``: per regrade run, per student and per test, what moved."""
    if not changes:
        out.print(Text("No regrade has changed anything (grade collect --regrade --db ... regrades).",
                       style="grade.dim"))
        return
    runs: dict[int, list[Change]] = {}
    for c in changes:
        runs.setdefault(c.run_id, []).append(c)
    for run_id, items in runs.items():
        drops = sum(c.drop for c in items)
        out.print(Text(f"Regrade run {run_id} ({items[0].when}): {len(items)} changes, {drops} drops",
                       style="grade.title"))
        t = Table(show_edge=False)
        t.add_column("", no_wrap=True)
        t.add_column("student", no_wrap=True)
        t.add_column("what")
        t.add_column("before → after")
        for c in items:
            what = f"{c.chapter} {c.test}" if c.test in ("chapter total", "quiz") else c.test
            t.add_row(Text("DROP", style="grade.fail") if c.drop else "", Text(c.student), Text(what),
                      f"{c.before} → {c.after}")
        out.print(t)
