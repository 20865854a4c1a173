"""Class statistics from the gradebook (the numbers behind ``grade report``).

Counted submissions are each student's newest graded one. Quiz item analysis uses the
classic measures: difficulty = mean fraction of the item's points earned; discrimination
= item-rest correlation (Pearson between the item score and the student's score on the
chapter quiz's other items). An item with discrimination below 0.15 is flagged: it does
not separate students who know the chapter from those who do not (or its key is wrong).
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from grader.instructor.gradebook import Gradebook

DISCRIMINATION_FLAG = 0.15
MIN_ITEM_RESPONSES = 20  # below this an item's statistics are noise: "too few answers", never flagged


@dataclass
class ChapterStats:
    chapter: str
    max_score: float
    scores: list[float]  # counted submissions' scores (graded ones only)
    not_graded: int = 0  # counted submissions for which this chapter was not graded
    not_submitted: int = 0  # counted submissions holding no file of this chapter (0 points, not in scores)

    @property
    def mean(self) -> float:
        return sum(self.scores) / len(self.scores) if self.scores else 0.0

    @property
    def median(self) -> float:
        s = sorted(self.scores)
        if not s:
            return 0.0
        mid = len(s) // 2
        return s[mid] if len(s) % 2 else (s[mid - 1] + s[mid]) / 2

    @property
    def full_marks(self) -> int:
        return sum(1 for x in self.scores if self.max_score and x >= self.max_score - 1e-9)

    def histogram(self, bins: int = 10) -> list[int]:
        counts = [0] * bins
        for x in self.scores:
            frac = x / self.max_score if self.max_score else 0.0
            counts[min(bins - 1, max(0, int(frac * bins)))] += 1
        return counts


@dataclass
class TestStats:
    chapter: str
    exercise: str
    name: str
    visibility: str
    n: int
    passed: int
    statuses: dict[str, int]

    @property
    def pass_rate(self) -> float:
        return self.passed / self.n if self.n else 0.0


@dataclass
class ItemStats:
    chapter: str
    question: str
    n: int
    difficulty: float  # mean fraction earned (higher = easier)
    discrimination: float | None  # item-rest correlation; None when undefined (no variance)

    @property
    def too_few(self) -> bool:
        return self.n < MIN_ITEM_RESPONSES

    @property
    def flagged(self) -> bool:
        return not self.too_few and self.discrimination is not None and self.discrimination < DISCRIMINATION_FLAG


@dataclass
class FailingMessage:
    exercise: str
    message: str  # an example of the message (first line)
    count: int  # students (counted submissions) who got it, not tests
    status: str
    tests: int = 0  # how many failing tests printed it


@dataclass
class Failure:
    chapter: str
    exercise: str
    test: str
    status: str
    message: str


@dataclass
class StudentRow:
    """One student's counted submission, for the per-student table and page."""

    student: str
    hash: str
    source: str
    chapters: dict[str, float | None]  # None: not graded
    quizzes: dict[str, float]
    total: float
    max_total: float
    failures: list[Failure] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    penalties: dict[str, float] = field(default_factory=dict)  # column -> late penalty % (course file)
    not_submitted: list[str] = field(default_factory=list)  # chapters with no file in the submission


@dataclass
class LateRow:
    """One student's chapter or quiz under the course file: the submission that counts, how
    late it was and its penalty (``lateness.Counted``, with the scores)."""

    student: str
    item: str
    submission: str  # its hash, 12 characters
    submitted_at: str | None
    time_source: str  # lms | mtime | order
    due: str | None  # the (extended) due date that applied, ISO UTC
    due_source: str  # course | gradescope | canvas flag | ""
    extension_days: float
    days_late: int
    penalty: float  # percent
    raw_score: float | None
    score: float | None  # after the penalty
    note: str = ""
    later_ignored: int = 0


