"""``grade export``: the gradebook as CSV, a Canvas gradebook CSV, Gradescope results, JSON.

Each student's counted submission is their newest graded one (``Gradebook.latest``); with a
course file (``course.py``) each chapter and quiz counts the submission its late policy picks,
less its late penalty (``lateness.py``; ``--raw``: no penalty).
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
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grader.grading.results import plain_number, visible_summary
from grader.instructor.gradebook import Gradebook
from grader.instructor.submission import clean_text, normalise_student
from grader.util.errors import UsageError

FORMATS = ("csv", "canvas", "gradescope", "json")


NOT_GRADED = "not graded"
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _num(x: float) -> str:
    return plain_number(x)  # never exponent notation (5e-05): Canvas and spreadsheets read it as text


def safe_cell(value: object) -> str:
    """A CSV cell a spreadsheet shows as text: control characters removed, and a cell that
    starts with ``= + - @``, tab or CR (a formula to Excel, LibreOffice, Sheets) gets a
    leading apostrophe. Numbers are written as numbers."""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, (int, float)):
        return _num(float(value))
    raw = "" if value is None else str(value)
    text = clean_text(raw, 2000)
    # checked after cleaning too: a zero-width space or a NUL in front of "=" would hide the
    # formula from the check and then be removed
    if raw.startswith(_FORMULA_START) or text.startswith(_FORMULA_START):
        text = "'" + text
    return text


def _cell(value: object) -> str:
    return NOT_GRADED if value is None else safe_cell(value)


def table(gb: Gradebook, group: Callable[[str], str] | None = None, course: Any | None = None, raw: bool = False,
          notes: list[str] | None = None, counted: dict[str, Any] | None = None
          ) -> tuple[list[str], list[dict[str, Any]], dict[str, float]]:
    """(column names, one row per student, points possible per score column).

    A chapter that was not graded for a student (its needs were missing at collection, or
    it was never collected) is ``None``: "not graded", never 0. Totals add what was graded
    and ``max_total`` the points possible of those columns. ``group`` (a roster
    ``Matching.group``) says which student a submission counts for; ``row["student"]`` is
    that key.

    With a ``course`` (``course.Course``: due dates, late policy, extensions) each chapter and
    quiz takes its score from the submission that counts for it (``lateness.plan``) and loses
    that submission's late penalty, unless ``raw``; ``row["late"]`` says how late each was."""
    group = group or str.casefold
    latest = gb.latest(group)
    if course is not None and counted is None:  # ``counted``: the same plan, made by the caller
        from grader.instructor.lateness import plan

        counted = plan(gb, course, group)
    counted = counted or {}
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
        row: dict[str, Any] = {"student": group(sub["student"]), "submission": sub["hash"][:12],
                               "submitted_at": sub["submitted_at"] or ""}
        total = max_total = 0.0
        per = counted.get(row["student"], {})
        for ch in chapters:
            c = per.get(ch)
            r = ch_scores.get(c.hash if c is not None else sub["hash"], {}).get(ch)
            row[ch] = _late(r["score"] if r is not None and r["score"] is not None else None, c, raw)
        for ch in quizzes:
            c = per.get(f"quiz {ch}")
            r = qz_scores.get(c.hash if c is not None else sub["hash"], {}).get(ch)
            # a quiz with no attempt was open to the student: 0 of the bank's points
            row[f"quiz {ch}"] = _late(r["score"] if r is not None else 0.0, c, raw)
        if course is not None:
            row["late"] = {item: {"submission": c.hash[:12], "submitted_at": c.submitted_at, "due": c.due,
                                  "days_late": c.days_late, "extension_days": c.extension_days,
                                  "penalty_percent": c.penalty, "applied": not raw}
                           for item, c in per.items() if c.due or c.days_late}
        for c in columns[3:-2]:
            if row[c] is not None:
                total += row[c]
                max_total += possible.get(c, 0.0)
        row["total"] = total
        row["max_total"] = max_total
        rows.append(row)
    if course is not None and notes is not None:
        from grader.instructor.lateness import extension_notes

        notes.extend(extension_notes(gb, course, counted))
        penalised = sum(1 for per in counted.values() for c in per.values() if c.penalty > 0)
        notes.append(f"Due dates and late policy from {course.path}: {penalised} late score(s) "
                     + ("left as they are (--raw)." if raw else "reduced by their penalty (--raw leaves them out)."))
    return columns, rows, possible


