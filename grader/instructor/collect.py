"""``grade collect``: grade many submissions into the SQLite gradebook.

The collecting process (trusted) reads and checks every submission and works out, per
(submission, chapter), what the gradebook lacks: a submission it has never seen is graded in
every chapter asked for; one it has is graded in the chapters that have no result from the
current suites (``suite_version``: a chapter collected for the first time this week, a chapter
whose suites changed). Results are complete per (submission, chapter), never skipped because
the submission was seen before. It hands batches to grading tasks: a task writes its
submissions' sources into a private temp folder and runs, per chapter, ONE pytest
session over the whole batch (``batch.run_batch``; each submission still gets its own
sandboxed worker). Tasks run on a local thread pool (each task's work is in its own
processes) or on a Dask cluster (``--scheduler``); both return plain data. Quizzes are
re-scored here, from the instructor's keyed banks. Each submission is committed in one
transaction as soon as its batch is done, so a killed run resumes where it stopped.

Who and when are the instructor's facts (``submission.Origin``: the file or folder name,
the LMS's naming, the file's mtime), never the manifest's. Anything that goes wrong with
one submission (reading, parsing, scoring, grading) is recorded for that submission with
the reason and the run goes on. A chapter whose needs (TensorFlow) are missing here is
recorded as *not graded* (NULL), and ``regrade`` (``grade collect --regrade``) grades the
stored sources again later, keeping the previous results in the history table.
"""

from __future__ import annotations

import atexit
import hashlib
import math
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from grader.instructor import tasks
from grader.instructor.gradebook import Gradebook, Graded
from grader.instructor.submission import (
    BadSubmission,
    Origin,
    Submission,
    clean_text,
    normalise_student,
    origin_of,
    read_submission,
)
from grader.util.errors import UsageError

MAX_BATCH = 64  # submissions per grading task (the unit of progress and of resumption)


@dataclass
class CollectSummary:
    found: int = 0  # submissions found on the command line
    skipped: int = 0  # submissions with nothing to do: every chapter asked for is in the gradebook
    graded: int = 0  # submissions that got results in this run (new ones, or new chapters of known ones)
    chapters_present: int = 0  # submission-chapters already in the gradebook from the current suites
    rejected: list[tuple[str, str]] = field(default_factory=list)  # (source, reason)
    failed: list[tuple[str, str]] = field(default_factory=list)  # batches the grader failed on: not recorded
    submission_chapters: int = 0
    not_submitted: int = 0  # of submission_chapters: chapters the submission holds no file of (not graded)
    elapsed: float = 0.0
    isolation: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    executor: str = "local"
    regrade: bool = False

    @property
    def rate(self) -> float:
        graded = self.submission_chapters - self.not_submitted  # absent chapters cost nothing to record
        return graded / self.elapsed if self.elapsed > 0 else 0.0


class Progress(Protocol):
    """What collect reports while it runs (the CLI passes a rich progress bar)."""

    def start(self, total: int) -> None: ...

    def advance(self, n: int, text: str = "") -> None: ...

    def stop(self) -> None: ...


class NullProgress:
    def start(self, total: int) -> None:
        pass

    def advance(self, n: int, text: str = "") -> None:
        pass

    def stop(self) -> None:
        pass


def expand_inputs(inputs: Iterable[Path]) -> list[Path]:
    """A zip, a submission folder (has exercises/), or a folder of those."""
    found: list[Path] = []
    for raw in inputs:
        path = Path(raw)
        if not path.exists():
            raise UsageError(f"{path} does not exist. Pass submission zips or folders (or a folder of them).")
        if path.is_dir() and not (path / "exercises").exists():
            children = sorted(p for p in path.iterdir() if not p.name.startswith("."))
            found.extend(children)
        else:
            found.append(path)
    return found


def missing_needs(chapter: Any) -> list[str]:
    """The heavy packages (tensorflow, ...) ``chapter`` needs that are not installed here.
    (A seam: tests replace it to collect as if a package were missing.)"""
    import importlib.util

    return [n for n in chapter.needs if importlib.util.find_spec(n) is None]


