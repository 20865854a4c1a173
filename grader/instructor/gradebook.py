"""The SQLite gradebook: one row per submission (keyed by its sha256), its chapter and
test results and re-scored quizzes.

Only the collecting (trusted) process writes here. Everything about one submission is
written in one transaction, so a run killed at any moment leaves each submission either
fully graded or absent; the next run grades the absent ones. The primary key on the
hash makes "graded exactly once" a property of the file, not of the code.

A roster (``grade roster import``) lives in ``roster`` and a few ``meta`` keys; a file
without one is still version 2 (the tables are added when it is opened).

Version 2 (older files are migrated when opened; newer ones are refused with a clear
message): a chapter score is NULL when the chapter was not graded (never 0); the time of
a submission is the instructor's (``time_source``: mtime, LMS, order); the graded sources
are kept (``sources``) so that ``grade collect --regrade`` needs no original files; a
regrade moves the results it replaces to ``history`` (``grade report --changes``).

Version 3: results are complete per (submission, chapter), never per submission alone. Each
chapter result records the ``suite_version`` (a hash of the chapter's suites and catalog entry)
that produced it; ``grade collect`` grades every (submission, chapter) that has no result from
the current suites — a chapter added in a later week, a chapter whose suites changed, a chapter
that could not be graded before — and moves a result it replaces to ``history``. Results from
before v3 have no recorded version ('') and are graded again by the next collect.

Version 4: what the LMS says about a submission's time besides ``submitted_at``: ``lms_due``
(Gradescope's due date for it, its extensions included) and ``lms_late`` (Canvas's ``late_``
flag, Gradescope's lateness: 1 late, 0 on time, NULL not known); and the roster's
``extension_days``. Older files get the columns empty (nothing known); grade report and
grade export read the due dates and the late policy from the course file (``course.py``).
A chapter a submission holds no file of is recorded without grading as ``not_submitted``:
score 0, max_score NULL (the chapter's maximum is the graded submissions'), never graded again
(the submission's files cannot change). Older files simply have no such rows.
"""

from __future__ import annotations

import base64
import json
import sqlite3
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from grader.util.errors import UsageError

