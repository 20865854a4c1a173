"""Quiz rendering: questions (plain prompt), per-question feedback, the end-of-quiz summary,
import/export reports. Part of the only package that imports rich."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from grader.quiz.bank import Bank
from grader.quiz.scoring import points
from grader.quiz.session import LETTERS, Presented, QuestionResult, SessionResult
from grader.util.i18n import t


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
    """Practice mode, right after a question: right/wrong, the right option(s) in full (the
    ones a multiple-answer pick missed are marked), feedback on picks, the explanation."""
    q, p = r.presented.question, r.presented
    if r.score is None:
        return
    if r.score >= q.points - 1e-9:
        verdict = Text(_m(lang, "right"), style="grade.pass")
    elif r.score > 0:
        verdict = Text(_m(lang, "partial", score=points(r.score), points=points(q.points)), style="grade.todo")
    else:
        verdict = Text(_m(lang, "wrong"), style="grade.fail")
    right = sorted((o for o in q.options if o.correct), key=lambda o: p.letter_of(o.id))
    picked = set(r.selected)
    if len(right) == 1:
        o = right[0]
        out.print(Text("  ") + verdict)
        key = Text(_m(lang, "key.one", letter=p.letter_of(o.id), text=o.label(lang)), style="grade.dim")
        out.print(Padding(key, (0, 0, 0, 2), expand=False))
    else:
        out.print(Text("  ") + verdict + Text("  " + _m(lang, "key.many"), style="grade.dim"))
        for o in right:
            line = Text(f"{p.letter_of(o.id)}. {o.label(lang)}")
            if o.id not in picked:
                line += Text("  " + _m(lang, "key.missed"), style="grade.todo")
            out.print(Padding(line, (0, 0, 0, 4), expand=False))
        extra = sorted(p.letter_of(i) for i in picked if (o2 := q.option(i)) is not None and not o2.correct)
        if extra:
            out.print(Padding(Text(_m(lang, "key.ticked_wrong", options=", ".join(extra)), style="grade.fail"),
                              (0, 0, 0, 4), expand=False))
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
        done = result.earlier + len(result.results)
        out.print(Text(_m(lang, "paused", n=len(result.unanswered), done=done, chapter=bank.chapter), style="grade.todo"))
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
            table.add_row(str(r.presented.number), escape(_short(q.prompt(lang))),
                          f"{points(score):g}/{points(q.points):g}", Text(mark, style=style))
        if not result.stopped:  # paused: the questions left are still to come, not missed
            for p in result.unanswered:
                table.add_row(str(p.number), escape(_short(p.question.prompt(lang))), f"0/{points(p.question.points):g}",
                              Text(_m(lang, "unanswered"), style="grade.dim"))
        if result.results:
            out.print(table)
        if result.stopped:
            if result.results:
                so_far = sum(r.score or 0.0 for r in result.results)
                of = sum(r.presented.question.points for r in result.results)
                out.print(Text(_m(lang, "score_so_far", score=points(so_far), max=points(of), n=len(result.results)),
                               style="grade.dim"))
        else:
            score, max_score = result.attempt.get("score") or 0.0, result.attempt.get("max_score") or 0.0
            style = "grade.pass" if score >= max_score else ("grade.fail" if score == 0 else "grade.todo")
            out.print(Text(_m(lang, "score", score=points(score), max=points(max_score)), style=style))
        missed = [] if result.stopped else result.missed
        if missed:
            out.print(Text(_m(lang, "retry", n=len(missed), chapter=bank.chapter), style="grade.hint"))
        elif result.results and not result.stopped:
            out.print(Text(_m(lang, "all_right"), style="grade.pass"))
    else:
        out.print(Text(_m(lang, "graded"), style="grade.todo"))
    if moved_aside:
        out.print(Text(_m(lang, "moved_aside", path=moved_aside), style="grade.fail"))
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