@dataclass
class ClassReport:
    students: int
    submissions: int
    rejected: list[tuple[str, str, str]]  # (student, source, reason)
    problems: list[tuple[str, str]]  # (student, problem) of counted submissions
    chapters: list[ChapterStats]
    quizzes: list[ChapterStats]
    tests: list[TestStats]
    items: list[ItemStats]
    failing: list[FailingMessage]
    isolation: list[str] = field(default_factory=list)
    students_table: list[StudentRow] = field(default_factory=list)  # sorted by student id
    columns: list[str] = field(default_factory=list)  # score columns of the table
    late: list[LateRow] = field(default_factory=list)  # with a course file: every student and dated item
    late_policy: str = ""  # with a course file: the policy in words (which submission counts)
    late_notes: list[str] = field(default_factory=list)  # e.g. extensions for ids not in the gradebook


def pearson(xs: list[float], ys: list[float]) -> float | None:
    n = len(xs)
    if n < 2:
        return None
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    syy = sum((y - my) ** 2 for y in ys)
    if sxx <= 1e-12 or syy <= 1e-12:
        return None
    sxy = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True))
    return sxy / math.sqrt(sxx * syy)


def item_analysis(responses: dict[str, dict[str, float]]) -> list[ItemStats]:
    """``responses``: student -> {question: fraction earned} for ONE chapter's quiz."""
    questions = sorted({q for r in responses.values() for q in r})
    out = []
    for q in questions:
        xs, rest = [], []
        for r in responses.values():
            if q not in r:
                continue
            xs.append(r[q])
            rest.append(sum(v for k, v in r.items() if k != q))
        if not xs:
            continue
        out.append(ItemStats("", q, len(xs), sum(xs) / len(xs), pearson(xs, rest)))
    return out


_NUMBER = re.compile(r"-?\d+(\.\d+)?(e-?\d+)?")