SCHEMA_VERSION = 4

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    started TEXT NOT NULL,
    finished TEXT,
    workers INTEGER,
    executor TEXT,
    kind TEXT NOT NULL DEFAULT 'collect'  -- collect | regrade
);
CREATE TABLE IF NOT EXISTS submissions (
    hash TEXT PRIMARY KEY,          -- sha256 of (student id, content_sha256): one per student and work
    content_sha256 TEXT NOT NULL DEFAULT '', -- sha256 of the zip (or of a folder's graded files)
    student TEXT NOT NULL,
    source TEXT NOT NULL,           -- the path it was collected from
    kind TEXT NOT NULL,             -- zip | folder
    submitted_at TEXT,              -- from the instructor's side: LMS time, else the file's mtime
    time_source TEXT NOT NULL DEFAULT '', -- lms | mtime | order ('' in gradebooks from before v2)
    seq INTEGER NOT NULL DEFAULT 0, -- tie-break: LMS attachment id, else position on the command line
    status TEXT NOT NULL,           -- graded | rejected | error
    reason TEXT NOT NULL DEFAULT '',-- why a submission was rejected
    problems TEXT NOT NULL DEFAULT '[]',  -- JSON list: per-file problems of a graded submission
    manifest TEXT NOT NULL DEFAULT '{}',
    isolation TEXT NOT NULL DEFAULT '[]', -- JSON list: how the worker was isolated
    collected_at TEXT NOT NULL,
    run_id INTEGER NOT NULL,
    grader_version TEXT NOT NULL,
    lms_due TEXT,                   -- v4: the LMS's due date for it (Gradescope), ISO UTC, or NULL
    lms_late INTEGER                -- v4: the LMS's verdict: 1 late, 0 on time, NULL not known
);
CREATE INDEX IF NOT EXISTS submissions_student ON submissions(student);
CREATE TABLE IF NOT EXISTS chapter_scores (
    hash TEXT NOT NULL REFERENCES submissions(hash),
    chapter TEXT NOT NULL,
    score REAL,                     -- NULL: not graded (never the same as 0)
    max_score REAL,
    execution_time REAL NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL DEFAULT 'graded', -- graded | not_graded | not_submitted
    suite_version TEXT NOT NULL DEFAULT '', -- hash of the suites that graded it ('' before v3: unknown)
    PRIMARY KEY (hash, chapter)
);
CREATE TABLE IF NOT EXISTS sources (  -- what was graded, so that --regrade needs no original files
    hash TEXT PRIMARY KEY REFERENCES submissions(hash),
    files BLOB NOT NULL,            -- zlib(JSON {"chapter3/x.py": base64})
    responses BLOB                  -- zlib(JSON quiz responses) or NULL
);
CREATE TABLE IF NOT EXISTS history (  -- results replaced by a regrade, kept for grade report --changes
    run_id INTEGER NOT NULL,        -- the regrade run that replaced them
    hash TEXT NOT NULL,
    chapter TEXT NOT NULL,
    kind TEXT NOT NULL,             -- chapter | test | quiz
    exercise TEXT NOT NULL DEFAULT '',
    name TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL DEFAULT '',
    score REAL,
    max_score REAL,
    message TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS history_run ON history(run_id);
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
CREATE TABLE IF NOT EXISTS roster (  -- grade roster import: instructor-side identity (replaced whole)
    position INTEGER PRIMARY KEY,   -- the order of the roster file
    id TEXT NOT NULL UNIQUE,        -- the match key (Canvas user ID, or the plain roster's id)
    name TEXT NOT NULL DEFAULT '',
    email TEXT NOT NULL DEFAULT '',
    sis_user_id TEXT NOT NULL DEFAULT '',
    sis_login_id TEXT NOT NULL DEFAULT '',
    section TEXT NOT NULL DEFAULT '',
    canvas_id TEXT NOT NULL DEFAULT '',
    identity TEXT NOT NULL DEFAULT '[]', -- JSON: a Canvas row's identity cells as read
    extension_days REAL             -- v4: the roster's extension_days column, or NULL
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


class GradebookError(UsageError):
    """The file is not a gradebook this version can use (the message says what to do)."""


def pack_sources(files: dict[str, bytes], responses: Any | None) -> tuple[bytes, bytes | None]:
    blob = zlib.compress(json.dumps({k: base64.b64encode(v).decode() for k, v in files.items()}).encode(), 6)
    resp = zlib.compress(json.dumps(responses).encode(), 6) if responses is not None else None
    return blob, resp


def unpack_sources(files: bytes, responses: bytes | None) -> tuple[dict[str, bytes], Any | None]:
    out = {k: base64.b64decode(v) for k, v in json.loads(zlib.decompress(files)).items()}
    return out, (json.loads(zlib.decompress(responses)) if responses is not None else None)


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
    submitted_at: str | None = None  # from the instructor's side (Origin), never the manifest
    problems: list[str] | None = None
    manifest: dict[str, Any] | None = None
    chapters: list[dict[str, Any]] | None = None  # CheckReport.to_dict() + "note"; "not_graded": True
    quizzes: list[Any] | None = None  # QuizScore
    time_source: str = ""
    seq: int = 0
    files: dict[str, bytes] | None = None  # the graded sources (kept for --regrade)
    responses: Any | None = None
    lms_due: str | None = None  # the LMS's due date (Gradescope's metadata), ISO UTC
    lms_late: bool | None = None  # the LMS's verdict (Canvas's late_ flag, Gradescope's lateness)


def _migrate(db: sqlite3.Connection, found: int) -> None:
    """v1 -> v2: nullable chapter scores (not graded is not 0), the instructor-side time
    fields, stored sources and the regrade history. v2 -> v3: the suite version of each
    chapter result ('' for the results already there). v3 -> v4: the LMS's due date and verdict
of a submission, the roster's extension days (NULL: not known). Nothing recorded is lost."""
    db.execute("BEGIN IMMEDIATE")
    try:
        if found < 2:
            cols = {r[1] for r in db.execute("PRAGMA table_info(submissions)")}
            if "time_source" not in cols:
                db.execute("ALTER TABLE submissions ADD COLUMN time_source TEXT NOT NULL DEFAULT ''")
            if "seq" not in cols:
                db.execute("ALTER TABLE submissions ADD COLUMN seq INTEGER NOT NULL DEFAULT 0")
            if "kind" not in {r[1] for r in db.execute("PRAGMA table_info(runs)")}:
                db.execute("ALTER TABLE runs ADD COLUMN kind TEXT NOT NULL DEFAULT 'collect'")
            if "status" not in {r[1] for r in db.execute("PRAGMA table_info(chapter_scores)")}:
                db.execute("ALTER TABLE chapter_scores RENAME TO chapter_scores_v1")
                db.execute("""CREATE TABLE chapter_scores (
                    hash TEXT NOT NULL REFERENCES submissions(hash), chapter TEXT NOT NULL, score REAL,
                    max_score REAL, execution_time REAL NOT NULL, note TEXT NOT NULL DEFAULT '',
                    status TEXT NOT NULL DEFAULT 'graded', PRIMARY KEY (hash, chapter))""")
                db.execute("INSERT INTO chapter_scores (hash, chapter, score, max_score, execution_time, note)"
                           " SELECT hash, chapter, score, max_score, execution_time, note FROM chapter_scores_v1")
                db.execute("DROP TABLE chapter_scores_v1")
        if found < 3 and "suite_version" not in {r[1] for r in db.execute("PRAGMA table_info(chapter_scores)")}:
            db.execute("ALTER TABLE chapter_scores ADD COLUMN suite_version TEXT NOT NULL DEFAULT ''")
        if found < 4:
            cols = {r[1] for r in db.execute("PRAGMA table_info(submissions)")}
            for name, kind in (("lms_due", "TEXT"), ("lms_late", "INTEGER")):
                if name not in cols:
                    db.execute(f"ALTER TABLE submissions ADD COLUMN {name} {kind}")
            if "roster" in {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")} and \
                    "extension_days" not in {r[1] for r in db.execute("PRAGMA table_info(roster)")}:
                db.execute("ALTER TABLE roster ADD COLUMN extension_days REAL")
        db.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise


class Gradebook:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            self.db.row_factory = sqlite3.Row
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            tables = {r[0] for r in self.db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        except sqlite3.DatabaseError as exc:
            raise GradebookError(f"{self.path} is not a gradebook (SQLite says: {exc}).") from None
        found = SCHEMA_VERSION
        if "meta" in tables:
            row = self.db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
            found = int(row[0]) if row and str(row[0]).isdigit() else 1
            if found > SCHEMA_VERSION:
                self.db.close()
                raise GradebookError(f"{self.path} was written by a newer dl-grade (gradebook version {found}, this "
                                     f"one reads up to {SCHEMA_VERSION}). Upgrade dl-grade to use it.")
        elif tables:
            self.db.close()
            raise GradebookError(f"{self.path} is an SQLite file but not a dl-grade gradebook.")
        if "meta" in tables and found < SCHEMA_VERSION:
            _migrate(self.db, found)
        self.db.executescript(SCHEMA)
        self.db.execute("INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Gradebook:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- runs and idempotency ------------------------------------------------------------

    def start_run(self, workers: int, executor: str, kind: str = "collect") -> int:
        cur = self.db.execute(
            "INSERT INTO runs (started, workers, executor, kind) VALUES (?, ?, ?, ?)", (now(), workers, executor, kind)
        )
        return int(cur.lastrowid or 0)

    def finish_run(self, run_id: int) -> None:
        self.db.execute("UPDATE runs SET finished = ? WHERE id = ?", (now(), run_id))

    def known_hashes(self) -> set[str]:
        """Submissions recorded for good: all but those whose grading failed (status "error")."""
        return {r[0] for r in self.db.execute("SELECT hash FROM submissions WHERE status != 'error'")}

    def chapter_results(self) -> dict[tuple[str, str], tuple[str, str]]:
        """{(hash, chapter): (status, suite_version)} of every chapter result: what a collect
        compares with the current suites to know which (submission, chapter) still needs grading."""
        return {(r[0], r[1]): (r[2], r[3])
                for r in self.db.execute("SELECT hash, chapter, status, suite_version FROM chapter_scores")}

    # -- writing ---------------------------------------------------------------------------

    def _write_results(self, g: Graded) -> None:
        for ch in g.chapters or []:
            not_graded = bool(ch.get("not_graded"))
            status = "not_graded" if not_graded else "not_submitted" if ch.get("not_submitted") else "graded"
            self.db.execute(
                "INSERT INTO chapter_scores (hash, chapter, score, max_score, execution_time, note, status,"
                " suite_version) VALUES (?,?,?,?,?,?,?,?)",
                (g.hash, ch["chapter"], None if not_graded else ch["score"], None if not_graded else ch["max_score"],
                 ch.get("execution_time", 0.0), ch.get("note", ""), status,
                 "" if not_graded else str(ch.get("suite_version", ""))),
            )
            self.db.executemany(
                "INSERT INTO test_results VALUES (?,?,?,?,?,?,?,?,?)",
                [
                    (g.hash, ch["chapter"], t["exercise"], t["name"], t["status"], t["score"], t["max_score"],
                     t["visibility"], t["message"])
                    for t in ch.get("tests", [])
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

    def record(self, g: Graded, run_id: int, grader_version: str) -> bool:
        """Write one submission in one transaction; False if it was already there."""
        isolation: list[str] = []
        for ch in g.chapters or []:
            for item in ch.get("isolation", []):
                if item not in isolation:
                    isolation.append(item)
        try:
            self.db.execute("BEGIN IMMEDIATE")
            # a submission whose grading failed before is replaced by this attempt
            self.db.execute("DELETE FROM submissions WHERE hash = ? AND status = 'error'", (g.hash,))
            self.db.execute(
                "INSERT INTO submissions (hash, content_sha256, student, source, kind, submitted_at, time_source, seq,"
                " status, reason, problems, manifest, isolation, collected_at, run_id, grader_version, lms_due, lms_late)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    g.hash, g.content_sha256, g.student, g.source, g.kind, g.submitted_at, g.time_source, g.seq,
                    g.status, g.reason, json.dumps(g.problems or []), json.dumps(g.manifest or {}),
                    json.dumps(isolation), now(), run_id, grader_version, g.lms_due,
                    None if g.lms_late is None else int(g.lms_late),
                ),
            )
            self._write_results(g)
            if g.files is not None:
                self.db.execute("INSERT INTO sources VALUES (?,?,?)", (g.hash, *pack_sources(g.files, g.responses)))
            self.db.execute("COMMIT")
            return True
        except sqlite3.IntegrityError:
            self.db.execute("ROLLBACK")
            return False
        except BaseException:
            if self.db.in_transaction:
                self.db.execute("ROLLBACK")
            raise

    def add_results(self, g: Graded, run_id: int) -> None:
        """More results for a submission already recorded (``grade collect`` of another chapter,
        or of a chapter whose suites changed): in one transaction, each chapter in ``g.chapters``
        replaces that chapter's previous result (which moves to ``history`` under ``run_id``),
        and each quiz of ``g.quizzes`` not yet scored for this submission is added."""
        try:
            self.db.execute("BEGIN IMMEDIATE")
            self._to_history(g.hash, run_id, [ch["chapter"] for ch in g.chapters or []])
            scored = {r[0] for r in self.db.execute("SELECT chapter FROM quiz_scores WHERE hash = ?", (g.hash,))}
            new_quizzes = [q for q in g.quizzes or [] if q.chapter not in scored]
            self._write_results(Graded(g.hash, g.student, g.source, g.kind, g.status, chapters=g.chapters,
                                       quizzes=new_quizzes))
            row = self.db.execute("SELECT isolation FROM submissions WHERE hash = ?", (g.hash,)).fetchone()
            isolation = json.loads(row[0]) if row else []
            for ch in g.chapters or []:
                isolation += [i for i in ch.get("isolation", []) if i not in isolation]
            self.db.execute("UPDATE submissions SET isolation = ? WHERE hash = ?", (json.dumps(isolation), g.hash))
            self.db.execute("COMMIT")
        except BaseException:
            if self.db.in_transaction:
                self.db.execute("ROLLBACK")
            raise

    def _to_history(self, hash_: str, run_id: int, chapters: list[str]) -> None:
        """Move the results of ``chapters`` of one submission to ``history`` (inside a transaction)."""
        for ch in chapters:
            self.db.execute(
                "INSERT INTO history (run_id, hash, chapter, kind, status, score, max_score, message)"
                " SELECT ?, hash, chapter, 'chapter', status, score, max_score, note FROM chapter_scores"
                " WHERE hash = ? AND chapter = ?", (run_id, hash_, ch))
            self.db.execute(
                "INSERT INTO history (run_id, hash, chapter, kind, exercise, name, status, score, max_score,"
                " message) SELECT ?, hash, chapter, 'test', exercise, name, status, score, max_score, message"
                " FROM test_results WHERE hash = ? AND chapter = ?", (run_id, hash_, ch))
            self.db.execute("DELETE FROM chapter_scores WHERE hash = ? AND chapter = ?", (hash_, ch))
            self.db.execute("DELETE FROM test_results WHERE hash = ? AND chapter = ?", (hash_, ch))

    def sources(self, hash_: str) -> tuple[dict[str, bytes], Any | None] | None:
        row = self.db.execute("SELECT files, responses FROM sources WHERE hash = ?", (hash_,)).fetchone()
        return None if row is None else unpack_sources(row["files"], row["responses"])

    def replace_results(self, g: Graded, run_id: int, chapters: list[str], quizzes: bool) -> None:
        """A regrade: the previous results of ``chapters`` (and the quizzes when ``quizzes``)
        move to ``history`` under ``run_id``; the new ones take their place. One transaction."""
        try:
            self.db.execute("BEGIN IMMEDIATE")
            self._to_history(g.hash, run_id, chapters)
            if quizzes:
                self.db.execute(
                    "INSERT INTO history (run_id, hash, chapter, kind, status, score, max_score)"
                    " SELECT ?, hash, chapter, 'quiz', mode, score, max_score FROM quiz_scores WHERE hash = ?",
                    (run_id, g.hash))
                self.db.execute("DELETE FROM quiz_scores WHERE hash = ?", (g.hash,))
                self.db.execute("DELETE FROM quiz_items WHERE hash = ?", (g.hash,))
            self._write_results(Graded(g.hash, g.student, g.source, g.kind, g.status, chapters=g.chapters,
                                       quizzes=g.quizzes if quizzes else None))
            self.db.execute("COMMIT")
        except BaseException:
            if self.db.in_transaction:
                self.db.execute("ROLLBACK")
            raise

    # -- reading ---------------------------------------------------------------------------

    def submissions(self, status: str | None = None) -> list[sqlite3.Row]:
        if status:
            return list(self.db.execute("SELECT rowid, * FROM submissions WHERE status = ? ORDER BY rowid", (status,)))
        return list(self.db.execute("SELECT rowid, * FROM submissions ORDER BY rowid"))

    def latest(self, group: Callable[[str], str] | None = None) -> list[sqlite3.Row]:
        """Each student's counted submission: the newest graded one by collection-side facts
        (the LMS time or the file's mtime, then the later run, then the order given).
        Student ids are compared case-insensitively (``Alice`` is ``alice``). ``group`` maps
        a submission's id to the student it counts for (a roster ``Matching.group``: two
        ids matching one roster row are one student); sorted by that key."""
        best: dict[str, sqlite3.Row] = {}
        group = group or str.casefold

        def key(r: sqlite3.Row) -> tuple[str, int, int, int]:
            return (r["submitted_at"] or "", r["run_id"], r["seq"], r["rowid"])

        for r in self.submissions("graded"):
            student = group(r["student"])
            prev = best.get(student)
            if prev is None or key(r) >= key(prev):
                best[student] = r
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

    def history(self, run_id: int | None = None) -> list[sqlite3.Row]:
        if run_id is None:
            return list(self.db.execute("SELECT rowid, * FROM history ORDER BY rowid"))
        return list(self.db.execute("SELECT rowid, * FROM history WHERE run_id = ? ORDER BY rowid", (run_id,)))

    def runs(self, kind: str | None = None) -> list[sqlite3.Row]:
        if kind is None:
            return list(self.db.execute("SELECT * FROM runs ORDER BY id"))
        return list(self.db.execute("SELECT * FROM runs WHERE kind = ? ORDER BY id", (kind,)))

    # -- the roster ------------------------------------------------------------------------

    def set_roster(self, roster: Any) -> None:
        """Replace the roster (``roster.Roster``) in one transaction."""
        meta = {"roster_layout": roster.layout, "roster_identity_columns": json.dumps(list(roster.identity_columns)),
                "roster_assignments": json.dumps(roster.assignments), "roster_points_label": roster.points_label,
                "roster_source": roster.source, "roster_points": json.dumps(roster.points),
                "roster_imported_at": now()}
        try:
            self.db.execute("BEGIN IMMEDIATE")
            self.db.execute("DELETE FROM roster")
            self.db.executemany(
                "INSERT INTO roster (position, id, name, email, sis_user_id, sis_login_id, section, canvas_id,"
                " identity, extension_days) VALUES (?,?,?,?,?,?,?,?,?,?)",
                [(i, e.id, e.name, e.email, e.sis_user_id, e.sis_login_id, e.section, e.canvas_id,
                  json.dumps(list(e.identity)), e.extension_days) for i, e in enumerate(roster.entries)])
            self.db.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)", list(meta.items()))
            self.db.execute("COMMIT")
        except BaseException:
            if self.db.in_transaction:
                self.db.execute("ROLLBACK")
            raise

    def roster(self) -> Any | None:
        """The imported roster (``roster.Roster``), or None."""
        from grader.instructor.roster import Roster, RosterEntry

        rows = list(self.db.execute("SELECT * FROM roster ORDER BY position"))
        if not rows:
            return None
        meta = {r["key"]: r["value"] for r in self.db.execute("SELECT * FROM meta WHERE key LIKE 'roster_%'")}
        entries = [RosterEntry(r["id"], r["name"], r["email"], r["sis_user_id"], r["sis_login_id"], r["section"],
                               r["canvas_id"], tuple(json.loads(r["identity"])), r["extension_days"]) for r in rows]
        return Roster(meta.get("roster_layout", "plain"), entries,
                      tuple(json.loads(meta.get("roster_identity_columns", "[]"))),
                      json.loads(meta.get("roster_assignments", "[]")), meta.get("roster_points_label", ""),
                      meta.get("roster_source", ""), json.loads(meta.get("roster_points", "{}")))

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
