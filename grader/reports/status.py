"""``grade status`` and the watch screen's header: progress across chapters."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table
from rich.text import Text

from grader.grading.catalog import Catalog
from grader.grading.progress import ChapterProgress, NextStep, Status, describe_next
from grader.util.i18n import t

BAR_WIDTH = 10


def bar(fraction: float, width: int = BAR_WIDTH) -> Text:
    filled = round(max(0.0, min(1.0, fraction)) * width)
    style = "grade.pass" if filled == width else ("grade.todo" if filled == 0 else "grade.fail")
    return Text("█" * filled, style=style) + Text("░" * (width - filled), style="grade.dim")


def _quiz_cell(c: ChapterProgress, lang: str) -> Text:
    q = c.quiz
    if q is None:
        return Text(t("status.quiz.none", lang) if c.has_quiz else "—", style="grade.dim")
    parts = []
    if q.best_score is not None and q.best_max is not None:
        parts.append(t("status.quiz.best", lang, score=f"{round(q.best_score, 2):g}", max=f"{round(q.best_max, 2):g}"))
    if q.submitted:
        parts.append(t("status.quiz.submitted", lang))
    if not parts:
        parts.append(t("status.quiz.attempts", lang, n=q.attempts))
    return Text(" · ".join(parts))


def render_status(status: Status, catalog: Catalog, out: Console, lang: str = "en") -> None:
    table = Table(title=t("status.title", lang), title_style="grade.title", show_edge=False, pad_edge=False)
    table.add_column(t("status.col.chapter", lang), no_wrap=True, overflow="ellipsis", max_width=26)
    table.add_column(t("status.col.progress", lang), no_wrap=True)
    table.add_column(Text("✓", style="grade.pass"), justify="right", style="grade.pass")
    table.add_column(Text("✗", style="grade.fail"), justify="right", style="grade.fail")
    table.add_column(Text("○", style="grade.todo"), justify="right", style="grade.todo")
    table.add_column(t("status.col.quiz", lang), no_wrap=True, overflow="ellipsis")
    for c in status.chapters:
        name = Text(c.chapter.id, style="grade.title") + Text(f" {c.chapter.title_text(lang)}", style="grade.dim")
        if not c.exercises:
            progress = bar(c.fraction) + Text(" " + t("status.quiz_only", lang), style="grade.dim")
        elif c.checked is None:
            progress = bar(0.0) + Text(" " + t("status.not_checked", lang), style="grade.dim")
        else:
            progress = bar(c.fraction) + Text(f" {c.count('passed')}/{len(c.exercises)}")
        counts = [str(c.count(s)) for s in ("passed", "attempted", "not_started")] if c.exercises else ["", "", ""]
        table.add_row(name, progress, *counts, _quiz_cell(c, lang))
    out.print(table)
    out.print(Text(t("status.legend", lang), style="grade.dim"))
    out.print()
    if not status.checked_any:
        out.print(Text(t("status.nothing_yet", lang), style="grade.todo"))
    out.print(Text(t("status.next", lang), style="grade.title") + next_text(status.next, catalog, lang))
    out.print(Text(t("status.advisory", lang), style="grade.dim"))


def next_text(step: NextStep, catalog: Catalog, lang: str) -> Text:
    """One line saying what to do next, with the command in the hint colour."""
    words, command = describe_next(step, catalog, lang)
    return Text(words) + (Text(" ") + Text(command, style="grade.hint") if command else Text())
