"""``grade export``: the gradebook as CSV, a Canvas gradebook CSV, Gradescope results, JSON.

Each student's counted submission is their newest graded one (``Gradebook.latest``).
Chapters are the catalog chapters present in the gradebook; quizzes are columns of
their own ("quiz chapter3"). Rejected submissions appear only in the JSON export.
"""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path
from typing import Any

from grader.instructor.gradebook import Gradebook

FORMATS = ("csv", "canvas", "gradescope", "json")


def _num(x: float) -> str:
    return f"{x:g}"


def table(gb: Gradebook) -> tuple[list[str], list[dict[str, Any]], dict[str, float]]:
    """(column names, one row per student, points possible per score column)."""
    latest = gb.latest()
    chapters = gb.chapters()
    quizzes = gb.quiz_chapters()
    ch_scores = gb.chapter_scores()
    qz_scores = gb.quiz_scores()
    possible: dict[str, float] = {}
    for per in ch_scores.values():
        for ch, cell in per.items():
            possible[ch] = max(possible.get(ch, 0.0), cell["max_score"])
    for per in qz_scores.values():
        for ch, cell in per.items():
            possible[f"quiz {ch}"] = max(possible.get(f"quiz {ch}", 0.0), cell["max_score"])
    columns = ["student", "submission", "submitted_at", *chapters, *[f"quiz {c}" for c in quizzes], "total", "max_total"]
    rows = []
    for sub in latest:
        row: dict[str, Any] = {"student": sub["student"], "submission": sub["hash"][:12],
                               "submitted_at": sub["submitted_at"] or ""}
        total = 0.0
        for ch in chapters:
            r = ch_scores.get(sub["hash"], {}).get(ch)
            row[ch] = r["score"] if r is not None else 0.0
            total += row[ch]
        for ch in quizzes:
            r = qz_scores.get(sub["hash"], {}).get(ch)
            row[f"quiz {ch}"] = r["score"] if r is not None else 0.0
            total += row[f"quiz {ch}"]
        row["total"] = total
        row["max_total"] = sum(possible.get(c, 0.0) for c in columns[3:-2])
        rows.append(row)
    return columns, rows, possible


def to_csv(gb: Gradebook) -> str:
    columns, rows, _ = table(gb)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(columns)
    for row in rows:
        w.writerow([_num(row[c]) if isinstance(row[c], float) else row[c] for c in columns])
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
        w.writerow([row["student"], "", row["student"], row["student"], "", *[_num(row[c]) for c in scored]])
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
    summary = ", ".join(f"{c}: {_num(r['score'])}/{_num(r['max_score'])}" for c, r in sorted(chapters.items()))
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
            target = folder / f"{sub['student']}-{sub['hash'][:12]}" / "results.json"
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
