"""``grade export``: the gradebook as CSV, a Canvas gradebook CSV, Gradescope results, JSON.

Each student's counted submission is their newest graded one (``Gradebook.latest``).
Chapters are the catalog chapters present in the gradebook; quizzes are columns of
their own ("quiz chapter3"). Rejected submissions appear only in the JSON export. A
chapter that was not graded is "not graded" (CSV), an empty cell (Canvas), null (JSON),
never 0. Student ids are compared case-insensitively, and every CSV cell that a
spreadsheet would run as a formula is neutralised.
"""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path
from typing import Any

from grader.instructor.gradebook import Gradebook
from grader.instructor.submission import clean_text, normalise_student

FORMATS = ("csv", "canvas", "gradescope", "json")


NOT_GRADED = "not graded"
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _num(x: float) -> str:
    return f"{x:g}"


def safe_cell(value: object) -> str:
    """A CSV cell a spreadsheet shows as text: control characters removed, and a cell that
    starts with ``= + - @``, tab or CR (a formula to Excel, LibreOffice, Sheets) gets a
    leading apostrophe. Numbers are written as numbers."""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, (int, float)):
        return _num(float(value))
    text = "" if value is None else str(value)
    if text.startswith(_FORMULA_START):
        text = "'" + text
    return clean_text(text, 2000)


def _cell(value: object) -> str:
    return NOT_GRADED if value is None else safe_cell(value)


def table(gb: Gradebook) -> tuple[list[str], list[dict[str, Any]], dict[str, float]]:
    """(column names, one row per student, points possible per score column).

    A chapter that was not graded for a student (its needs were missing at collection, or
    it was never collected) is ``None``: "not graded", never 0. Totals add what was graded
    and ``max_total`` the points possible of those columns."""
    latest = gb.latest()
    chapters = gb.chapters()
    quizzes = gb.quiz_chapters()
    ch_scores = gb.chapter_scores()
    qz_scores = gb.quiz_scores()
    possible: dict[str, float] = {}
    for per in ch_scores.values():
        for ch, cell in per.items():
            if cell["max_score"] is not None:
                possible[ch] = max(possible.get(ch, 0.0), cell["max_score"])
    for per in qz_scores.values():
        for ch, cell in per.items():
            possible[f"quiz {ch}"] = max(possible.get(f"quiz {ch}", 0.0), cell["max_score"])
    columns = ["student", "submission", "submitted_at", *chapters, *[f"quiz {c}" for c in quizzes], "total", "max_total"]
    rows = []
    for sub in latest:
        row: dict[str, Any] = {"student": sub["student"].casefold(), "submission": sub["hash"][:12],
                               "submitted_at": sub["submitted_at"] or ""}
        total = max_total = 0.0
        for ch in chapters:
            r = ch_scores.get(sub["hash"], {}).get(ch)
            row[ch] = r["score"] if r is not None and r["score"] is not None else None
        for ch in quizzes:
            r = qz_scores.get(sub["hash"], {}).get(ch)
            # a quiz with no attempt was open to the student: 0 of the bank's points
            row[f"quiz {ch}"] = r["score"] if r is not None else 0.0
        for c in columns[3:-2]:
            if row[c] is not None:
                total += row[c]
                max_total += possible.get(c, 0.0)
        row["total"] = total
        row["max_total"] = max_total
        rows.append(row)
    return columns, rows, possible


def to_csv(gb: Gradebook) -> str:
    columns, rows, _ = table(gb)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow([safe_cell(c) for c in columns])
    for row in rows:
        w.writerow([_cell(row[c]) for c in columns])
    return buf.getvalue()


def _canvas_title(column: str) -> str:
    m = re.fullmatch(r"(quiz )?chapter(\d+)", column)
    if not m:
        return column
    return f"{'Quiz' if m.group(1) else 'Exercises'} chapter {m.group(2)}"


def to_canvas(gb: Gradebook) -> str:
    """Canvas's gradebook import: identity columns, then one column per assignment, with
    a "Points Possible" row under the header. Students are matched on SIS User ID / Login."""
    columns, rows, possible = table(gb)
    scored = columns[3:-2]
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["Student", "ID", "SIS User ID", "SIS Login ID", "Section", *[_canvas_title(c) for c in scored]])
    w.writerow(["Points Possible", "", "", "", "", *[_num(possible.get(c, 0.0)) for c in scored]])
    for row in rows:
        sid = safe_cell(row["student"])
        # Canvas: an empty cell leaves the grade alone; "not graded" must never become a 0
        w.writerow([sid, "", sid, sid, "", *["" if row[c] is None else _num(row[c]) for c in scored]])
    return buf.getvalue()


def gradescope_results(gb: Gradebook, sub: Any) -> dict[str, Any]:
    """Gradescope's results.json for one submission: every test of every chapter, quizzes too."""
    tests = []
    total = 0.0
    elapsed = 0.0
    chapters = gb.chapter_scores().get(sub["hash"], {})
    for r in gb.tests(sub["hash"]):
        tests.append({
            "name": f"{r['exercise']}: {r['name']}",
            "score": r["score"],
            "max_score": r["max_score"],
            "status": "passed" if r["status"] == "passed" else "failed",
            "output": f"[{r['status']}] {r['message']}".strip(),
            "visibility": "visible" if r["visibility"] == "public" else "after_published",
        })
        total += r["score"]
    for ch_row in chapters.values():
        elapsed += ch_row["execution_time"]
    for ch, q in gb.quiz_scores().get(sub["hash"], {}).items():
        tests.append({"name": f"quiz {ch}", "score": q["score"], "max_score": q["max_score"],
                      "status": "passed" if q["score"] >= q["max_score"] else "failed",
                      "output": f"{q['mode']} attempt, re-scored from the key", "visibility": "after_published"})
        total += q["score"]
    summary = ", ".join(
        f"{c}: {NOT_GRADED}" if r["score"] is None else f"{c}: {_num(r['score'])}/{_num(r['max_score'])}"
        for c, r in sorted(chapters.items())
    )
    return {"score": round(total, 6), "execution_time": round(elapsed, 3), "output": summary, "tests": tests}


def to_json(gb: Gradebook) -> dict[str, Any]:
    columns, rows, possible = table(gb)
    subs = []
    for s in gb.submissions():
        subs.append({
            "hash": s["hash"], "student": s["student"], "source": s["source"], "status": s["status"],
            "reason": s["reason"], "problems": json.loads(s["problems"]), "submitted_at": s["submitted_at"],
            "collected_at": s["collected_at"], "isolation": json.loads(s["isolation"]),
        })
    return {"format_version": 1, "columns": columns, "points_possible": possible, "students": rows, "submissions": subs}


def export(gb: Gradebook, fmt: str, out: Path | None) -> tuple[str | None, list[Path]]:
    """Write the export; returns (text for stdout when no path was given, files written)."""
    if fmt == "gradescope":
        folder = out or Path("gradescope")
        written = []
        for sub in gb.submissions("graded"):
            target = folder / f"{normalise_student(sub['student'])}-{sub['hash'][:12]}" / "results.json"
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(json.dumps(gradescope_results(gb, sub), indent=2, ensure_ascii=False), encoding="utf-8")
            written.append(target)
        return None, written
    if fmt == "csv":
        text = to_csv(gb)
    elif fmt == "canvas":
        text = to_canvas(gb)
    else:
        text = json.dumps(to_json(gb), indent=2, ensure_ascii=False) + "\n"
    if out is None:
        return text, []
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    return None, [out]
