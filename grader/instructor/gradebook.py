"""The SQLite gradebook: one row per submission (keyed by its sha256), its chapter and
test results and re-scored quizzes.

Only the collecting (trusted) process writes here. Everything about one submission is
written in one transaction, so a run killed at any moment leaves each submission either
fully graded or absent; the next run grades the absent ones. The primary key on the
hash makes "graded exactly once" a property of the file, not of the code.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

SCHEMA_VERSION = 1

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    started TEXT NOT NULL,
    finished TEXT,
    workers INTEGER,
    executor TEXT
);
CREATE TABLE IF NOT EXISTS submissions (
    hash TEXT PRIMARY KEY,          -- sha256 of (student id, content_sha256): one per student and work
    content_sha256 TEXT NOT NULL DEFAULT '', -- sha256 of the zip (or of a folder's graded files)
    student TEXT NOT NULL,
    source TEXT NOT NULL,           -- the path it was collected from
    kind TEXT NOT NULL,             -- zip | folder
    submitted_at TEXT,              -- from the submission's manifest (as the student claims)
    status TEXT NOT NULL,           -- graded | rejected | error
    reason TEXT NOT NULL DEFAULT '',-- why a submission was rejected
    problems TEXT NOT NULL DEFAULT '[]',  -- JSON list: per-file problems of a graded submission
    manifest TEXT NOT NULL DEFAULT '{}',
    isolation TEXT NOT NULL DEFAULT '[]', -- JSON list: how the worker was isolated
    collected_at TEXT NOT NULL,
    run_id INTEGER NOT NULL,
    grader_version TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS submissions_student ON submissions(student);
CREATE TABLE IF NOT EXISTS chapter_scores (
    hash TEXT NOT NULL REFERENCES submissions(hash),
    chapter TEXT NOT NULL,
    score REAL NOT NULL,
    max_score REAL NOT NULL,
    execution_time REAL NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (hash, chapter)
);
CREATE TABLE IF NOT EXISTS test_results (
    hash TEXT NOT NULL REFERENCES submissions(hash),
    chapter TEXT NOT NULL,
    exercise TEXT NOT NULL,
    name TEXT NOT NULL,
    status TEXT NOT NULL,
    score REAL NOT NULL,
    max_score REAL NOT NULL,
    visibility TEXT NOT NULL,
    message TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS test_results_hash ON test_results(hash);
CREATE TABLE IF NOT EXISTS quiz_scores (
    hash TEXT NOT NULL REFERENCES submissions(hash),
    chapter TEXT NOT NULL,
    mode TEXT NOT NULL,
    score REAL NOT NULL,
    max_score REAL NOT NULL,
    PRIMARY KEY (hash, chapter)
);
CREATE TABLE IF NOT EXISTS quiz_items (
    hash TEXT NOT NULL REFERENCES submissions(hash),
    chapter TEXT NOT NULL,
    question TEXT NOT NULL,
    score REAL NOT NULL,
    PRIMARY KEY (hash, chapter, question)
);
"""


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


@dataclass
class Graded:
    """Everything recorded for one submission (what a grading task returns, plus quizzes)."""

    hash: str
    student: str
    source: str
    kind: str
    status: str  # graded | rejected | error
    content_sha256: str = ""
    reason: str = ""
    submitted_at: str | None = None
    problems: list[str] | None = None
    manifest: dict[str, Any] | None = None
    chapters: list[dict[str, Any]] | None = None  # CheckReport.to_dict() + "note"
    quizzes: list[Any] | None = None  # QuizScore