def _late(score: float | None, c: Any, raw: bool) -> float | None:
    """``score`` less the late penalty of the submission that counts (``c``, or None)."""
    if score is None or c is None or raw or c.penalty <= 0:
        return score
    return round(score * c.factor, 6)


def to_csv(gb: Gradebook, course: Any | None = None, raw: bool = False, notes: list[str] | None = None) -> str:
    columns, rows, _ = table(gb, course=course, raw=raw, notes=notes)
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


_MAP_KEY = re.compile(r"(quiz )?chapter[1-9]\d?")


def read_column_map(path: Path) -> dict[str, str]:
    """``--canvas-columns map.toml``: our column (``chapter2``, ``"quiz chapter2"``) -> the
    Canvas assignment header (``"Perceptrons (12345)"``), at the top level or under
    ``[columns]``. Checked: TOML, known column names, non-empty unique headers."""
    from grader.util.tomlcompat import tomllib

    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise UsageError(f"Cannot read {path}: {exc.strerror or exc}.") from None
    except (UnicodeDecodeError, ValueError) as exc:
        raise UsageError(f"{path} is not a TOML file ({clean_text(exc, 200)}). Write one line per column: "
                         'chapter2 = "Perceptrons (12345)".') from None
    if isinstance(data.get("columns"), dict) and len(data) == 1:
        data = data["columns"]
    out: dict[str, str] = {}
    for key, value in data.items():
        ours = " ".join(clean_text(key, 40).lower().split())
        if not _MAP_KEY.fullmatch(ours):
            raise UsageError(f"{path}: {clean_text(key, 40)!r} is not one of our columns (chapterN or \"quiz chapterN\").")
        if not isinstance(value, str) or not clean_text(value, 200).strip():
            raise UsageError(f"{path}: {ours} must name a Canvas assignment column as text, e.g. \"Perceptrons (12345)\".")
        header = clean_text(value, 200).strip()
        if header in out.values():
            raise UsageError(f"{path}: two of our columns go to {header!r}.")
        out[ours] = header
    if not out:
        raise UsageError(f"{path} maps no columns.")
    return out


def _canvas_columns(scored: list[str], possible: dict[str, float], column_map: dict[str, str] | None,
                    roster: Any, notes: list[str]) -> list[tuple[str, str]]:
    """(our column, Canvas header) in the export's order."""
    known = list(roster.assignments) if roster is not None else []
    if column_map is None:
        if scored:
            notes.append("Assignment columns are named by dl-grade (" + ", ".join(_canvas_title(c) for c in scored[:4])
                         + "): Canvas updates an existing assignment of exactly that title, and creates a new one "
                         "only where there is none. To name the assignments to update by their Canvas id, map them "
                         "with --canvas-columns map.toml (chapter2 = \"Name (assignment_id)\").")
        return [(c, _canvas_title(c)) for c in scored]
    if known:
        wrong = [h for h in column_map.values() if h not in known]
        if wrong:
            raise UsageError(f"--canvas-columns names {', '.join(repr(h) for h in wrong)}, not an assignment column of "
                             f"the roster's Canvas export. Its assignment columns: {', '.join(known[:20])}.")
    chosen = [(c, column_map[c]) for c in scored if c in column_map]
    canvas_points = roster.points if roster is not None else {}
    for c, h in chosen:
        ours = possible.get(c, 0.0)
        if h in canvas_points and abs(canvas_points[h] - ours) > 1e-9:
            notes.append(f"{h} is out of {_num(canvas_points[h])} points in Canvas, {c} out of {_num(ours)} here: "
                         "the scores are written as they are (change the assignment's points in Canvas to match).")
    left = [c for c in scored if c not in column_map]
    if left:
        notes.append(f"Not in the Canvas export (not in --canvas-columns): {', '.join(left)}.")
    absent = [c for c in column_map if c not in scored]
    if absent:
        notes.append(f"Nothing graded yet for {', '.join(absent)} (mapped in --canvas-columns): column left out.")
    return chosen


