"""Rosters (``grade roster import FILE``): who is in the class, as the LMS knows them.

A roster is instructor-side data. It adds identity (name, Canvas id, SIS ids, section)
to the ids collection already gave submissions; it never changes who a submission
belongs to. A submission *matches* a roster row when its id (from the file or folder
name, or Canvas's ``name_userid_attachmentid_file``) equals, case-insensitively, the
row's id, else its SIS login, else its email, else its SIS user id. Unmatched submissions and students with
no submission are listed by ``grade collect`` and ``grade report``.

Two layouts are read:

- a Canvas gradebook export: ``Student, ID, SIS User ID, SIS Login ID, Section`` (some
  exports also have ``SIS User ID`` only, or ``Integration ID``; with separate names,
  ``LastName, FirstName, ID, ...``, read as ``Student`` = "Last, First", Canvas's sortable
  name), then assignment columns
  ``Name (assignment_id)`` and read-only totals; a ``Points Possible`` row (and other
  rows without an ``ID``, such as ``Manual Posting``) under the header. The row id is
  Canvas's user ``ID`` (the number in its submission file names). The identity cells
  are kept exactly as Canvas wrote them, for an export Canvas matches row for row.
- a plain CSV: ``id,name,email[,sis_user_id,sis_login_id,section]``.

Everything read is still checked: size and row limits, UTF-8, the required columns,
unique ids; control characters are stripped from every cell. A bad file is a
``UsageError`` (exit 2) saying what is wrong, never a traceback.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from grader.instructor.submission import clean_text, normalise_student
from grader.util.errors import UsageError

MAX_ROSTER_BYTES = 20_000_000
MAX_ROWS = 100_000
MAX_CELL = 500

CANVAS_IDENTITY = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
# identity columns some Canvas exports add; kept (as read) when present
CANVAS_IDENTITY_EXTRA = ("Integration ID", "Root Account")
PLAIN_REQUIRED = ("id", "name", "email")
PLAIN_OPTIONAL = ("sis_user_id", "sis_login_id", "section", "extension_days")
# A Canvas assignment column: "Perceptrons (12345)"; totals ("Current Score", ...) have no id.
ASSIGNMENT_HEADER = re.compile(r".*\S \(\d+\)")
POINTS_POSSIBLE = "Points Possible"
# Canvas's separate-name export (an account setting): LastName, FirstName instead of Student
LAST_NAME = ("LastName", "Last Name")
FIRST_NAME = ("FirstName", "First Name")


def canvas_layout(columns: Iterable[str]) -> tuple[str, ...]:
    """The identity header Canvas's importer accepts that holds ``columns``: ``Student, ID``,
    then ``SIS User ID, SIS Login ID[, Integration ID][, Root Account]`` or ``SIS Login ID``
    or nothing, and ``Section`` last (Canvas refuses any other order: "Invalid header row").
    A column it needs that ``columns`` lacks is added (its cells empty)."""
    have = set(columns)
    if "SIS User ID" in have:
        middle = ["SIS User ID", "SIS Login ID", *(c for c in CANVAS_IDENTITY_EXTRA if c in have)]
    elif "SIS Login ID" in have:
        middle = ["SIS Login ID"]
    else:
        middle = []
    return ("Student", "ID", *middle, "Section")


@dataclass(frozen=True)
class RosterEntry:
    id: str  # the match key: normalise_student(Canvas ID | plain id)
    name: str = ""
    email: str = ""
    sis_user_id: str = ""
    sis_login_id: str = ""
    section: str = ""
    canvas_id: str = ""
    identity: tuple[str, ...] = ()  # a Canvas row's identity cells, exactly as read (cleaned)
    extension_days: float | None = None  # a plain roster's extension_days column (course.py), or None

    def keys(self) -> list[tuple[str, str]]:
        """(how, key) in matching order: id, SIS login, email, SIS user id."""
        out = [("id", self.id)]
        for how, value in (("sis_login", self.sis_login_id), ("email", self.email), ("sis_user", self.sis_user_id)):
            if value:
                out.append((how, normalise_student(value)))
        return out


@dataclass
class Roster:
    layout: str  # "canvas" | "plain"
    entries: list[RosterEntry]
    identity_columns: tuple[str, ...] = ()  # Canvas: the identity headers as read
    assignments: list[str] = field(default_factory=list)  # Canvas: "Name (id)" headers as read
    points_label: str = ""  # Canvas: the first cell of its "Points Possible" row, as read
    source: str = ""
    points: dict[str, float] = field(default_factory=dict)  # Canvas: assignment header -> its points possible


@dataclass
class Matching:
    """Submissions (their gradebook ids) against a roster."""

    by_student: dict[str, RosterEntry]  # submission student (casefold) -> roster row
    unmatched: list[str]  # submission ids no roster row claims
    missing: list[RosterEntry]  # roster rows with no graded submission

    def group(self, student: str) -> str:
        """The identity a submission counts for: its roster row's id, else its own id."""
        entry = self.by_student.get(student.casefold())
        return entry.id if entry is not None else student.casefold()


