"""The late-work part of ``grade report`` (terminal and ``--html``) under a course file:
per student and chapter (or quiz), the submission that counts, its time, the (extended) due
date, the extension used, the days late and the penalty; and the policy in words, which says
whether a later submission replaces an on-time one."""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console

    from grader.instructor.report import ClassReport, LateRow


def _when(iso: str | None, like: str | None = None) -> str:
    """An ISO time for people; in the offset of ``like`` (the due date's zone) when given."""
    if not iso:
        return "unknown"
    if like:
        from datetime import datetime

        try:
            iso = datetime.fromisoformat(iso).astimezone(datetime.fromisoformat(like).tzinfo).isoformat()
        except (ValueError, TypeError):
            pass
    return iso.replace("T", " ").replace("+00:00", " UTC")


def _days(x: float) -> str:
    return f"{x:g} d" if x else ""


def _score(x: float | None) -> str:
    return "not graded" if x is None else f"{round(x, 2):g}"


def _source(r: LateRow) -> str:
    return {"lms": "LMS", "mtime": "file time", "order": "unknown"}.get(r.time_source, r.time_source or "?")


def render_late_terminal(report: ClassReport, out: Console, limit: int = 50) -> None:
    from rich.table import Table
    from rich.text import Text

    if not report.late_policy:
        return
    out.print(Text(report.late_policy, style="grade.dim"))
    listed = [r for r in report.late if r.days_late or r.extension_days or r.later_ignored or r.note]
    listed.sort(key=lambda r: (-r.penalty, -r.days_late, r.student, r.item))  # the largest penalties first
    shown = listed[:limit]
    on_time = sum(1 for r in report.late if not r.days_late)
    if shown:
        more = f"; the {len(shown)} largest penalties of {len(listed)} rows, --html has every one" \
            if len(listed) > len(shown) else ""
        t = Table(title=f"Late work and extensions ({sum(1 for r in report.late if r.days_late)} late, "
                        f"{on_time} on time{more})", title_justify="left")
        for col in ("student", "item", "submitted", "due", "extension", "days late", "penalty", "score", "note"):
            t.add_column(col, justify="right" if col in ("extension", "days late", "penalty", "score") else "left")
        for r in shown:
            note = r.note + (f"; {r.later_ignored} later submission(s) not counted" if r.later_ignored else "")
            t.add_row(Text(r.student), r.item, f"{_when(r.submitted_at, r.due)} ({_source(r)})", _when(r.due),
                      _days(r.extension_days), str(r.days_late) if r.days_late else "",
                      f"{r.penalty:g}%" if r.penalty else "", f"{_score(r.raw_score)} -> {_score(r.score)}"
                      if r.penalty else _score(r.score), Text(note.strip("; ")))
        out.print(t)
    else:
        out.print(Text(f"No late work: {on_time} dated chapters and quizzes on time.", style="grade.dim"))
    for note in report.late_notes:
        out.print(Text("course ", style="grade.todo") + Text(note))


def render_late_html(report: ClassReport) -> str:
    if not report.late_policy:
        return ""
    late = sum(1 for r in report.late if r.days_late)
    parts = ['<h2 id="late">Late work</h2>', f'<p class="meta">{escape(report.late_policy)} '
             f"{late} late of {len(report.late)} dated chapters and quizzes. The table of students above shows "
             "the scores after the penalties (what grade export writes).</p>",
             '<table id="late-table"><tr><th>student</th><th>item</th><th>submitted</th><th>due</th>'
             "<th>extension used</th><th>days late</th><th>penalty</th><th>raw</th><th>counted</th>"
             "<th>submission</th><th>note</th></tr>"]
    for r in report.late:
        note = r.note + (f"; {r.later_ignored} later submission(s) not counted" if r.later_ignored else "")
        cls = ' class="late"' if r.days_late else ""
        parts.append(
            f'<tr{cls} data-student="{escape(r.student)}" data-item="{escape(r.item)}" data-days="{r.days_late}" '
            f'data-penalty="{r.penalty:g}" data-extension="{r.extension_days:g}">'
            f"<td>{escape(r.student)}</td><td>{escape(r.item)}</td>"
            f"<td>{escape(_when(r.submitted_at, r.due))} ({escape(_source(r))})</td><td>{escape(_when(r.due))}</td>"
            f"<td class=num>{escape(_days(r.extension_days))}</td>"
            f"<td class=num>{r.days_late if r.days_late else ''}</td>"
            f"<td class=num>{f'{r.penalty:g}%' if r.penalty else ''}</td>"
            f"<td class=num>{escape(_score(r.raw_score))}</td><td class=num><b>{escape(_score(r.score))}</b></td>"
            f"<td>{escape(r.submission)}</td><td>{escape(note.strip('; '))}</td></tr>")
    parts.append("</table>")
    parts += [f'<p class="flag">{escape(n)}</p>' for n in report.late_notes]
    return "\n".join(parts)