def _canvas_identity_cells(e: Any, columns: tuple[str, ...], given: tuple[str, ...]) -> list[str]:
    """One roster row's identity cells in Canvas's layout ``columns``: the cells Canvas's
    export gave (``given`` names them), else what the roster knows, else empty."""
    read = dict(zip(given, e.identity, strict=False))
    known = {"Student": e.name, "ID": e.canvas_id, "SIS User ID": e.sis_user_id, "SIS Login ID": e.sis_login_id,
             "Section": e.section}
    return [read.get(c) or known.get(c, "") or "" for c in columns]


def to_canvas(gb: Gradebook, column_map: dict[str, str] | None = None, notes: list[str] | None = None,
              course: Any | None = None, raw: bool = False) -> str:
    """Canvas's gradebook import: identity columns, then one column per assignment, with
    a "Points Possible" row under the header. An empty cell leaves Canvas's grade alone
    ("not graded" must never become a 0). Scores are plain decimals (Canvas does not read
    ``5e-05``).

    The identity columns are always one of the layouts Canvas's importer accepts
    (``roster.canvas_layout``: ``Student, ID, ..., Section``), whatever the roster had.
    With a roster imported from a Canvas export, they carry the cells Canvas gave, row for
    row in its order (students without a submission get empty cells; a separate-name
    export's LastName, FirstName become ``Student`` = "Last, First"), and ``column_map``
    names Canvas's own assignment headers, so Canvas updates its columns. Without a roster,
    a submission named the Canvas way (``name_userid_attachmentid_file``) has its Canvas
    user id in ``ID``; any other id goes to ``SIS User ID``; ``notes`` says so. The file is
    checked against Canvas's import rules (``canvas_format``) before it is returned."""
    from grader.instructor.canvas_format import CanvasFormatError, check_canvas_import
    from grader.instructor.roster import CANVAS_IDENTITY, POINTS_POSSIBLE, canvas_layout, match
    from grader.util.errors import InternalError

    notes = notes if notes is not None else []
    roster = gb.roster()
    matching = match(roster, [r["student"] for r in gb.submissions("graded")])
    columns, rows, possible = table(gb, group=matching.group if matching else None, course=course, raw=raw,
                                    notes=notes)
    scored = columns[3:-2]
    chosen = _canvas_columns(scored, possible, column_map, roster, notes)
    canvas = roster is not None and roster.layout == "canvas"
    identity = list(canvas_layout(roster.identity_columns)) if roster is not None and canvas else list(CANVAS_IDENTITY)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow([safe_cell(c) for c in [*identity, *(h for _, h in chosen)]])
    label = roster.points_label if roster is not None and canvas and roster.points_label else POINTS_POSSIBLE
    w.writerow([safe_cell(label), *[""] * (len(identity) - 1), *[plain_number(possible.get(c, 0.0)) for c, _ in chosen]])

    def scores(row: dict[str, Any] | None) -> list[str]:
        return ["" if row is None or row[c] is None else plain_number(row[c]) for c, _ in chosen]

    if roster is None:
        from grader.instructor.submission import origin_of

        notes.append("No roster in this gradebook: Canvas matches these rows by Canvas user ID (submissions named "
                     "the Canvas way, name_userid_attachmentid_file) or else by SIS User ID (the id from the "
                     "submission's file name); names, SIS logins and sections are unknown. Import the Canvas "
                     "gradebook export first: grade roster import FILE --db ...")
        layouts = {r["student"].casefold(): origin_of(Path(r["source"])).layout for r in gb.submissions("graded")}
        for row in rows:
            sid = safe_cell(row["student"])
            if layouts.get(row["student"]) == "canvas" and sid.isdigit():
                w.writerow([sid, sid, "", "", "", *scores(row)])  # Canvas's own user id
            else:
                w.writerow([sid, "", sid, "", "", *scores(row)])
    else:
        by_id = {row["student"]: row for row in rows}
        for e in roster.entries:
            if canvas:
                cells = _canvas_identity_cells(e, tuple(identity), tuple(roster.identity_columns))
            else:  # a plain roster: its id is the SIS User ID where it names none (as without a roster)
                sis_user = e.sis_user_id or ("" if e.canvas_id or e.sis_login_id else e.id)
                cells = [e.name, e.canvas_id, sis_user, e.sis_login_id, e.section]
            w.writerow([safe_cell(c) for c in cells] + scores(by_id.get(e.id)))
        assert matching is not None
        if matching.unmatched:
            notes.append(f"Left out (not in the roster, so Canvas would not know them): "
                         f"{', '.join(matching.unmatched[:50])}.")
        if matching.missing:
            notes.append(f"{len(matching.missing)} roster students have no submission: their cells are empty "
                         "(Canvas leaves those grades as they are).")
        if not canvas and not any(e.sis_user_id or e.sis_login_id for e in roster.entries):
            notes.append("The roster has no Canvas ids and no SIS ids: Canvas cannot match these rows. Import the "
                         "Canvas gradebook export as the roster instead.")
    text = buf.getvalue()
    try:
        check_canvas_import(text)
    except CanvasFormatError as exc:  # a bug here, never the data's fault: do not hand Canvas a broken file
        raise InternalError(f"the Canvas export does not follow Canvas's import rules: {exc}") from None
    return text