def _cell(value: object) -> str:
    return clean_text("" if value is None else value, MAX_CELL).strip()


def _decode(raw: bytes, what: str) -> str:
    if len(raw) > MAX_ROSTER_BYTES:
        raise UsageError(f"{what} is larger than {MAX_ROSTER_BYTES // 1_000_000} MB: not a roster.")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UsageError(f"{what} is not UTF-8 text. Save it as CSV UTF-8 and import it again.") from None


def _rows(text: str, what: str) -> list[list[str]]:
    try:
        reader = csv.reader(io.StringIO(text, newline=""), strict=True)
        rows: list[list[str]] = []
        for row in reader:
            if len(rows) > MAX_ROWS:
                raise UsageError(f"{what} has more than {MAX_ROWS} rows: not a roster.")
            rows.append(row)
    except csv.Error as exc:
        raise UsageError(f"{what} is not a readable CSV file (line {reader.line_num}: {exc}).") from None
    return [r for r in rows if any(c.strip() for c in r)]


def parse_roster(raw: bytes, what: str = "the roster") -> Roster:
    """Read a Canvas gradebook export or a plain ``id,name,email,...`` CSV (bytes)."""
    rows = _rows(_decode(raw, what), what)
    if not rows:
        raise UsageError(f"{what} is empty: expected a Canvas gradebook export or a CSV with a header "
                         f"{','.join(PLAIN_REQUIRED)}[,{','.join(PLAIN_OPTIONAL)}].")
    header = [_cell(c) for c in rows[0]]
    separate = any(h in header for h in LAST_NAME) and any(h in header for h in FIRST_NAME)
    if ("Student" in header or separate) and "ID" in header:
        roster = _canvas(header, rows[1:], what)
    elif all(c in [h.lower() for h in header] for c in PLAIN_REQUIRED):
        roster = _plain([h.lower() for h in header], rows[1:], what)
    else:
        raise UsageError(f"{what}: header {', '.join(header[:8]) or '(empty)'} is neither a Canvas gradebook "
                         f"export (Student, ID, SIS User ID, SIS Login ID, Section, ...) nor a plain roster "
                         f"({','.join(PLAIN_REQUIRED)}[,{','.join(PLAIN_OPTIONAL)}]).")
    _check_unique(roster, what)
    return roster


def read_roster(path: Path) -> Roster:
    path = Path(path)
    try:
        if not path.is_file():
            raise UsageError(f"No roster file at {path}.")
        if path.stat().st_size > MAX_ROSTER_BYTES:
            raise UsageError(f"{path} is larger than {MAX_ROSTER_BYTES // 1_000_000} MB: not a roster.")
        raw = path.read_bytes()
    except OSError as exc:
        raise UsageError(f"Cannot read {path}: {exc.strerror or exc}.") from None
    roster = parse_roster(raw, str(path))
    roster.source = clean_text(path, 1000)
    return roster


def _canvas(header: list[str], body: list[list[str]], what: str) -> Roster:
    last = next((header.index(h) for h in LAST_NAME if h in header), None)
    first = next((header.index(h) for h in FIRST_NAME if h in header), None)
    identity = [h for h in header if h in CANVAS_IDENTITY or h in CANVAS_IDENTITY_EXTRA]
    idx = {h: header.index(h) for h in identity}
    if "Student" not in idx and last is not None and first is not None:
        identity.insert(0, "Student")  # filled from LastName, FirstName below
    assignments = [h for h in header if ASSIGNMENT_HEADER.fullmatch(h)]
    entries: list[RosterEntry] = []
    points_label = ""
    points: dict[str, float] = {}
    for row in body:
        cells = [_cell(c) for c in row] + [""] * (len(header) - len(row))
        get = {h: cells[i] for h, i in idx.items()}
        if "Student" not in idx and last is not None and first is not None:
            get["Student"] = ", ".join(x for x in (cells[last], cells[first]) if x)
        if not get.get("ID"):
            # "Points Possible", "Manual Posting" and similar rows carry no student
            if cells[0].strip() == POINTS_POSSIBLE and not points_label:
                points_label = clean_text(row[0], 100)  # as Canvas wrote it (leading spaces kept)
                for h in assignments:
                    try:
                        points[h] = float(cells[header.index(h)])
                    except ValueError:
                        pass
            continue
        entries.append(RosterEntry(
            id=normalise_student(get["ID"]), name=get.get("Student", ""), sis_user_id=get.get("SIS User ID", ""),
            sis_login_id=get.get("SIS Login ID", ""), section=get.get("Section", ""), canvas_id=get["ID"],
            identity=tuple(get[h] for h in identity),
        ))
    return Roster("canvas", entries, tuple(identity), assignments, points_label or "    " + POINTS_POSSIBLE,
                  points=points)