def plan_chapters(requested: list[str] | None = None, notes: list[str] | None = None) -> tuple[list[str], dict[str, str]]:
    """(chapters to grade, {chapter: why it cannot be graded here}). Without ``requested``:
    every chapter with suites. A chapter whose needs are missing is *not graded* (NULL in
    the gradebook, never 0) and can be filled in later with ``grade collect --regrade``."""
    from grader.grading.catalog import load_catalog
    from grader.grading.runner import suite_files

    catalog = load_catalog()
    ids = requested or [c.id for c in catalog.chapters.values() if suite_files(c)]
    chosen: list[str] = []
    skipped: dict[str, str] = {}
    for cid in ids:
        c = catalog.chapter(cid)
        missing = missing_needs(c)
        if missing:
            skipped[c.id] = f"{', '.join(missing)} not installed"
            if notes is not None:
                notes.append(f"{c.id} not graded: not installed here: {', '.join(missing)} "
                             "(pip install 'dl-grade[keras]', then grade collect --regrade --chapter "
                             f"{c.id} --db ...)")
            continue
        chosen.append(c.id)
    return chosen, skipped


def default_chapters(notes: list[str] | None = None) -> list[str]:
    """Every chapter with suites whose heavy needs (tensorflow, ...) are installed here."""
    return plan_chapters(None, notes)[0]


def not_graded_entry(chapter: str, why: str) -> dict[str, Any]:
    return {"chapter": chapter, "not_graded": True, "score": None, "max_score": None, "execution_time": 0.0,
            "note": f"not graded: {why} where it was collected", "tests": [], "isolation": []}


def _rejected_hash(path: Path, student: str) -> str:
    """The gradebook key of a rejected submission: the file's sha256 in a key space of its
    own (``rejected NUL student NUL sha256``). A plain sha256 of the file shared the space
    of graded keys (``submission_key``: sha256 of ``student NUL content``), so a "bad"
    file holding exactly ``alice NUL <her content's sha256>`` took Alice's key and her
    submission was never recorded."""
    return hashlib.sha256(f"rejected\0{student}\0{_file_hash(path)}".encode()).hexdigest()


def _file_hash(path: Path) -> str:
    try:
        if path.is_file() and not path.is_symlink():
            h = hashlib.sha256()
            with open(path, "rb") as f:
                for chunk in iter(lambda: f.read(1 << 20), b""):
                    h.update(chunk)
            return h.hexdigest()
    except OSError:
        pass
    return hashlib.sha256(("folder:" + str(path.absolute())).encode()).hexdigest()


def _read_one(path: Path, position: int, given: Origin | None = None) -> tuple[Origin, Submission | None, str]:
    """Read one submission; every failure (RecursionError and MemoryError included) is a
    reason recorded for this submission only, never the end of the run. ``given``: who and
    when from the LMS (Gradescope's metadata) instead of the file's name and time."""
    try:
        origin = given or origin_of(path, position)
    except Exception:  # noqa: BLE001 - a name we cannot even parse
        origin = Origin("unknown", None, "order", position)
    try:
        return origin, read_submission(path, origin), ""
    except BadSubmission as exc:
        return origin, None, clean_text(exc, 500)
    except Exception as exc:  # noqa: BLE001 - per submission, with the reason
        return origin, None, f"could not be read ({type(exc).__name__}: {clean_text(exc, 200)})"


def _score_quizzes(scorer: Any, responses: Any, only: list[str] | None = None,
                   student: str | None = None) -> tuple[list[Any], list[str]]:
    """``student``: the id the submission is filed under (instructor side), which chooses the
    numbers of template questions; never the responses file's own claim."""
    try:
        return scorer.score(responses, only, student=student)
    except Exception as exc:  # noqa: BLE001 - the student's file must not stop the run
        return [], [f"quiz responses could not be scored ({type(exc).__name__}: {clean_text(exc, 200)})"]


def _scorer(quiz_root: Path | None, quiz_module: Any | None) -> Any:
    from grader.instructor.quizzes import QuizScorer

    if quiz_root is None:
        from grader.grading.runner import PACKAGE_ROOT

        # The instructor's keyed banks, never a workspace that happens to be the cwd.
        quiz_root = PACKAGE_ROOT if (PACKAGE_ROOT / "quizzes").is_dir() else None
    return QuizScorer(root=quiz_root, module=quiz_module)


def _use_roster(scorer: Any, gb: Gradebook) -> None:
    """Template questions are keyed by the roster's name for a student (``roster_identity``)."""
    if hasattr(scorer, "identity"):
        from grader.instructor.quizzes import roster_identity

        scorer.identity = roster_identity(gb.roster())


def _batches(order: list[str], workers: int, batch_size: int | None) -> list[list[str]]:
    # Each batch pays one pytest start and one fork server per chapter (~0.6 s of CPU), so
    # batches are big (up to MAX_BATCH) and evenly sized: a multiple of the worker count.
    n_batches = max(1, workers) * max(1, math.ceil(len(order) / (max(1, workers) * MAX_BATCH)))
    size = batch_size or max(1, math.ceil(len(order) / n_batches))
    return [order[i:i + size] for i in range(0, len(order), size)]


