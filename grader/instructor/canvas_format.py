"""Canvas's gradebook import rules, as a strict check of a CSV we are about to hand over.

Canvas (Grades > Import) reads the header row first and refuses the file ("Invalid header
row") unless it starts ``Student, ID`` and its identity columns are one of Canvas's layouts,
the last of them ``Section``:

- ``Student, ID, Section``
- ``Student, ID, SIS Login ID, Section``
- ``Student, ID, SIS User ID, SIS Login ID, [Integration ID], [Root Account], Section``

(a ``LastName, FirstName, ID, ...`` header is accepted only where an account enables
separate names, so it is never written). The other columns are assignments: ``Title (id)``
updates assignment *id*; any other header updates the assignment of exactly that title,
and only where there is none creates a new one. An optional row whose first cell contains
``Points Possible`` describes the assignments. Each student row is matched by its ``ID``
(Canvas's user id), else its SIS User ID, else its SIS Login ID, else by name. A score Canvas
reads is a plain decimal (``5``, ``0.5``), ``EX``, or empty (left as it is); ``5e-05`` is
not a number to Canvas.

``check_canvas_import`` applies these rules strictly (a row that could match only by name,
a score in exponent notation, a ragged row are refused too) and returns what Canvas would
read. ``grade export --format canvas`` runs it on every file it writes.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field

SECTION = "Section"
# identity headers: after Section, Canvas would take one for an assignment's title
RESERVED = {"Student", "LastName", "FirstName", "ID", "SIS User ID", "SIS Login ID", "Section", "Integration ID",
            "Root Account"}
_ASSIGNMENT_ID = re.compile(r"(?P<title>.*\S)\s*\((?P<id>\d+)\)")
_SCORE = re.compile(r"-?\d+(?:\.\d+)?")
_TOTALS = re.compile(r"Current Score|Current Points|Current Grade|Final Score|Final Points|Final Grade|"
                     r"Override Score|Override Grade|Override Status")


@dataclass
class CanvasImport:
    """What Canvas reads from a gradebook CSV."""

    identity: list[str]  # the identity headers (Student ... Section)
    assignments: list[tuple[str, str | None]] = field(default_factory=list)  # (title, id or None: matched by title)
    points: list[str] | None = None  # the Points Possible row's assignment cells
    students: list[dict[str, str]] = field(default_factory=list)  # identity cells + "scores": list


class CanvasFormatError(ValueError):
    """The CSV is not one Canvas's importer takes as meant; the message lists why."""


def identity_width(header: list[str]) -> int:
    """How many identity columns Canvas counts in ``header`` (its rule), 0 when the header
    does not start ``Student, ID``."""
    if len(header) <= 3 or "Student" not in header[0] or "ID" not in header[1]:
        return 0
    width = 3
    if re.search(r"SIS\s+Login\s+ID", header[2]):
        width += 1
    elif re.search(r"SIS\s+User\s+ID", header[2]) and len(header) > 3 and re.search(r"SIS\s+Login\s+ID", header[3]):
        extra = 1 if len(header) > 4 and re.search(r"Integration\s+ID", header[4]) else 0
        width += 2 + extra
        if len(header) > 4 + extra and re.search(r"Root\s+Account", header[4 + extra]):
            width += 1
    return width


def check_canvas_import(text: str) -> CanvasImport:
    rows = [r for r in csv.reader(io.StringIO(text, newline="")) if any(c.strip() for c in r)]
    if not rows:
        raise CanvasFormatError("empty file: Canvas needs a header row")
    header = rows[0]
    problems: list[str] = []
    width = identity_width(header)
    if not width:
        raise CanvasFormatError(f"Invalid header row: it must start 'Student, ID' (it starts {header[:2]!r})")
    if SECTION not in header[width - 1]:
        raise CanvasFormatError(f"Invalid header row: the identity columns {header[:width]!r} do not end with "
                                "'Section' where Canvas looks for it")
    for h in header[width:]:
        if h.strip() in RESERVED:
            problems.append(f"{h!r} comes after Section: Canvas would read it as an assignment column")
    if any(_TOTALS.search(h) for h in header[width:]):
        problems.append("a totals column (Current Score, Final Grade, ...) among the assignments")
    out = CanvasImport(identity=header[:width])
    for h in header[width:]:
        m = _ASSIGNMENT_ID.fullmatch(h.strip())
        out.assignments.append((m.group("title"), m.group("id")) if m else (h.strip(), None))
        if not h.strip():
            problems.append("an assignment column with an empty header")
    for n, row in enumerate(rows[1:], start=2):
        if len(row) != len(header):
            problems.append(f"line {n}: {len(row)} cells, the header has {len(header)}")
            continue
        if "Points Possible" in row[0]:
            if n != 2 or out.points is not None:
                problems.append(f"line {n}: a Points Possible row must come right after the header")
            out.points = row[width:]
            for cell in row[width:]:
                if cell.strip() and not _SCORE.fullmatch(cell.strip()) and not re.search(r"read\s+only", cell):
                    problems.append(f"line {n}: points possible {cell!r} is not a plain decimal")
            continue
        ident = dict(zip(header[:width], row[:width], strict=False))
        keys = [row[1].strip(), *(v.strip() for h, v in ident.items() if re.search(r"SIS\s+(User|Login)\s+ID", h))]
        if not any(keys):
            problems.append(f"line {n}: no ID, SIS User ID or SIS Login ID (Canvas could match it only by name)")
        if row[1].strip() and not row[1].strip().isdigit():
            problems.append(f"line {n}: ID {row[1]!r} is not a Canvas user id (a number)")
        for h, cell in zip(header[width:], row[width:], strict=False):
            value = cell.strip()
            if value and value.upper() != "EX" and not _SCORE.fullmatch(value):
                problems.append(f"line {n}: {h}: {cell!r} is not a score Canvas reads (a plain decimal, EX or empty)")
        out.students.append({**ident, "scores": row[width:]})  # type: ignore[dict-item]
    if problems:
        raise CanvasFormatError("; ".join(problems[:10]) + (f" (and {len(problems) - 10} more)" if len(problems) > 10
                                                            else ""))
    return out