def _plain(header: list[str], body: list[list[str]], what: str) -> Roster:
    idx = {h: header.index(h) for h in (*PLAIN_REQUIRED, *PLAIN_OPTIONAL) if h in header}
    entries = []
    for n, row in enumerate(body, start=2):
        cells = [_cell(c) for c in row] + [""] * (len(header) - len(row))
        get = {h: cells[i] for h, i in idx.items()}
        if not get["id"]:
            raise UsageError(f"{what}, line {n}: no id. Every row needs an id (the name of the student's "
                             "submission file or folder, or their LMS user id).")
        entries.append(RosterEntry(id=normalise_student(get["id"]), name=get["name"], email=get["email"],
                                   sis_user_id=get.get("sis_user_id", ""), sis_login_id=get.get("sis_login_id", ""),
                                   section=get.get("section", ""),
                                   extension_days=_days(get.get("extension_days", ""), what, n)))
    return Roster("plain", entries)


def _days(cell: str, what: str, line: int) -> float | None:
    """An ``extension_days`` cell: empty (none) or a number of days from 0 to 3650."""
    if not cell.strip():
        return None
    try:
        days = float(cell)
    except ValueError:
        days = -1.0
    if not 0 <= days <= 3650:  # also NaN
        raise UsageError(f"{what}, line {line}: extension_days {cell!r} is not a number of days (0 to 3650; "
                         "leave it empty for none).")
    return days


def _check_unique(roster: Roster, what: str) -> None:
    if not roster.entries:
        raise UsageError(f"{what} has a header but no students.")
    seen: dict[str, str] = {}
    for e in roster.entries:
        if e.id in seen:
            raise UsageError(f"{what}: the id {e.id!r} appears twice ({seen[e.id]!r} and {e.name!r}). "
                             "Ids must be unique.")
        seen[e.id] = e.name
    for how in ("sis_login", "email", "sis_user"):
        owners: dict[str, str] = {}
        for e in roster.entries:
            for kind, key in e.keys():
                if kind == how:
                    if key in owners and owners[key] != e.id:
                        raise UsageError(f"{what}: {key!r} belongs to two students ({owners[key]!r} and "
                                         f"{e.id!r}); a submission named so could not be matched.")
                    owners[key] = e.id


def match(roster: Roster | None, students: Iterable[str]) -> Matching | None:
    """Match submission ids (the gradebook's) to roster rows: by id, else SIS login, else
    email, else SIS user id, all case-insensitive. None without a roster."""
    if roster is None:
        return None
    order = ("id", "sis_login", "email", "sis_user")
    index: dict[str, dict[str, RosterEntry]] = {how: {} for how in order}
    for e in roster.entries:
        for how, key in e.keys():
            index[how].setdefault(key, e)
    by_student: dict[str, RosterEntry] = {}
    unmatched: list[str] = []
    for student in sorted({s.casefold() for s in students}):
        key = normalise_student(student)
        entry = next((index[how][key] for how in order if key in index[how]), None)
        if entry is None:
            unmatched.append(student)
        else:
            by_student[student] = entry
    claimed = {e.id for e in by_student.values()}
    missing = [e for e in roster.entries if e.id not in claimed]
    return Matching(by_student, unmatched, missing)


def describe(m: Matching | None, limit: int = 50) -> list[str]:
    """Lines for ``grade collect`` and ``grade report``: unmatched submissions and roster
    students with no submission (empty without a roster)."""
    if m is None:
        return []

    def shown(items: list[str]) -> str:
        more = f" and {len(items) - limit} more" if len(items) > limit else ""
        return ", ".join(items[:limit]) + more

    lines = [f"Roster: {len(m.by_student)} submitting students matched, {len(m.unmatched)} submissions not in "
             f"the roster, {len(m.missing)} students without a submission."]
    if m.unmatched:
        lines.append("Not in the roster (check the file names, or add them to the roster): " + shown(m.unmatched))
    if m.missing:
        lines.append("No submission from: " + shown([_label(e) for e in m.missing]))
    return lines


def _label(e: RosterEntry) -> str:
    return f"{e.name} ({e.canvas_id or e.id})" if e.name else e.id
