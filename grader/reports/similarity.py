"""``grade report --similarity``: the terminal summary and one self-contained HTML page.

The page has no script and a Content-Security-Policy that forbids loading anything; each
pair's side-by-side view is a section shown by ``:target`` (a link to ``#pair-N``), with the
matching regions marked and numbered alike on both sides. Everything from a submission
(code, student ids) is HTML-escaped, and control, zero-width and bidirectional characters in
code are shown as U+FFFD (one character for one, so the columns stay right).
"""

from __future__ import annotations

import re
from html import escape
from typing import TYPE_CHECKING

from rich.console import Console
from rich.table import Table
from rich.text import Text

if TYPE_CHECKING:
    from grader.instructor.similarity import Pair, SimilarityReport

MAX_VIEW_LINES = 400  # lines of one side of a view
MAX_LINE_CHARS = 400  # characters of one line shown
MAX_VIEWS = 300  # side-by-side views in one page
SUMMARY_PAIRS = 10  # student pairs in the terminal summary

_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]")

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px auto;max-width:1200px;color:#212121}
h1{font-size:1.6em;margin-bottom:4px} h2{font-size:1.2em;margin-top:32px;border-bottom:1px solid #ddd}
.meta{color:#616161} .note{background:#fff8e1;border:1px solid #ffe082;border-radius:6px;padding:8px 12px}
table{border-collapse:collapse;font-size:.9em} td,th{padding:3px 8px;border-bottom:1px solid #eee;text-align:left}
td.num{text-align:right;font-variant-numeric:tabular-nums} a{color:#1565c0}
.pair{display:none;border:1px solid #e0e0e0;border-radius:6px;padding:8px 16px;margin:12px 0}
.pair:target{display:block}
.sides{display:flex;gap:12px} .side{flex:1;min-width:0;overflow-x:auto}
.code{font-family:ui-monospace,monospace;font-size:.8em;white-space:pre;line-height:1.35}
.ln{color:#9e9e9e;display:inline-block;width:3.5em;text-align:right;margin-right:8px;user-select:none}
mark{border-radius:2px;padding:0} mark.m0{background:#ffcdd2} mark.m1{background:#c8e6c9}
mark.m2{background:#bbdefb} mark.m3{background:#ffe0b2} mark.m4{background:#e1bee7} mark.m5{background:#b2ebf2}
"""


def _safe(text: str) -> str:
    return _UNSAFE.sub("\ufffd", text)


def _segments(pair_side: list[tuple[int, int, int]], tokens: list, first: int, last: int
              ) -> dict[int, list[tuple[int, int, int]]]:
    """line -> [(start column, end column or -1 for the line's end, match number)]."""
    out: dict[int, list[tuple[int, int, int]]] = {}
    for s, e, n in pair_side:
        if s >= len(tokens):
            continue
        (l1, c1), (l2, c2) = tokens[s].start, tokens[min(e, len(tokens)) - 1].end
        for line in range(max(l1, first), min(l2, last) + 1):
            out.setdefault(line, []).append((c1 if line == l1 else 0, c2 if line == l2 else -1, n))
    return out


def _code(pair_side: list[tuple[int, int, int]], doc: object) -> str:
    unit = doc.unit  # type: ignore[attr-defined]
    lines: list[str] = doc.lines  # type: ignore[attr-defined]
    first, last = unit.first_line, min(unit.last_line, unit.first_line + MAX_VIEW_LINES - 1)
    marks = _segments(pair_side, unit.tokens, first, last)
    out = []
    for number in range(first, last + 1):
        raw = lines[number - 1] if number - 1 < len(lines) else ""
        raw = raw.rstrip("\r\n")
        cut = len(raw) > MAX_LINE_CHARS
        text = _safe(raw[:MAX_LINE_CHARS])
        pieces, at = [], 0
        for s, e, n in sorted(marks.get(number, [])):
            s, e = max(s, at), len(text) if e < 0 else min(e, len(text))
            if e <= s:
                continue
            pieces.append(escape(text[at:s]))
            pieces.append(f'<mark class="m{(n - 1) % 6 if n else 0}" title="match {n}">{escape(text[s:e])}</mark>')
            at = e
        pieces.append(escape(text[at:]))
        if cut:
            pieces.append(' <span class="meta">[… line cut]</span>')
        out.append(f'<span class="ln">{number}</span>{"".join(pieces)}')
    if unit.last_line > last:
        out.append(f'<span class="meta">[… {unit.last_line - last} more lines not shown]</span>')
    return '<div class="code">' + "\n".join(out) + "</div>"


def _pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:.0f}%" if whole else "–"


def render_similarity_html(rep: SimilarityReport) -> str:
    views: list[tuple[str, Pair]] = []
    anchors: dict[int, str] = {}
    for ex in rep.exercises:
        for p in ex.pairs:
            if len(views) < MAX_VIEWS:
                anchors[id(p)] = f"pair-{len(views) + 1}"
                views.append((anchors[id(p)], p))

    def link(p: Pair, label: str) -> str:
        anchor = anchors.get(id(p))
        return f'<a href="#{anchor}">{escape(label)}</a>' if anchor else escape(label)

    K, WINDOW, MIN_TOKENS = rep.k, rep.window, rep.min_tokens  # noqa: N806
    parts = [
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">",
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">",
        "<title>dl-grade similarity report</title><style>", CSS, "</style></head><body>",
        "<h1>Similarity between submissions</h1>",
        f'<p class="meta">{rep.students} students (each one\'s counted submission) · per exercise, code '
        f"normalised (comments, docstrings and annotations dropped, names and literals abstracted), fingerprints of "
        f"{K} tokens winnowed over windows of {WINDOW}; reference code removed "
        f"({escape(', '.join(rep.references) or 'none found')}); fragments in more than "
        f"{rep.share:.0%} of the class removed as common; pairs sharing fewer than {MIN_TOKENS} rare tokens "
        "not listed.</p>",
        '<p class="note">This is evidence for a person to read, not a finding and never a grade change: '
        "students can converge on the same code, and a pair here may have worked together with "
        "permission. Open a pair to compare the code side by side.</p>",
    ]
    if not rep.references:
        parts.append('<p class="note">No reference code (exercises/, solutions/) was found: the book\'s '
                     "code is not discounted, so every student who kept it looks alike.</p>")
    ranked = rep.ranked_pairs()
    parts.append("<h2>Pairs over all exercises</h2>")
    if not ranked:
        parts.append('<p class="meta">No pair shares enough rare code to list.</p>')
    else:
        parts.append("<table><tr><th>#</th><th>student</th><th>student</th><th>rare tokens shared</th>"
                     "<th>exercises (side by side)</th></tr>")
        for i, (a, b, total, ps) in enumerate(ranked, 1):
            exs = ", ".join(link(p, f"{p.exercise} ({p.shared})") for p in sorted(ps, key=lambda p: -p.shared))
            parts.append(f'<tr><td class="num">{i}</td><td>{escape(a)}</td><td>{escape(b)}</td>'
                         f'<td class="num">{total}</td><td>{exs}</td></tr>')
        parts.append("</table>")
    parts.append("<h2>Per exercise</h2>")
    for ex in rep.exercises:
        if not ex.pairs:
            continue
        parts.append(f"<h3>{escape(ex.exercise)}</h3><p class=\"meta\">{ex.students} students compared; a "
                     f"fragment more than {ex.common_limit} of them wrote was dropped as common"
                     + (f"; {ex.more} more pairs above the listing threshold not shown" if ex.more else "")
                     + "</p>")
        parts.append("<table><tr><th>#</th><th>student</th><th>student</th><th>rare tokens shared</th>"
                     "<th>of the first's own code</th><th>of the second's</th><th></th></tr>")
        for i, p in enumerate(ex.pairs, 1):
            parts.append(f'<tr><td class="num">{i}</td><td>{escape(p.a)}</td><td>{escape(p.b)}</td>'
                         f'<td class="num">{p.shared}</td><td class="num">{_pct(p.cover_a, p.own_a)}</td>'
                         f'<td class="num">{_pct(p.cover_b, p.own_b)}</td><td>{link(p, "side by side")}</td></tr>')
        parts.append("</table>")
    if rep.notes:
        parts.append("<h2>Files read in part</h2><ul>")
        parts += [f"<li>{escape(s)}: {escape(_safe(n))}</li>" for s, n in rep.notes]
        parts.append("</ul>")
    for anchor, p in views:
        parts.append(
            f'<section class="pair" id="{anchor}"><h3>{escape(p.exercise)}: {escape(p.a)} and {escape(p.b)} '
            f'({p.shared} rare tokens shared)</h3><p class="meta">Marked: the code both share that is neither '
            "in the reference code nor common in the class; the same number (hover) marks the same match on "
            'both sides. <a href="#">close</a></p><div class="sides">'
            f'<div class="side"><h4>{escape(p.a)}</h4>{_code(p.spans_a, p.doc_a)}</div>'
            f'<div class="side"><h4>{escape(p.b)}</h4>{_code(p.spans_b, p.doc_b)}</div></div></section>')
    parts.append("</body></html>")
    return "\n".join(parts)


def render_similarity_summary(rep: SimilarityReport, out: Console, html_path: object = None) -> None:
    ranked = rep.ranked_pairs()
    out.print(Text(f"Similarity: {rep.students} students, {sum(1 for e in rep.exercises if e.students)} exercises "
                   f"compared; fragments in more than {rep.share:.0%} of the class and reference code "
                   f"({', '.join(rep.references) or 'none found'}) discounted.", style="grade.title"))
    if not rep.references:
        out.print(Text("No exercises/ or solutions/ found: the book's code is not discounted.", style="grade.fail"))
    if not ranked:
        out.print(Text("No pair of students shares enough rare code to list.", style="grade.dim"))
    else:
        t = Table(show_edge=False)
        t.add_column("#", justify="right")
        t.add_column("student", no_wrap=True)
        t.add_column("student", no_wrap=True)
        t.add_column("rare tokens", justify="right")
        t.add_column("exercises (most shared first)")
        for i, (a, b, total, ps) in enumerate(ranked[:SUMMARY_PAIRS], 1):
            exs = ", ".join(f"{p.exercise} {p.shared}" for p in sorted(ps, key=lambda p: -p.shared)[:4])
            more = f" +{len(ps) - 4}" if len(ps) > 4 else ""
            t.add_row(str(i), Text(a), Text(b), str(total), Text(exs + more))
        out.print(t)
        if len(ranked) > SUMMARY_PAIRS:
            out.print(Text(f"… and {len(ranked) - SUMMARY_PAIRS} more pairs in the HTML report.", style="grade.dim"))
    for student, note in rep.notes[:10]:
        out.print(Text(f"note: {student}: {_safe(note)}", style="grade.dim"))
    out.print(Text("Evidence for a person to read, never a grade change.", style="grade.dim"))
    if html_path is not None:
        out.print(Text(f"Side-by-side views: {html_path}"))