def build_report(gb: Gradebook, top_messages: int = 12, course: Any | None = None) -> ClassReport:
    """The class report. With a ``course`` (``course.Course``) the per-student table has the
    scores ``grade export`` writes (the submission that counts per chapter, less its late
    penalty) and ``late`` lists the lateness of every student's dated chapters and quizzes;
    the statistics stay those of each student's newest graded submission, raw."""
    latest = gb.latest()
    counted = {r["hash"]: r["student"] for r in latest}
    all_subs = gb.submissions()
    rejected = [(r["student"], r["source"], r["reason"]) for r in all_subs if r["status"] != "graded"]
    problems = [(r["student"], p) for r in latest for p in json.loads(r["problems"])]
    isolation: list[str] = []
    for r in latest:
        for item in json.loads(r["isolation"]):
            if item not in isolation:
                isolation.append(item)

    ch_scores = gb.chapter_scores(counted)
    chapters = []
    for ch in gb.chapters():
        absent = sum(1 for per in ch_scores.values() if ch in per and per[ch]["status"] == "not_submitted")
        rows = [per[ch] for per in ch_scores.values()
                if ch in per and per[ch]["score"] is not None and per[ch]["status"] != "not_submitted"]
        chapters.append(ChapterStats(ch, max((r["max_score"] for r in rows), default=0.0), [r["score"] for r in rows],
                                     not_graded=len(counted) - len(rows) - absent, not_submitted=absent))
    qz = gb.quiz_scores()
    quizzes = []
    for ch in gb.quiz_chapters():
        rows = [per[ch] for h, per in qz.items() if h in counted and ch in per]
        quizzes.append(ChapterStats(f"quiz {ch}", max((r["max_score"] for r in rows), default=0.0),
                                    [r["score"] for r in rows]))

    tstats: dict[tuple[str, str, str, str], TestStats] = {}
    who: dict[tuple[str, str, str], set[str]] = defaultdict(set)  # message -> students who got it
    test_count: Counter[tuple[str, str, str]] = Counter()
    examples: dict[tuple[str, str, str], str] = {}
    failures: dict[str, list[Failure]] = defaultdict(list)
    for r in gb.tests():
        if r["hash"] not in counted:
            continue
        key = (r["chapter"], r["exercise"], r["name"], r["visibility"])
        t = tstats.get(key) or TestStats(*key, n=0, passed=0, statuses=defaultdict(int))
        tstats[key] = t
        t.n += 1
        t.passed += r["status"] == "passed"
        t.statuses[r["status"]] += 1
        if r["status"] != "passed":
            failures[r["hash"]].append(Failure(r["chapter"], r["exercise"], r["name"], r["status"], r["message"]))
        if r["status"] in ("failed", "error", "timeout", "resource"):
            first = (r["message"].strip().splitlines() or [""])[0][:200]
            norm = (r["exercise"], r["status"], _NUMBER.sub("#", first))
            who[norm].add(r["hash"])
            test_count[norm] += 1
            examples.setdefault(norm, first)
    ranked = sorted(who, key=lambda k: (-len(who[k]), -test_count[k], k))[:top_messages]
    failing = [FailingMessage(k[0], examples[k], len(who[k]), k[1], test_count[k]) for k in ranked]

    from grader.instructor.export import table as export_table

    late = _late(gb, course) if course is not None else {}
    counted_items = late.pop("counted", None) or {}
    columns, rows, _possible = export_table(gb, course=course, counted=counted_items)
    score_columns = columns[3:-2]
    by_hash = {r["hash"]: r for r in latest}
    students_table = []
    for row in rows:
        h = next((x for x in by_hash if x.startswith(row["submission"]) and
                  by_hash[x]["student"].casefold() == row["student"]), None)
        if h is None:
            continue
        students_table.append(StudentRow(
            row["student"], h, by_hash[h]["source"],
            {c: row[c] for c in score_columns if not c.startswith("quiz ")},
            {c: row[c] for c in score_columns if c.startswith("quiz ")},
            row["total"], row["max_total"], failures.get(h, []), json.loads(by_hash[h]["problems"]),
            {c: x.penalty for c, x in counted_items.get(row["student"], {}).items() if x.penalty},
            [c for c, r in ch_scores.get(h, {}).items() if r["status"] == "not_submitted"],
        ))

    per_chapter: dict[str, dict[str, dict[str, float]]] = defaultdict(lambda: defaultdict(dict))
    for r in gb.quiz_items():
        if r["hash"] in counted:
            per_chapter[r["chapter"]][r["hash"]][r["question"]] = r["score"]
    items = []
    for ch in sorted(per_chapter, key=lambda c: (len(c), c)):
        for item in item_analysis(per_chapter[ch]):
            item.chapter = ch
            items.append(item)

    return ClassReport(
        students=len(latest),
        submissions=len(all_subs),
        rejected=rejected,
        problems=problems,
        chapters=chapters,
        quizzes=quizzes,
        # hardest first
        tests=sorted(tstats.values(), key=lambda t: (t.pass_rate, len(t.chapter), t.chapter, t.exercise, t.name)),
        items=items,
        failing=failing,
        isolation=isolation,
        students_table=students_table,
        columns=score_columns,
        **late,
    )


def _late(gb: Gradebook, course: Any) -> dict[str, Any]:
    """``late``, ``late_policy`` and ``late_notes`` of the report under ``course`` (and
    ``counted``, the plan, for the per-student table)."""
    from grader.instructor.lateness import extension_notes, plan

    counted = plan(gb, course)  # grouped as the per-student table is (by id, case-insensitively)
    chapters = gb.chapter_scores()
    quizzes = gb.quiz_scores()
    rows: list[LateRow] = []
    for student, per in counted.items():
        for item in sorted(per, key=lambda i: (i.startswith("quiz "), len(i), i)):
            c = per[item]
            if not (c.due or c.days_late or c.extension_days):
                continue
            if item.startswith("quiz "):
                q = quizzes.get(c.hash, {}).get(item[5:])
                raw = q["score"] if q is not None else None
            else:
                r = chapters.get(c.hash, {}).get(item)
                raw = r["score"] if r is not None else None
            score = None if raw is None else round(raw * c.factor, 6)
            rows.append(LateRow(student, item, c.hash[:12], c.submitted_at, c.time_source, c.due, c.due_source,
                                c.extension_days, c.days_late, c.penalty, raw, score, c.note, c.later_ignored))
    notes = extension_notes(gb, course, counted)
    return {"late": rows, "late_policy": course.policy.describe(), "late_notes": notes, "counted": counted}


