"""Which submission counts for each student and chapter (or quiz), how late it was, and its
penalty, from the course file (``course.Course``) and the gradebook's instructor-side facts.

The time of a submission is the gradebook's ``submitted_at``: the LMS's record (Gradescope's
``created_at``) or the file's modification time (for Canvas's download, unzipped, the time
Canvas gave the entry), never the student's manifest. The due date of an item is the course
file's, moved by the student's extension; where the course file has none, Gradescope's own
due date for that submission (its extensions included) applies. Canvas's ``late_`` flag is
Canvas's verdict against its assignment's due date: it makes a submission late (1 day, its
time unknown) where no due date is known, and where one is known and the two disagree the
report says so.

Days late: nothing within the grace period; past it, every started day (24 h) after the
(extended) due date counts, so 1 minute past the grace is 1 day and 24 h 1 min is 2 days.

Which counts: under ``later_submission = "ignored"`` the newest submission that is on time
(within grace included) counts and later ones are ignored; a late one counts only when there
is none on time (then the newest, with its penalty). Under ``"replaces"`` the newest counts.
"""

from __future__ import annotations

import functools
import math
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from grader.instructor.course import Course


@dataclass
class Counted:
    student: str  # the group key (roster id, else the submission's id)
    item: str  # "chapter2" | "quiz chapter2"
    hash: str  # the submission that counts
    submitted_at: str | None
    time_source: str
    due: str | None  # the (extended) due date that applied, ISO with its offset
    due_source: str  # "course" | "gradescope" | "canvas flag" | ""
    extension_days: float
    days_late: int
    penalty: float  # percent
    note: str = ""
    later_ignored: int = 0  # newer (late) submissions not counted

    @property
    def factor(self) -> float:
        return 1.0 - self.penalty / 100.0


def _parse(when: str | None) -> datetime | None:
    if not when:
        return None
    try:
        t = datetime.fromisoformat(when)
    except ValueError:
        return None
    return t if t.tzinfo else t.replace(tzinfo=timezone.utc)


@functools.lru_cache(maxsize=4096)
def _iso(t: datetime) -> str:
    """ISO with the due date's own offset (the course's time zone), as the report shows it."""
    return t.isoformat(timespec="seconds")


def _col(row: sqlite3.Row, name: str) -> Any:
    return row[name] if name in row.keys() else None


def _facts(sub: sqlite3.Row, cache: dict[str, Any]) -> tuple[datetime | None, Any, datetime | None]:
    """(submission time, the LMS's verdict, the LMS's due date) of ``sub``, parsed once."""
    got = cache.get(sub["hash"])
    if got is None:
        got = cache[sub["hash"]] = (_parse(sub["submitted_at"]), _col(sub, "lms_late"), _parse(_col(sub, "lms_due")))
    return got


def judge(course: Course, item: str, sub: sqlite3.Row, extension: float, group_key: str,
          cache: dict[str, Any] | None = None) -> Counted:
    """How late ``sub`` is for ``item``."""
    policy = course.policy
    when, lms_late, lms_due = _facts(sub, {} if cache is None else cache)
    due: datetime | None = None
    source = ""
    used_ext = 0.0
    if item in course.due:
        used_ext = extension
        due = course.due[item] + timedelta(days=extension)  # wall-clock days in the due date's zone
        source = "course"
    elif lms_due is not None:
        due, source = lms_due, "gradescope"
    base = dict(student=group_key, item=item, hash=sub["hash"], submitted_at=sub["submitted_at"],
                time_source=sub["time_source"], extension_days=used_ext)
    if due is None:
        if lms_late == 1:
            days = 1
            return Counted(**base, due=None, due_source="canvas flag", days_late=days, penalty=policy.percent(days),
                           note="late per Canvas (no due date in the course file: counted as 1 day)")
        return Counted(**base, due=None, due_source="", days_late=0, penalty=0.0)
    if when is None:
        return Counted(**base, due=_iso(due), due_source=source, days_late=0, penalty=0.0,
                       note="submission time unknown: not counted late")
    seconds = (when - due).total_seconds()
    note = ""
    if seconds <= policy.grace_minutes * 60:
        days = 0
        if seconds > 0:
            note = "within the grace period"
    else:
        days = math.ceil(seconds / 86400)
    if lms_late is not None and bool(lms_late) != (days > 0) and not used_ext:
        lms = "Gradescope" if sub["time_source"] == "lms" else "Canvas"
        note = (note + "; " if note else "") + (f"{lms} says late" if lms_late else f"{lms} says on time")
    return Counted(**base, due=_iso(due), due_source=source, days_late=days, penalty=policy.percent(days),
                   note=note)


