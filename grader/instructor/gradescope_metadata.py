"""Gradescope's ``submission_metadata.json``: who submitted, when, the due date (with the
student's Gradescope extension) and how late: read bounded, never believed beyond its
documented fields, and turned into the ``Origin`` a collected submission is filed under."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from grader.util.textclean import clean_line

if TYPE_CHECKING:
    from grader.instructor.submission import Origin


METADATA = "submission_metadata.json"
MAX_METADATA_BYTES = 2_000_000


@dataclass(frozen=True)
class Metadata:
    """What Gradescope's ``/autograder/submission_metadata.json`` says about this submission
    (its documented fields: ``users[]`` with name, email, sid and id; ``created_at``;
    ``assignment.due_date`` and ``late_due_date``, a user's own ``assignment`` with an
    extension's dates)."""

    student: str  # the primary id: the first user's sid, else email, else gradescope-<id>
    aliases: tuple[str, ...]  # every user's sid, email, its local part, id
    names: tuple[str, ...]
    submitted_at: datetime | None
    due_date: datetime | None
    late_due_date: datetime | None

    @property
    def late_by_seconds(self) -> float:
        if self.submitted_at is None or self.due_date is None:
            return 0.0
        return max(0.0, (self.submitted_at - self.due_date).total_seconds())


def parse_time(value: object) -> datetime | None:
    """Gradescope's ISO times (``2018-07-01T14:22:32.365935-07:00``), in UTC; None for
    anything else. Python 3.10's ``fromisoformat`` takes neither ``Z`` nor 1-5 or 7-9
    digit fractions, so both are normalised first."""
    if not isinstance(value, str) or len(value) > 64:
        return None
    text = value.strip().replace("Z", "+00:00").replace("z", "+00:00").replace(" ", "T", 1)
    m = re.fullmatch(r"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d+))?(.*)", text)
    if m:
        fraction = f".{(m.group(2) + '000000')[:6]}" if m.group(2) else ""
        text = m.group(1) + fraction + m.group(3)
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return when.astimezone(timezone.utc)


def read_metadata(root: Path) -> Metadata | None:
    """``root/submission_metadata.json`` (bounded; written by Gradescope, not the student),
    or None where there is none or it cannot be read."""
    from grader.instructor.submission import load_json_bounded, normalise_student

    path = root / METADATA
    try:
        if path.is_symlink() or not path.is_file() or path.stat().st_size > MAX_METADATA_BYTES:
            return None
        data = load_json_bounded(path.read_bytes(), METADATA, MAX_METADATA_BYTES)
    except (OSError, ValueError, UnicodeDecodeError):
        return None
    if not isinstance(data, dict):
        return None
    users = [u for u in data.get("users") or [] if isinstance(u, dict)] if isinstance(data.get("users"), list) else []
    aliases: list[str] = []
    names: list[str] = []
    for user in users:
        for key in ("sid", "email", "id"):
            value = user.get(key)
            if isinstance(value, (str, int)) and not isinstance(value, bool) and str(value).strip():
                aliases.append(str(value).strip())
                if key == "email" and "@" in str(value):
                    aliases.append(str(value).split("@", 1)[0])
        if isinstance(user.get("name"), str) and user["name"].strip():
            names.append(clean_line(user["name"], 80))
    first = users[0] if users else {}
    primary = next((str(first[k]).strip() for k in ("sid", "email") if isinstance(first.get(k), (str, int))
                    and not isinstance(first.get(k), bool) and str(first[k]).strip()), "")
    if not primary and isinstance(first.get("id"), (str, int)):
        primary = f"gradescope-{first['id']}"
    assignment: dict[str, Any] = data["assignment"] if isinstance(data.get("assignment"), dict) else {}
    own: dict[str, Any] = first["assignment"] if isinstance(first.get("assignment"), dict) else {}  # an extension
    due = parse_time(own.get("due_date")) or parse_time(assignment.get("due_date"))
    late_due = parse_time(own.get("late_due_date")) or parse_time(assignment.get("late_due_date"))
    return Metadata(
        student=normalise_student(primary) if primary else "",
        aliases=tuple(dict.fromkeys(aliases)),
        names=tuple(names),
        submitted_at=parse_time(data.get("created_at")),
        due_date=due,
        late_due_date=late_due,
    )


def _duration(seconds: float) -> str:
    minutes = int(seconds // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    parts = [f"{days} d"] * bool(days) + [f"{hours} h"] * bool(hours) + [f"{mins} min"] * bool(mins)
    return " ".join(parts) or f"{int(seconds)} s"


def lateness(meta: Metadata) -> tuple[str, dict[str, Any]]:
    """(the line shown to the student, results.json ``extra_data``) for ``meta``'s times."""
    def iso(when: datetime | None) -> str | None:
        return when.isoformat(timespec="seconds") if when else None

    late = meta.late_by_seconds
    extra: dict[str, Any] = {"student": meta.student, "submitted_at": iso(meta.submitted_at),
                             "due_date": iso(meta.due_date), "late": late > 0, "late_by_seconds": round(late)}
    if meta.late_due_date is not None:
        extra["late_due_date"] = iso(meta.late_due_date)
        extra["after_late_due_date"] = bool(meta.submitted_at and meta.submitted_at > meta.late_due_date)
    if meta.submitted_at is None or meta.due_date is None:
        return "", extra
    if late <= 0:
        return f"Submitted on time (due {iso(meta.due_date)}).", extra
    line = f"Submitted late: {_duration(late)} after the due date ({iso(meta.due_date)})."
    if extra.get("after_late_due_date"):
        line += f" This is after the late due date ({iso(meta.late_due_date)})."
    return line, extra


def origin_for(meta: Metadata | None) -> Origin | None:
    from grader.instructor.submission import Origin

    if meta is None or not meta.student:
        return None
    when = meta.submitted_at.isoformat(timespec="seconds") if meta.submitted_at else None
    due = meta.due_date.isoformat(timespec="seconds") if meta.due_date else None
    late = (meta.late_by_seconds > 0) if meta.submitted_at is not None and meta.due_date is not None else None
    return Origin(meta.student, when, "lms" if when else "order", layout="gradescope", aliases=meta.aliases,
                  id_source="Gradescope's submission metadata", lms_late=late, lms_due=due)