# -- Gradescope -------------------------------------------------------------------------


@dataclass
class Universe:
    """Every test and quiz a results.json lists, with its maximum: the same for every
    student (a test that did not run for someone, an untaken quiz: 0 of the maximum)."""

    tests: dict[tuple[str, str, str], tuple[float, str]] = field(default_factory=dict)  # -> (max, visibility)
    quizzes: dict[str, float] = field(default_factory=dict)  # chapter -> max


def universe(gb: Gradebook, quiz_maxima: dict[str, float] | None = None) -> Universe:
    """The tests (in chapter order, then as they ran) and quizzes of the gradebook's graded
    submissions, plus ``quiz_maxima`` (the banks' maxima: a quiz nobody took yet)."""
    graded = {r["hash"] for r in gb.submissions("graded")}
    found: dict[tuple[str, str, str], tuple[float, str]] = {}
    order = {c: i for i, c in enumerate(gb.chapters())}
    for r in gb.tests():
        if r["hash"] not in graded:
            continue
        key = (r["chapter"], r["exercise"], r["name"])
        prev = found.get(key)
        found[key] = (max(r["max_score"], prev[0] if prev else 0.0), r["visibility"])
    tests = dict(sorted(found.items(), key=lambda kv: order.get(kv[0][0], len(order))))
    quizzes: dict[str, float] = dict(quiz_maxima or {})
    for per in gb.quiz_scores().values():
        for ch, q in per.items():
            quizzes[ch] = max(quizzes.get(ch, 0.0), q["max_score"])
    return Universe(tests, dict(sorted(quizzes.items(), key=lambda kv: (len(kv[0]), kv[0]))))


def _visibility(v: str) -> str:
    return "visible" if v == "public" else "after_published"


def gradescope_results(gb: Gradebook, sub: Any, everything: Universe | None = None) -> dict[str, Any]:
    """Gradescope's results.json for one submission (its autograder format: ``tests`` with
    name, score, max_score, status, visibility, output, output_format; ``score``,
    ``execution_time``, ``output``, ``output_format``, ``stdout_visibility``). Every test and
    quiz of ``everything`` is listed with the same maximum for every student: a test that
    did not run for this submission (its chapter was not graded) is 0 with the reason, an
    untaken quiz 0 of its maximum. Every output is plain text (``output_format: text``:
    Gradescope renders the default as HTML, and the outputs carry the student's text). The
    top-level ``output`` totals the visible tests only."""
    everything = everything or universe(gb)
    tests = []
    total = 0.0
    elapsed = 0.0
    chapters = gb.chapter_scores().get(sub["hash"], {})
    ran = {(r["chapter"], r["exercise"], r["name"]): r for r in gb.tests(sub["hash"])}
    shown: list[tuple[str, float, float, str]] = []
    for key, (max_score, visibility) in everything.tests.items():
        r = ran.get(key)
        if r is None:
            chapter_row = chapters.get(key[0])
            why = (chapter_row["note"] if chapter_row is not None and chapter_row["note"]
                   else f"{key[0]} was not graded for this submission")
            label = ("not submitted" if chapter_row is not None and chapter_row["status"] == "not_submitted"
                     else "not graded")
            tests.append({"name": f"{key[1]}: {key[2]}", "score": 0.0, "max_score": max_score, "status": "failed",
                          "output": f"[{label}] {clean_text(why, 300)}", "visibility": _visibility(visibility),
                          "output_format": "text"})
            continue
        tests.append({
            "name": f"{r['exercise']}: {r['name']}",
            "score": r["score"],
            "max_score": max_score,
            "status": "passed" if r["status"] == "passed" else "failed",
            "output": f"[{r['status']}] {clean_text(r['message'], 2000)}".strip(),
            "visibility": _visibility(visibility),
            "output_format": "text",
        })
        total += r["score"]
        shown.append((key[0], r["score"], max_score, _visibility(visibility)))
    for ch_row in chapters.values():
        elapsed += ch_row["execution_time"]
    taken = gb.quiz_scores().get(sub["hash"], {})
    for ch, max_score in everything.quizzes.items():
        q = taken.get(ch)
        score = q["score"] if q is not None else 0.0
        tests.append({"name": f"quiz {ch}", "score": score, "max_score": max_score,
                      "status": "passed" if q is not None and score >= max_score else "failed",
                      "output": f"{q['mode']} attempt, re-scored from the key" if q is not None else "not taken",
                      "visibility": "after_published", "output_format": "text"})
        total += score
    not_graded = [f"{c}: {NOT_GRADED}" for c, r in sorted(chapters.items()) if r["score"] is None]
    summary = "; ".join(x for x in [visible_summary(shown), *not_graded] if x)
    return {"score": round(total, 6), "execution_time": round(elapsed, 3), "output": summary,
            "output_format": "text", "test_output_format": "text", "stdout_visibility": "hidden", "tests": tests}