class Gradebook:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        self.db.row_factory = sqlite3.Row
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(SCHEMA)
        self.db.execute("INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Gradebook:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- runs and idempotency ------------------------------------------------------------

    def start_run(self, workers: int, executor: str) -> int:
        cur = self.db.execute(
            "INSERT INTO runs (started, workers, executor) VALUES (?, ?, ?)", (now(), workers, executor)
        )
        return int(cur.lastrowid or 0)

    def finish_run(self, run_id: int) -> None:
        self.db.execute("UPDATE runs SET finished = ? WHERE id = ?", (now(), run_id))

    def known_hashes(self) -> set[str]:
        return {r[0] for r in self.db.execute("SELECT hash FROM submissions")}

    # -- writing ---------------------------------------------------------------------------

    def record(self, g: Graded, run_id: int, grader_version: str) -> bool:
        """Write one submission in one transaction; False if it was already there."""
        isolation: list[str] = []
        for ch in g.chapters or []:
            for item in ch.get("isolation", []):
                if item not in isolation:
                    isolation.append(item)
        try:
            self.db.execute("BEGIN IMMEDIATE")
            self.db.execute(
                "INSERT INTO submissions (hash, content_sha256, student, source, kind, submitted_at, status, reason,"
                " problems, manifest, isolation, collected_at, run_id, grader_version)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    g.hash, g.content_sha256, g.student, g.source, g.kind, g.submitted_at, g.status, g.reason,
                    json.dumps(g.problems or []), json.dumps(g.manifest or {}), json.dumps(isolation),
                    now(), run_id, grader_version,
                ),
            )
            for ch in g.chapters or []:
                self.db.execute(
                    "INSERT INTO chapter_scores VALUES (?,?,?,?,?,?)",
                    (g.hash, ch["chapter"], ch["score"], ch["max_score"], ch.get("execution_time", 0.0),
                     ch.get("note", "")),
                )
                self.db.executemany(
                    "INSERT INTO test_results VALUES (?,?,?,?,?,?,?,?,?)",
                    [
                        (g.hash, ch["chapter"], t["exercise"], t["name"], t["status"], t["score"], t["max_score"],
                         t["visibility"], t["message"])
                        for t in ch["tests"]
                    ],
                )
            for q in g.quizzes or []:
                self.db.execute(
                    "INSERT INTO quiz_scores VALUES (?,?,?,?,?)", (g.hash, q.chapter, q.mode, q.score, q.max_score)
                )
                self.db.executemany(
                    "INSERT INTO quiz_items VALUES (?,?,?,?)",
                    [(g.hash, q.chapter, qid, s) for qid, s in sorted(q.items.items())],
                )
            self.db.execute("COMMIT")
            return True
        except sqlite3.IntegrityError:
            self.db.execute("ROLLBACK")
            return False
        except BaseException:
            if self.db.in_transaction:
                self.db.execute("ROLLBACK")
            raise

    # -- reading ---------------------------------------------------------------------------

    def submissions(self, status: str | None = None) -> list[sqlite3.Row]:
        if status:
            return list(self.db.execute("SELECT rowid, * FROM submissions WHERE status = ? ORDER BY rowid", (status,)))
        return list(self.db.execute("SELECT rowid, * FROM submissions ORDER BY rowid"))

    def latest(self) -> list[sqlite3.Row]:
        """Each student's counted submission: the newest graded one (by manifest time, then order)."""
        rows = self.submissions("graded")
        best: dict[str, sqlite3.Row] = {}
        for r in rows:
            key = (r["submitted_at"] or "", r["rowid"])
            prev = best.get(r["student"])
            if prev is None or key >= (prev["submitted_at"] or "", prev["rowid"]):
                best[r["student"]] = r
        return [best[s] for s in sorted(best)]

    def chapter_scores(self, hashes: Iterable[str] | None = None) -> dict[str, dict[str, sqlite3.Row]]:
        out: dict[str, dict[str, sqlite3.Row]] = {}
        for r in self.db.execute("SELECT * FROM chapter_scores ORDER BY hash, chapter"):
            out.setdefault(r["hash"], {})[r["chapter"]] = r
        if hashes is not None:
            keep = set(hashes)
            out = {h: v for h, v in out.items() if h in keep}
        return out

    def quiz_scores(self) -> dict[str, dict[str, sqlite3.Row]]:
        out: dict[str, dict[str, sqlite3.Row]] = {}
        for r in self.db.execute("SELECT * FROM quiz_scores ORDER BY hash, chapter"):
            out.setdefault(r["hash"], {})[r["chapter"]] = r
        return out

    def tests(self, hash_: str | None = None) -> list[sqlite3.Row]:
        if hash_ is None:
            return list(self.db.execute("SELECT * FROM test_results"))
        return list(self.db.execute("SELECT * FROM test_results WHERE hash = ? ORDER BY rowid", (hash_,)))

    def quiz_items(self) -> list[sqlite3.Row]:
        return list(self.db.execute("SELECT * FROM quiz_items ORDER BY chapter, question"))

    def chapters(self) -> list[str]:
        names = {r[0] for r in self.db.execute("SELECT DISTINCT chapter FROM chapter_scores")}
        return sorted(names, key=lambda c: (len(c), c))

    def quiz_chapters(self) -> list[str]:
        names = {r[0] for r in self.db.execute("SELECT DISTINCT chapter FROM quiz_scores")}
        return sorted(names, key=lambda c: (len(c), c))

    def snapshot(self) -> dict[str, Any]:
        """A comparable view of the grades (no times, no run ids): for tests and audits."""
        subs = {r["hash"]: (r["student"], r["status"], r["reason"]) for r in self.submissions()}
        chapters = {(r["hash"], r["chapter"]): (r["score"], r["max_score"])
                    for r in self.db.execute("SELECT * FROM chapter_scores")}
        tests = sorted(
            (r["hash"], r["chapter"], r["exercise"], r["name"], r["status"], r["score"])
            for r in self.db.execute("SELECT * FROM test_results")
        )
        quizzes = {(r["hash"], r["chapter"]): (r["score"], r["max_score"])
                   for r in self.db.execute("SELECT * FROM quiz_scores")}
        return {"submissions": subs, "chapters": chapters, "tests": tests, "quizzes": quizzes}