def _canvas_downloads(paths: list[Path], origins: dict[Path, Origin] | None, downloads: bool
                      ) -> tuple[list[Path], dict[Path, Origin] | None, dict[Path, str], Path | None]:
    """With ``downloads`` (``grade collect --canvas``) the zips given are Canvas's "Download
    Submissions" zips, unpacked into a private folder (``canvas_download``): (paths, origins,
    recorded names, the folder or None). Only on request: a student's own zip laid out like a
    download must never name other students or choose its times."""
    from grader.instructor import canvas_download

    if not downloads:
        return paths, origins, {}, None
    wrong = [str(p) for p in paths if not canvas_download.is_download(p)]
    if wrong:
        raise UsageError(f"--canvas: {', '.join(wrong[:5])} is not Canvas's Download Submissions zip (every entry "
                         "named name_[late_]userid_attachmentid_file). Pass the zip Canvas gave, as it is.")
    folder = Path(tempfile.mkdtemp(prefix="grade-canvas-"))
    atexit.register(shutil.rmtree, folder, True)  # should the run stop before it is removed
    paths, found, shown = canvas_download.expand(paths, folder)
    return paths, {**(origins or {}), **found}, shown, folder


def collect(
    inputs: Iterable[Path],
    db_path: Path,
    *,
    workers: int = 2,
    scheduler: str | Any | None = None,
    chapters: list[str] | None = None,
    sandbox: str = "auto",
    batch_size: int | None = None,
    quiz_root: Path | None = None,
    quiz_module: Any | None = None,
    progress: Progress | None = None,
    on_commit: Callable[[Graded], None] | None = None,
    quiz_chapters: list[str] | None = None,
    origins: dict[Path, Origin] | None = None,
    canvas_downloads: bool = False,
) -> CollectSummary:
    """Grade ``inputs`` into ``db_path``. ``quiz_chapters`` (``grade collect --chapter``):
    only these chapters' quizzes are scored, so an attempt a student adds for another
    chapter cannot add a quiz column (0 for everyone else) to the exports."""
    from grader.util.version import VERSION

    started = time.monotonic()
    progress = progress or NullProgress()
    paths = expand_inputs(inputs)
    paths, origins, shown, unpacked = _canvas_downloads(paths, origins, canvas_downloads)
    summary = CollectSummary(found=len(paths), executor="dask" if scheduler else "local")
    chapters, not_graded = plan_chapters(chapters, summary.notes)
    db_path = Path(db_path)
    gb = Gradebook(db_path)
    run_id = gb.start_run(workers, summary.executor)
    known = gb.known_hashes()
    results = gb.chapter_results()
    from grader.grading.catalog import load_catalog

    current = {c: tasks.suite_version(load_catalog().chapter(c)) for c in chapters}
    scorer = _scorer(quiz_root, quiz_module)
    _use_roster(scorer, gb)
    version = VERSION
    pending: dict[str, Submission] = {}
    todo: dict[str, list[str]] = {}  # chapters each pending submission lacks
    adding: set[str] = set()  # pending submissions already recorded (they get chapters added)
    unrecorded_not_graded: dict[str, dict[str, str]] = {}  # chapters to record as not graded here
    for position, path in enumerate(paths):
        origin, sub, reason = _read_one(path, position, (origins or {}).get(path))
        if sub is not None and path in shown:
            sub.source = shown[path]  # an entry of a Canvas download: named after the download
        if sub is None:
            digest = _rejected_hash(path, origin.student)
            summary.rejected.append((clean_text(shown.get(path, path), 1000), reason))
            if digest not in known:
                gb.record(Graded(digest, origin.student, clean_text(shown.get(path, path), 1000),
                                 "zip" if path.is_file() else "folder", "rejected", reason=reason,
                                 submitted_at=origin.submitted_at, time_source=origin.time_source,
                                 seq=origin.order, lms_due=origin.lms_due, lms_late=origin.lms_late), run_id, version)
                known.add(digest)
            continue
        if sub.hash in pending:  # the same work twice on the command line
            summary.skipped += 1
            continue
        if sub.hash in known:
            # a chapter not submitted stays so whatever the suites (the files are the hash's)
            lacking = [c for c in chapters if results.get((sub.hash, c)) != ("graded", current[c])
                       and (results.get((sub.hash, c)) or ("",))[0] != "not_submitted"]
            unrecorded = [c for c in not_graded if (sub.hash, c) not in results]
            summary.chapters_present += len(chapters) - len(lacking) + len(not_graded) - len(unrecorded)
            if not lacking and not unrecorded:
                _add_quizzes(gb, sub, scorer, quiz_chapters, run_id, summary)
                summary.skipped += 1
                continue
            adding.add(sub.hash)
            todo[sub.hash] = lacking
            not_graded_for = {c: not_graded[c] for c in unrecorded}
        else:
            todo[sub.hash] = list(chapters)
            not_graded_for = dict(not_graded)
        pending[sub.hash] = sub
        unrecorded_not_graded[sub.hash] = not_graded_for
    if unpacked is not None:  # every submission is in memory now
        shutil.rmtree(unpacked, ignore_errors=True)
    batches = _batches(list(pending), workers, batch_size)
    progress.start(len(pending))

    def payload(h: str) -> dict[str, Any]:
        return {"hash": h, "files": pending[h].files, "chapters": todo[h]}

    def commit(batch: list[str], results: list[dict[str, Any]]) -> None:
        for res in results:
            try:
                commit_one(res)
            except Exception as exc:  # noqa: BLE001 - this submission only; a later run retries it
                summary.failed.append((clean_text(pending[res["hash"]].source, 1000),
                                       f"{type(exc).__name__}: {clean_text(exc, 300)}"))

    def commit_one(res: dict[str, Any]) -> None:
        sub = pending[res["hash"]]
        quizzes, notes = _score_quizzes(scorer, sub.responses, quiz_chapters, sub.student)
        origin = sub.origin or Origin(sub.student, None, "order")
        g = Graded(
            hash=sub.hash, student=sub.student, source=clean_text(sub.source, 1000), kind=sub.kind,
            status="graded", content_sha256=sub.content_sha256,
            submitted_at=origin.submitted_at, time_source=origin.time_source, seq=origin.order, lms_due=origin.lms_due, lms_late=origin.lms_late,
            problems=sub.problems + notes, manifest=sub.manifest,
            chapters=res["chapters"] + [not_graded_entry(c, why) for c, why in unrecorded_not_graded[sub.hash].items()],
            quizzes=quizzes, files=sub.files, responses=sub.responses,
        )
        if sub.hash in adding:
            gb.add_results(g, run_id)
            recorded = True
        else:
            recorded = gb.record(g, run_id, version)
        if recorded:
            summary.graded += 1
            summary.submission_chapters += len(res["chapters"])
            summary.not_submitted += sum(1 for ch in res["chapters"] if ch.get("not_submitted"))
            for ch in res["chapters"]:
                for item in ch.get("isolation", []):
                    if item not in summary.isolation:
                        summary.isolation.append(item)
            if on_commit:
                on_commit(g)
        progress.advance(1, sub.student)

    def on_error(h: str, reason: str) -> None:
        """Grading this submission failed: recorded with the reason (status "error"); a
        later collect grades it again."""
        sub = pending[h]
        summary.failed.append((clean_text(sub.source, 1000), reason))
        origin = sub.origin or Origin(sub.student, None, "order")
        try:
            gb.record(Graded(sub.hash, sub.student, clean_text(sub.source, 1000), sub.kind, "error",
                             content_sha256=sub.content_sha256, reason=f"grading failed: {reason}",
                             submitted_at=origin.submitted_at, time_source=origin.time_source, seq=origin.order, lms_due=origin.lms_due, lms_late=origin.lms_late,
                             problems=sub.problems, manifest=sub.manifest), run_id, version)
        except Exception:  # noqa: BLE001 - the summary still says it
            pass
        progress.advance(1, sub.student)

    try:
        if chapters:
            run = tasks.run_dask if scheduler else tasks.run_local
            run(scheduler if scheduler else workers, batches, payload, chapters, sandbox, commit, on_error)
        else:
            for b in batches:
                commit(b, [{"hash": h, "chapters": []} for h in b])
    finally:
        progress.stop()
        summary.notes.extend(scorer.notes)
        gb.finish_run(run_id)
        gb.close()
    summary.elapsed = time.monotonic() - started
    return summary