# -- grade report --changes ------------------------------------------------------------


@dataclass
class Change:
    """One thing a regrade moved: a chapter total (``test == ""``), a test or a quiz."""

    run_id: int
    when: str
    student: str
    chapter: str
    test: str
    before: str  # "passed 2/2", "not graded", "absent"
    after: str
    before_score: float | None
    after_score: float | None

    @property
    def drop(self) -> bool:
        return self.before_score is not None and (self.after_score is None or self.after_score < self.before_score - 1e-9)


def _describe(status: str | None, score: float | None, max_score: float | None) -> str:
    if status is None:
        return "absent"
    if score is None:
        return "not graded"
    shown = f"{score:g}/{max_score:g}" if max_score is not None else f"{score:g}"
    return shown if status in ("graded", "graded_quiz") else f"{status} {shown}"


def _group(key: tuple[str, ...]) -> tuple[str, str]:
    return (key[0], "quiz") if key[2] == "quiz" else (key[0], key[1])


def build_changes(gb: Gradebook, run_id: int | None = None) -> list[Change]:
    """What every regrade run (or only ``run_id``) moved, per student and per test: the
    results a run replaced (kept in ``history``) against what replaced them (the next
    regrade's history, else the gradebook now)."""
    students = {r["hash"]: r["student"] for r in gb.submissions()}
    after: dict[tuple[str, ...], tuple[str, float | None, float | None]] = {}
    for r in gb.db.execute("SELECT * FROM chapter_scores"):
        after[(r["hash"], r["chapter"], "chapter", "")] = (r["status"], r["score"], r["max_score"])
    for r in gb.db.execute("SELECT * FROM test_results"):
        after[(r["hash"], r["chapter"], "test", f"{r['exercise']}: {r['name']}")] = (r["status"], r["score"],
                                                                                      r["max_score"])
    for r in gb.db.execute("SELECT * FROM quiz_scores"):
        after[(r["hash"], r["chapter"], "quiz", "")] = ("graded_quiz", r["score"], r["max_score"])
    changes: list[Change] = []
    for run in reversed(gb.runs("regrade")):
        before: dict[tuple[str, ...], tuple[str, float | None, float | None]] = {}
        for h in gb.history(run["id"]):
            name = f"{h['exercise']}: {h['name']}" if h["kind"] == "test" else ""
            status = "graded_quiz" if h["kind"] == "quiz" else h["status"]
            before[(h["hash"], h["chapter"], h["kind"], name)] = (status, h["score"], h["max_score"])
        touched = {_group(k) for k in before}
        keys = set(before) | {k for k in after if _group(k) in touched}
        if run_id is None or run["id"] == run_id:
            for key in keys:
                b = before.get(key)
                a = after.get(key)
                if b == a:
                    continue
                label = key[3] if key[2] == "test" else ("quiz" if key[2] == "quiz" else "chapter total")
                changes.append(Change(
                    run["id"], run["started"], students.get(key[0], "?"), key[1], label,
                    _describe(*(b or (None, None, None))), _describe(*(a or (None, None, None))),
                    b[1] if b else None, a[1] if a else None,
                ))
        for key in keys:  # the state before this run is what the earlier runs changed into
            if key in before:
                after[key] = before[key]
            else:
                after.pop(key, None)
    changes.sort(key=lambda c: (c.run_id, c.student, len(c.chapter), c.chapter, c.test != "chapter total", c.test))
    return changes