def to_json(gb: Gradebook, course: Any | None = None, raw: bool = False,
            notes: list[str] | None = None) -> dict[str, Any]:
    columns, rows, possible = table(gb, course=course, raw=raw, notes=notes)
    subs = []
    for s in gb.submissions():
        subs.append({
            "hash": s["hash"], "student": s["student"], "source": s["source"], "status": s["status"],
            "reason": s["reason"], "problems": json.loads(s["problems"]), "submitted_at": s["submitted_at"],
            "collected_at": s["collected_at"], "isolation": json.loads(s["isolation"]),
        })
    return {"format_version": 1, "columns": columns, "points_possible": possible, "students": rows, "submissions": subs}


def export(gb: Gradebook, fmt: str, out: Path | None, *, column_map: dict[str, str] | None = None,
           notes: list[str] | None = None, course: Any | None = None,
           raw: bool = False) -> tuple[str | None, list[Path]]:
    """Write the export; returns (text for stdout when no path was given, files written).
    ``notes`` collects what the instructor should know (what Canvas cannot match, ...).
    ``course`` (``course.Course``): late penalties are applied to the scores (not with ``raw``);
    Gradescope's per-submission results are always raw (Gradescope applies its own policy)."""
    notes = notes if notes is not None else []
    if column_map is not None and fmt != "canvas":
        raise UsageError("--canvas-columns goes with --format canvas.")
    if fmt == "gradescope":
        if course is not None and not raw:
            notes.append("Gradescope results.json files are per submission and carry raw scores: no late penalties "
                         "in them (Gradescope applies its own late policy).")
        folder = out or Path("gradescope")
        written = []
        everything = universe(gb)
        chapters = gb.chapter_scores()
        partial = sorted({sub["student"] for sub in gb.submissions("graded")
                          if any(r["score"] is None for r in chapters.get(sub["hash"], {}).values())})
        if partial:
            notes.append(f"Not graded chapters are listed as 0 (Gradescope has no 'not graded') for: "
                         f"{', '.join(partial[:20])}{' ...' if len(partial) > 20 else ''}. Run grade collect "
                         "--regrade where they can be graded, then export again, before uploading.")
        for sub in gb.submissions("graded"):
            target = folder / f"{normalise_student(sub['student'])}-{sub['hash'][:12]}" / "results.json"
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(json.dumps(gradescope_results(gb, sub, everything), indent=2, ensure_ascii=False), encoding="utf-8")
            written.append(target)
        return None, written
    if fmt == "csv":
        text = to_csv(gb, course, raw, notes)
    elif fmt == "canvas":
        text = to_canvas(gb, column_map, notes, course, raw)
    else:
        text = json.dumps(to_json(gb, course, raw, notes), indent=2, ensure_ascii=False) + "\n"
    if out is None:
        return text, []
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    return None, [out]