def _add_quizzes(gb: Gradebook, sub: Submission, scorer: Any, only: list[str] | None, run_id: int,
                 summary: CollectSummary) -> None:
    """A known submission with every chapter in place may still lack a chapter's quiz (collected
    with ``--chapter`` another week): score it from the key and add it."""
    quizzes, _notes = _score_quizzes(scorer, sub.responses, only, sub.student)
    if not quizzes:
        return
    try:
        gb.add_results(Graded(sub.hash, sub.student, clean_text(sub.source, 1000), sub.kind, "graded",
                              chapters=[], quizzes=quizzes), run_id)
    except Exception as exc:  # noqa: BLE001 - this submission only
        summary.failed.append((clean_text(sub.source, 1000), f"{type(exc).__name__}: {clean_text(exc, 300)}"))


def regrade(
    db_path: Path,
    *,
    chapters: list[str] | None = None,
    students: list[str] | None = None,
    workers: int = 2,
    scheduler: str | Any | None = None,
    sandbox: str = "auto",
    batch_size: int | None = None,
    quiz_root: Path | None = None,
    quiz_module: Any | None = None,
    progress: Progress | None = None,
) -> CollectSummary:
    """``grade collect --regrade``: grade the gradebook's submissions again from the sources
    it stored (after installing TensorFlow, after fixing a test). The previous results go
    to the history table (``grade report --changes``). Without ``chapters`` every chapter
    and the quizzes are redone; with it, only those chapters."""
    started = time.monotonic()
    progress = progress or NullProgress()
    summary = CollectSummary(executor="dask" if scheduler else "local", regrade=True)
    requested = chapters
    todo, cannot = plan_chapters(chapters, summary.notes)
    if requested and cannot:
        why = "; ".join(f"{c}: {w}" for c, w in cannot.items())
        raise UsageError(f"{', '.join(cannot)} cannot be graded here ({why}). Install what it needs "
                         "(pip install 'dl-grade[keras]'), then run the regrade again.")
    # A chapter that cannot be graded here is left as it is (it may have been graded elsewhere).
    not_graded: dict[str, str] = {}
    db_path = Path(db_path)
    gb = Gradebook(db_path)
    wanted = {normalise_student(s) for s in students} if students else None
    rows = [r for r in gb.submissions("graded") if wanted is None or r["student"].casefold() in wanted]
    if wanted is not None:
        unknown = wanted - {r["student"].casefold() for r in rows}
        if unknown:
            gb.close()
            raise UsageError(f"No graded submission of {', '.join(sorted(unknown))} in {db_path}.")
    run_id = gb.start_run(workers, summary.executor, kind="regrade")
    scorer = _scorer(quiz_root, quiz_module)
    _use_roster(scorer, gb)
    summary.found = len(rows)
    jobs: dict[str, tuple[Any, dict[str, bytes], Any]] = {}
    for r in rows:
        stored = gb.sources(r["hash"])
        if stored is None:
            summary.failed.append((r["student"], "the gradebook holds no copy of this submission (collected before "
                                   "dl-grade kept one): collect its file again into a new gradebook"))
            continue
        jobs[r["hash"]] = (r, *stored)
    batches = _batches(list(jobs), workers, batch_size)
    progress.start(len(jobs))

    def payload(h: str) -> dict[str, Any]:
        return {"hash": h, "files": jobs[h][1]}

    def commit(batch: list[str], results: list[dict[str, Any]]) -> None:
        for res in results:
            row, _files, responses = jobs[res["hash"]]
            redo = [*todo, *not_graded]
            quizzes = None
            if requested is None:
                quizzes, _notes = _score_quizzes(scorer, responses, None, row["student"])
            g = Graded(row["hash"], row["student"], row["source"], row["kind"], "graded",
                       chapters=res["chapters"] + [not_graded_entry(c, why) for c, why in not_graded.items()],
                       quizzes=quizzes)
            gb.replace_results(g, run_id, redo, quizzes=requested is None)
            summary.graded += 1
            summary.submission_chapters += len(res["chapters"])
            for ch in res["chapters"]:
                for item in ch.get("isolation", []):
                    if item not in summary.isolation:
                        summary.isolation.append(item)
            progress.advance(1, row["student"])

    try:
        if todo:
            run = tasks.run_dask if scheduler else tasks.run_local
            run(scheduler if scheduler else workers, batches, payload, todo, sandbox, commit,
                lambda h, why: summary.failed.append((jobs[h][0]["student"], why)))
        else:
            for b in batches:
                commit(b, [{"hash": h, "chapters": []} for h in b])
    finally:
        progress.stop()
        summary.notes.extend(scorer.notes)
        gb.finish_run(run_id)
        gb.close()
    summary.elapsed = time.monotonic() - started
    return summary