def _order(r: sqlite3.Row) -> tuple[str, int, int, int]:
    return (r["submitted_at"] or "", r["run_id"], r["seq"], r["rowid"])


def plan(gb: Any, course: Course, group: Callable[[str], str] | None = None) -> dict[str, dict[str, Counted]]:
    """{student: {item: Counted}} for every graded student and every chapter or quiz they
    have a result for."""
    from grader.instructor.roster import match

    group = group or str.casefold
    graded = gb.submissions("graded")
    matching = match(gb.roster(), [r["student"] for r in graded])  # for extension days and ids
    chapters = gb.chapter_scores()
    quizzes = gb.quiz_scores()
    by_student: dict[str, list[sqlite3.Row]] = {}
    for r in graded:
        by_student.setdefault(group(r["student"]), []).append(r)
    out: dict[str, dict[str, Counted]] = {}
    cache: dict[str, Any] = {}
    for student, subs in sorted(by_student.items()):
        subs.sort(key=_order)
        ids = [student, *dict.fromkeys(r["student"].casefold() for r in subs)]
        entries = [matching.by_student.get(i) for i in ids] if matching is not None else []
        roster_days = next((e.extension_days for e in entries if e is not None and e.extension_days is not None),
                           None)
        ids += [e.id for e in entries if e is not None]
        items: dict[str, list[sqlite3.Row]] = {}
        for r in subs:
            for ch in chapters.get(r["hash"], {}):
                items.setdefault(ch, []).append(r)
            for ch in quizzes.get(r["hash"], {}):
                items.setdefault(f"quiz {ch}", []).append(r)
        per: dict[str, Counted] = {}
        for item, cands in items.items():
            # A submission that holds no file of a chapter does not replace one that did.
            held = [r for r in cands if item.startswith("quiz ")
                    or chapters[r["hash"]][item]["status"] != "not_submitted"]
            cands = held or cands
            ext = _extension(course, ids, item, roster_days)
            judged = [judge(course, item, r, ext, student, cache) for r in cands]  # oldest first
            on_time = [c for c in judged if c.days_late == 0]
            if course.policy.later_submission == "replaces" or not on_time:
                chosen = judged[-1]
            else:
                chosen = on_time[-1]
            chosen.later_ignored = len(judged) - 1 - judged.index(chosen)
            per[item] = chosen
        out[student] = per
    return out


def _extension(course: Course, ids: list[str], item: str, roster_days: float | None) -> float:
    for sid in ids:
        own = course.extensions.get(sid)
        if own is not None:
            if item in own:
                return own[item]
            if "*" in own:
                return own["*"]
    return roster_days or 0.0


def unknown_extensions(course: Course, students: list[str]) -> list[str]:
    """Extension ids in the course file that match no student of the gradebook."""
    known = {s.casefold() for s in students}
    return sorted(s for s in course.extensions if s not in known)


def extension_notes(gb: Any, course: Course, counted: dict[str, Any]) -> list[str]:
    """What to tell the instructor about ``[extensions]`` ids that match nobody (a typo there
    would silently leave a student without the extension)."""
    ids = [r["student"] for r in gb.submissions("graded")] + list(counted)
    roster = gb.roster()
    if roster is not None:
        ids += [key for e in roster.entries for _how, key in e.keys()]
    return [f"Extension in {course.path} for {s}, who has no graded submission here (check the id)."
            for s in unknown_extensions(course, ids)]
