"""``grade report --html``: one self-contained page (no scripts, no network) with inline
SVG plots drawn here: score histograms per chapter and quiz, pass rate per test, quiz
item difficulty against discrimination, and the most common failing messages.

Every text that came from a submission (messages, student ids) is HTML-escaped; a
Content-Security-Policy forbids loading anything, so the page works offline.
"""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from grader.instructor.report import ChapterStats, ClassReport, ItemStats, StudentRow, TestStats

PASS, FAIL, MUTED, INK, FLAG = "#2e7d32", "#c62828", "#9e9e9e", "#212121", "#ef6c00"

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px auto;max-width:1100px;color:#212121}
h1{font-size:1.6em;margin-bottom:4px} h2{font-size:1.2em;margin-top:32px;border-bottom:1px solid #ddd}
.meta{color:#616161} .grid{display:flex;flex-wrap:wrap;gap:16px}
.card{border:1px solid #e0e0e0;border-radius:6px;padding:8px 12px;background:#fafafa}
table{border-collapse:collapse;font-size:.9em} td,th{padding:3px 8px;border-bottom:1px solid #eee;text-align:left}
td.num{text-align:right;font-variant-numeric:tabular-nums} .flag{color:#ef6c00;font-weight:bold}
svg text{font-family:system-ui,sans-serif}
.sorted{display:none} .sorted:target{display:block} #by-total:target ~ #by-name{display:none}
.student{display:none;border:1px solid #e0e0e0;border-radius:6px;padding:8px 16px;margin:12px 0}
.student:target{display:block} .ng{color:#9e9e9e;font-style:italic} a{color:#1565c0}
.msg{white-space:pre-wrap;font-family:ui-monospace,monospace;font-size:.85em}
tr.late td{background:#fff3e0}
"""


def _histogram(stats: ChapterStats, width: int = 320, height: int = 190) -> str:
    counts = stats.histogram(10)
    top = max(counts) or 1
    left, right, bottom, plot_h = 30, 20, 30, height - 70  # room for the title and the count labels
    bar_w = (width - left - right) / 10
    parts = [f'<svg width="{width}" height="{height}" role="img" aria-label="{escape(stats.chapter)} histogram">']
    parts.append(f'<text x="{width / 2}" y="14" text-anchor="middle" font-size="13" font-weight="bold">'
                 f'{escape(stats.chapter)} (n={len(stats.scores)}, max {stats.max_score:g})</text>')
    base = height - bottom
    parts.append(f'<line x1="{left}" y1="{base}" x2="{width - right}" y2="{base}" stroke="{MUTED}"/>')
    for i, c in enumerate(counts):
        h = plot_h * c / top
        x = left + i * bar_w
        color = PASS if i == 9 else ("#1565c0" if i >= 5 else FAIL)
        parts.append(f'<rect x="{x + 1:.1f}" y="{base - h:.1f}" width="{bar_w - 2:.1f}" height="{h:.1f}" '
                     f'fill="{color}"><title>{i * 10}-{i * 10 + 10}%: {c}</title></rect>')
        if c:
            parts.append(f'<text x="{x + bar_w / 2:.1f}" y="{base - h - 3:.1f}" font-size="10" '
                         f'text-anchor="middle">{c}</text>')
    for i in (0, 5, 10):
        x = left + i * bar_w
        parts.append(f'<text x="{x:.1f}" y="{base + 14}" font-size="10" text-anchor="middle">{i * 10}%</text>')
    parts.append(f'<text x="{left - 6}" y="{base}" font-size="10" text-anchor="end">0</text>')
    parts.append(f'<text x="{left - 6}" y="{base - plot_h + 8}" font-size="10" text-anchor="end">{top}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _pass_rates(tests: list[TestStats], width: int = 1000) -> str:
    row_h, label_w, left_pad = 18, 430, 6
    height = row_h * len(tests) + 30
    bar_max = width - label_w - 60
    parts = [f'<svg width="{width}" height="{height}" role="img" aria-label="pass rate per test">']
    for i, t in enumerate(tests):
        y = 20 + i * row_h
        label = f"{t.exercise}: {t.name}" + (" (hidden)" if t.visibility == "hidden" else "")
        if len(label) > 62:
            label = label[:60] + "…"
        w = bar_max * t.pass_rate
        color = PASS if t.pass_rate >= 0.8 else ("#1565c0" if t.pass_rate >= 0.5 else FAIL)
        parts.append(f'<text x="{label_w - left_pad}" y="{y + 12}" font-size="11" text-anchor="end">'
                     f'{escape(label)}</text>')
        parts.append(f'<rect x="{label_w}" y="{y + 2}" width="{bar_max}" height="{row_h - 5}" fill="#eeeeee"/>')
        parts.append(f'<rect x="{label_w}" y="{y + 2}" width="{w:.1f}" height="{row_h - 5}" fill="{color}">'
                     f'<title>{t.passed}/{t.n}</title></rect>')
        parts.append(f'<text x="{label_w + bar_max + 6}" y="{y + 12}" font-size="11">{100 * t.pass_rate:.0f}%</text>')
    parts.append("</svg>")
    return "".join(parts)


def _items_plot(items: list[ItemStats], width: int = 520, height: int = 360) -> str:
    left, right, top, bottom = 50, 20, 20, 45
    pw, ph = width - left - right, height - top - bottom

    def sx(d: float) -> float:
        return left + pw * d

    def sy(r: float) -> float:  # discrimination from -1 to 1
        return top + ph * (1 - (r + 1) / 2)

    parts = [f'<svg width="{width}" height="{height}" role="img" aria-label="quiz item difficulty and discrimination">']
    parts.append(f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="#fafafa" stroke="{MUTED}"/>')
    flag_y = sy(0.15)
    parts.append(f'<rect x="{left}" y="{flag_y:.1f}" width="{pw}" height="{top + ph - flag_y:.1f}" '
                 f'fill="{FLAG}" fill-opacity="0.08"/>')
    parts.append(f'<line x1="{left}" y1="{flag_y:.1f}" x2="{left + pw}" y2="{flag_y:.1f}" stroke="{FLAG}" '
                 f'stroke-dasharray="4 3"/>')
    parts.append(f'<text x="{left + pw - 4}" y="{flag_y - 4:.1f}" font-size="10" text-anchor="end" '
                 f'fill="{FLAG}">flag below 0.15</text>')
    for v in (-1, -0.5, 0, 0.5, 1):
        parts.append(f'<text x="{left - 6}" y="{sy(v) + 4:.1f}" font-size="10" text-anchor="end">{v:g}</text>')
    for v in (0, 0.25, 0.5, 0.75, 1):
        parts.append(f'<text x="{sx(v):.1f}" y="{top + ph + 14}" font-size="10" text-anchor="middle">{v:g}</text>')
    parts.append(f'<text x="{left + pw / 2}" y="{height - 8}" font-size="11" text-anchor="middle">'
                 f'difficulty (share of points earned; right = easier)</text>')
    parts.append(f'<text x="14" y="{top + ph / 2}" font-size="11" text-anchor="middle" '
                 f'transform="rotate(-90 14 {top + ph / 2})">discrimination (item-rest r)</text>')
    for it in items:
        r = it.discrimination if it.discrimination is not None else 0.0
        color = FLAG if it.flagged else (MUTED if it.discrimination is None or it.too_few else "#1565c0")
        parts.append(f'<circle cx="{sx(it.difficulty):.1f}" cy="{sy(r):.1f}" r="5" fill="{color}" '
                     f'fill-opacity="0.8"><title>{escape(it.chapter)} {escape(it.question)}: '
                     f'difficulty {it.difficulty:.2f}, discrimination '
                     f'{"n/a" if it.discrimination is None else f"{it.discrimination:.2f}"}</title></circle>')
    parts.append("</svg>")
    return "".join(parts)


def _score(value: float | None) -> str:
    return '<span class="ng">not graded</span>' if value is None else f"{round(value, 2):g}"


def _students_table(report: ClassReport, rows: list[StudentRow], anchor: str, order: str) -> str:
    other = "by-name" if anchor == "by-total" else "by-total"
    other_label = "student" if anchor == "by-total" else "total (lowest first)"
    parts = [f'<div id="{anchor}" class="{"sorted" if anchor == "by-total" else ""}">',
             f'<p class="meta">Sorted by {order} · <a href="#{other}">sort by {other_label}</a> · '
             "click a student for every test not passed, with its message</p>",
             "<table><tr><th>student</th>"]
    parts += [f"<th>{escape(c)}</th>" for c in report.columns]
    parts.append("<th>total</th><th>tests not passed</th><th>problems</th></tr>")
    for r in rows:
        cells = [f'<td><a href="#{_anchor(report, r)}">{escape(r.student)}</a></td>']
        for c in report.columns:
            value = r.quizzes.get(c) if c.startswith("quiz ") else r.chapters.get(c)
            late = (f' <span class="flag" title="late: {r.penalties[c]:g}% off">late</span>'
                    if r.penalties.get(c) else "")
            shown = '<span class="ng">not submitted</span>' if c in r.not_submitted else _score(value)
            cells.append(f"<td class=num>{shown}{late}</td>")
        cells.append(f"<td class=num><b>{round(r.total, 2):g}</b> / {round(r.max_total, 2):g}</td>")
        cells.append(f"<td class=num>{len(r.failures)}</td><td class=num>{len(r.problems)}</td>")
        parts.append("<tr>" + "".join(cells) + "</tr>")
    parts.append("</table></div>")
    return "".join(parts)


def _anchor(report: ClassReport, row: StudentRow) -> str:
    index = getattr(report, "_anchors", None)
    if index is None:
        index = {id(r): i for i, r in enumerate(report.students_table)}
        report._anchors = index  # type: ignore[attr-defined]
    return f"student-{index[id(row)]}"


def _student_page(report: ClassReport, r: StudentRow) -> str:
    parts = [f'<section class="student" id="{_anchor(report, r)}"><h3>{escape(r.student)}</h3>',
             f'<p class="meta">submission {escape(r.hash[:12])} · total {round(r.total, 2):g} / '
             f'{round(r.max_total, 2):g} · <a href="#students">back to the table</a></p>']
    if r.problems:
        parts.append("<p><b>Problems</b></p><ul>" + "".join(f"<li>{escape(p)}</li>" for p in r.problems) + "</ul>")
    if r.failures:
        parts.append("<table><tr><th>test</th><th>status</th><th>message</th></tr>")
        for f in r.failures:
            parts.append(f"<tr><td>{escape(f.exercise)}: {escape(f.test)}</td><td>{escape(f.status)}</td>"
                         f'<td class="msg">{escape(f.message)}</td></tr>')
        parts.append("</table>")
    else:
        parts.append('<p class="meta">Every test passed.</p>')
    parts.append("</section>")
    return "".join(parts)


def render_html(report: ClassReport, title: str = "dl-grade class report") -> str:
    out = [
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">",
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">",
        f"<title>{escape(title)}</title><style>{CSS}</style></head><body>",
        f"<h1>{escape(title)}</h1>",
        f'<p class="meta">{report.students} students · {report.submissions} submissions · '
        f"{len(report.rejected)} rejected · "
        + ("the submission that counts per chapter and quiz follows the late policy (see Late work)</p>"
           if report.late_policy else "each student's newest graded submission counts</p>"),
    ]
    if report.students_table:
        out.append('<h2 id="students">Students</h2>')
        by_total = sorted(report.students_table, key=lambda r: (r.total, r.student))
        out.append(_students_table(report, by_total, "by-total", "total (lowest first)"))
        out.append(_students_table(report, report.students_table, "by-name", "student"))
        out.extend(_student_page(report, r) for r in report.students_table)
    if report.late_policy:
        from grader.reports.late import render_late_html

        out.append(render_late_html(report))
    out.append("<h2>Score distribution</h2><div class=\"grid\">")
    for ch in [*report.chapters, *report.quizzes]:
        if not ch.scores:
            absent = f" · not submitted by {ch.not_submitted}" if ch.not_submitted else ""
            out.append(f'<div class="card"><b>{escape(ch.chapter)}</b><div class="meta">not graded for '
                       f"{ch.not_graded} students{absent}</div></div>")
            continue
        extra = f" · not graded {ch.not_graded}" if ch.not_graded else ""
        extra += f" · not submitted {ch.not_submitted}" if ch.not_submitted else ""
        out.append(f'<div class="card">{_histogram(ch)}<div class="meta">mean {ch.mean:.1f} · median '
                   f"{ch.median:.1f} · full marks {ch.full_marks}{extra}</div></div>")
    out.append("</div>")
    if report.tests:
        out.append("<h2>Pass rate per test (hardest first)</h2>")
        out.append(_pass_rates(report.tests))
    out.append("<h2>Quiz items: difficulty and discrimination</h2>")
    if report.items:
        out.append(_items_plot(report.items))
        out.append("<table><tr><th>chapter</th><th>question</th><th>n</th><th>difficulty</th>"
                   "<th>discrimination</th><th></th></tr>")
        for it in report.items:
            disc = "n/a" if it.discrimination is None else f"{it.discrimination:+.2f}"
            flag = ('<span class="ng">too few answers</span>' if it.too_few
                    else '<span class="flag">flag</span>' if it.flagged else "")
            out.append(f"<tr><td>{escape(it.chapter)}</td><td>{escape(it.question)}</td><td class=num>{it.n}</td>"
                       f"<td class=num>{it.difficulty:.2f}</td><td class=num>{disc}</td><td>{flag}</td></tr>")
        out.append("</table>")
    else:
        out.append('<p class="meta">No quiz responses were scored.</p>')
    out.append("<h2>Most common failing messages</h2>")
    if report.failing:
        out.append("<table><tr><th>students</th><th>exercise</th><th>status</th><th>message</th></tr>")
        for m in report.failing:
            out.append(f"<tr><td class=num>{m.count}</td><td>{escape(m.exercise)}</td><td>{escape(m.status)}</td>"
                       f"<td>{escape(m.message)}</td></tr>")
        out.append("</table>")
    else:
        out.append('<p class="meta">No failing tests.</p>')
    if report.problems:
        out.append("<h2>Problems in counted submissions</h2><table><tr><th>student</th><th>problem</th></tr>")
        for student, problem in report.problems:
            out.append(f"<tr><td>{escape(student)}</td><td>{escape(problem)}</td></tr>")
        out.append("</table>")
    if report.rejected:
        out.append("<h2>Rejected submissions</h2><table><tr><th>student</th><th>reason</th></tr>")
        for student, _source, reason in report.rejected:
            out.append(f"<tr><td>{escape(student)}</td><td>{escape(reason)}</td></tr>")
        out.append("</table>")
    if report.isolation:
        out.append(f'<p class="meta">Isolation at grading: {escape(", ".join(report.isolation))}</p>')
    out.append("</body></html>\n")
    return "\n".join(out)
