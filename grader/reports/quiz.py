"""Quiz rendering: questions (plain prompt), per-question feedback, the end-of-quiz summary,
import/export reports. Part of the only package that imports rich."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from grader.i18n import t
from grader.quiz.bank import Bank
from grader.quiz.session import LETTERS, Presented, QuestionResult, SessionResult


def _m(lang: str, key: str, **kw: object) -> str:
    """Quiz messages live in the shared catalogue (grader/data/messages.toml) as ``quiz.<key>``."""
    return t(f"quiz.{key}", lang, **kw)


def render_intro(out: Console, bank: Bank, lang: str, seed: int, n: int) -> None:
    out.print(Text(_m(lang, "title", chapter=bank.chapter, title=bank.title_text(lang)), style="grade.title") + Text(f"  ({n})"))
    mode = "practice" if bank.has_keys else "graded_mode"
    out.print(Text(_m(lang, mode) + " · " + _m(lang, "seed", seed=seed), style="grade.dim"))
    out.print()


def render_question(out: Console, p: Presented, lang: str) -> None:
    q = p.question
    head = Text(f"[{p.number}/{p.total}] ", style="grade.hint") + Text(q.prompt(lang), style="grade.title")
    if q.type == "multiple":
        head += Text(" " + _m(lang, "multi"), style="grade.dim")
    out.print(head)
    grid = Table.grid(padding=(0, 1))
    grid.add_column(no_wrap=True)
    grid.add_column()
    for i, o in enumerate(p.options):
        grid.add_row(Text(f"  {LETTERS[i]}."), Text(o.label(lang)))  # wrapped lines stay under the text
    out.print(grid)
    key = "prompt_multi" if q.type == "multiple" else "prompt_single"
    out.print(Text(_m(lang, key, letters="/".join(p.letters))), end="")


def render_echo(out: Console, p: Presented, lang: str, ids: list[str]) -> None:
    """After an arrow-key answer: one line saying what was chosen."""
    options = [(i, p.question.option(i)) for i in ids]
    chosen = ", ".join(f"{p.letter_of(i)}. {o.label(lang)}" for i, o in options if o is not None)
    out.print(Text(f"[{p.number}/{p.total}] ", style="grade.hint") + Text(p.question.prompt(lang)) + Text(f"  → {chosen}", style="grade.title"))


def render_problem(out: Console, message: str) -> None:
    out.print(Text(message, style="grade.fail"))


def render_feedback(out: Console, r: QuestionResult, lang: str) -> None:
    """Practice mode, right after a question: right/wrong, the key, feedback on picks, explanation."""
    q, p = r.presented.question, r.presented
    if r.score is None:
        return
    if r.score >= q.points - 1e-9:
        verdict = Text(_m(lang, "right"), style="grade.pass")
    elif r.score > 0:
        verdict = Text(_m(lang, "partial", score=r.score, points=q.points), style="grade.todo")
    else:
        verdict = Text(_m(lang, "wrong"), style="grade.fail")
    key = ",".join(sorted(p.letter_of(i) for i in q.correct_ids))
    out.print(Text("  ") + verdict + Text("  " + _m(lang, "answer", letters=key), style="grade.dim"))
    for oid in r.selected:
        o = q.option(oid)
        if o is not None and o.feedback_text(lang):
            mark = "✓" if o.correct else "✗"
            line = Text(f"{mark} {p.letter_of(oid)}: ", style="grade.pass" if o.correct else "grade.fail") + Text(o.feedback_text(lang))
            out.print(Padding(line, (0, 0, 0, 2), expand=False))
    if q.explanation_text(lang):
        out.print(Padding(Text(q.explanation_text(lang), style="grade.hint"), (0, 0, 0, 2), expand=False))
    out.print()


def render_summary(
    out: Console,
    bank: Bank,
    result: SessionResult,
    lang: str,
    *,
    saved_to: str | None,
    moved_aside: str | None = None,
) -> None:
    practice = bank.has_keys
    if result.stopped:
        out.print(Text(_m(lang, "stopped", n=len(result.unanswered)), style="grade.todo"))
    if practice:
        table = Table(title=_m(lang, "title", chapter=bank.chapter, title=bank.title_text(lang)), show_edge=False, pad_edge=False)
        table.add_column("#", justify="right")
        table.add_column(_m(lang, "col_question"))
        table.add_column(_m(lang, "col_points"), justify="right")
        table.add_column("")
        for r in result.results:
            q = r.presented.question
            score = r.score or 0.0
            style = "grade.pass" if score >= q.points - 1e-9 else ("grade.todo" if score > 0 else "grade.fail")
            mark = "✓" if style == "grade.pass" else ("◐" if score > 0 else "✗")
            table.add_row(str(r.presented.number), escape(_short(q.prompt(lang))), f"{score:g}/{q.points:g}", Text(mark, style=style))
        for p in result.unanswered:
            table.add_row(str(p.number), escape(_short(p.question.prompt(lang))), f"0/{p.question.points:g}", Text(_m(lang, "unanswered"), style="grade.dim"))
        out.print(table)
        score, max_score = result.attempt.get("score") or 0.0, result.attempt.get("max_score") or 0.0
        style = "grade.pass" if score >= max_score else ("grade.fail" if score == 0 else "grade.todo")
        out.print(Text(_m(lang, "score", score=score, max=max_score), style=style))
        missed = result.missed
        if missed:
            out.print(Text(_m(lang, "retry", n=len(missed), chapter=bank.chapter), style="grade.hint"))
        elif result.results:
            out.print(Text(_m(lang, "all_right"), style="grade.pass"))
    else:
        out.print(Text(_m(lang, "graded"), style="grade.todo"))
    if moved_aside:
        out.print(Text(f"The old responses file could not be read; it was kept as {moved_aside}.", style="grade.fail"))
    if saved_to:
        out.print(Text(_m(lang, "saved", path=saved_to), style="grade.dim"))
    else:
        out.print(Text(_m(lang, "not_saved"), style="grade.dim"))


def _short(text: str, width: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def render_transfer(out: Console, what: str, done: list[str], skipped: list[str], notes: list[str], lang: str = "en") -> None:
    """Report of an import or export: what was written, what was skipped and why (the reasons
    come from grader.quiz.formats, in English)."""
    for line in done:
        out.print(Text(line, style="grade.pass"))
    if skipped:
        out.print(Text(_m(lang, "transfer.skipped", n=len(skipped), what=what), style="grade.todo"))
        for s in skipped:
            out.print(Text(f"  - {s}"))
    else:
        out.print(Text(_m(lang, "transfer.nothing_skipped"), style="grade.dim"))
    for n in notes:
        out.print(Text(_m(lang, "transfer.note", note=n), style="grade.hint"))
