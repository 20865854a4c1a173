"""``grade collect``: grade many submissions into the SQLite gradebook.

The collecting process (trusted) reads and checks every submission, skips those whose
hash the gradebook already has, and hands batches to grading tasks: a task writes its
submissions' sources into a private temp folder and runs, per chapter, ONE pytest
session over the whole batch (``batch.run_batch``; each submission still gets its own
sandboxed worker). Tasks run on a local thread pool (each task's work is in its own
processes) or on a Dask cluster (``--scheduler``); both return plain data. Quizzes are
re-scored here, from the instructor's keyed banks. Each submission is committed in one
transaction as soon as its batch is done, so a killed run resumes where it stopped.
"""

from __future__ import annotations

import hashlib
import math
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from grader.errors import UsageError
from grader.instructor.gradebook import Gradebook, Graded
from grader.instructor.submission import BadSubmission, Submission, materialize, read_submission, student_from_name

MAX_BATCH = 64  # submissions per grading task (the unit of progress and of resumption)


@dataclass
class CollectSummary:
    found: int = 0  # submissions found on the command line
    skipped: int = 0  # already in the gradebook (same hash)
    graded: int = 0
    rejected: list[tuple[str, str]] = field(default_factory=list)  # (source, reason)
    failed: list[tuple[str, str]] = field(default_factory=list)  # batches the grader failed on: not recorded
    submission_chapters: int = 0
    elapsed: float = 0.0
    isolation: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    executor: str = "local"

    @property
    def rate(self) -> float:
        return self.submission_chapters / self.elapsed if self.elapsed > 0 else 0.0


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


def default_chapters(notes: list[str] | None = None) -> list[str]:
    """Every chapter with suites whose heavy needs (tensorflow, ...) are installed here."""
    import importlib.util

    from grader.catalog import load_catalog
    from grader.runner import suite_files

    chosen = []
    for c in load_catalog().chapters.values():
        if not suite_files(c):
            continue
        missing = [n for n in c.needs if importlib.util.find_spec(n) is None]
        if missing:
            if notes is not None:
                notes.append(f"{c.id} not graded: not installed here: {', '.join(missing)} "
                             "(pip install 'dl-grade[keras]', then collect again)")
            continue
        chosen.append(c.id)
    return chosen


def grade_task(
    payloads: list[dict[str, Any]], chapters: list[str], sandbox: str = "auto"
) -> list[dict[str, Any]]:
    """Grade a batch of submissions (plain data in, plain data out: runs on Dask too)."""
    from grader.catalog import load_catalog
    from grader.instructor.batch import run_batch

    catalog = load_catalog()
    tmp = Path(tempfile.mkdtemp(prefix="grade-collect-"))
    os.chmod(tmp, 0o700)
    try:
        roots: dict[str, Path] = {}
        for i, p in enumerate(payloads):
            roots[p["hash"]] = materialize(p["files"], tmp / f"s{i}")
        out = {p["hash"]: {"hash": p["hash"], "chapters": []} for p in payloads}
        for chapter_id in chapters:
            chapter = catalog.chapter(chapter_id)
            reports = run_batch(chapter, [(h, roots[h]) for h in out], sandbox=sandbox)
            for p in payloads:
                report = reports[p["hash"]]
                entry = report.to_dict()
                present = any(name.startswith(chapter_id + "/") for name in p["files"])
                entry["note"] = "" if present else f"no exercises/{chapter_id}/ in the submission"
                out[p["hash"]]["chapters"].append(entry)
        return list(out.values())
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _rejected_hash(path: Path) -> str:
    if path.is_file():
        h = hashlib.sha256()
        with open(path, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
        return h.hexdigest()
    return hashlib.sha256(("folder:" + str(path.resolve())).encode()).hexdigest()


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
) -> CollectSummary:
    import grader
    from grader.instructor.quizzes import QuizScorer

    started = time.monotonic()
    progress = progress or NullProgress()
    paths = expand_inputs(inputs)
    summary = CollectSummary(found=len(paths), executor="dask" if scheduler else "local")
    chapters = chapters or default_chapters(summary.notes)
    db_path = Path(db_path)
    gb = Gradebook(db_path)
    run_id = gb.start_run(workers, summary.executor)
    known = gb.known_hashes()
    if quiz_root is None:
        from grader.runner import PACKAGE_ROOT

        # The instructor's keyed banks, never a workspace that happens to be the cwd.
        quiz_root = PACKAGE_ROOT if (PACKAGE_ROOT / "quizzes").is_dir() else None
    scorer = QuizScorer(root=quiz_root, module=quiz_module)
    version = grader.__version__
    pending: dict[str, Submission] = {}
    for path in paths:
        try:
            sub = read_submission(path)
        except BadSubmission as exc:
            digest = _rejected_hash(path)
            summary.rejected.append((str(path), str(exc)))
            if digest not in known:
                gb.record(Graded(digest, student_from_name(path), str(path), "zip" if path.is_file() else "folder",
                                 "rejected", reason=str(exc)), run_id, version)
                known.add(digest)
            continue
        if sub.hash in known or sub.hash in pending:
            summary.skipped += 1
            continue
        pending[sub.hash] = sub
    order = list(pending)
    # Each batch pays one pytest start and one fork server per chapter (~0.6 s of CPU), so
    # batches are big (up to MAX_BATCH) and evenly sized: a multiple of the worker count.
    n_batches = max(1, workers) * max(1, math.ceil(len(order) / (max(1, workers) * MAX_BATCH)))
    size = batch_size or max(1, math.ceil(len(order) / n_batches))
    batches = [order[i:i + size] for i in range(0, len(order), size)]
    progress.start(len(order))

    def payload(h: str) -> dict[str, Any]:
        return {"hash": h, "files": pending[h].files}

    def commit(batch: list[str], results: list[dict[str, Any]]) -> None:
        for res in results:
            sub = pending[res["hash"]]
            quizzes, notes = scorer.score(sub.responses)
            created = sub.manifest.get("created")
            g = Graded(
                hash=sub.hash, student=sub.student, source=sub.source, kind=sub.kind, status="graded",
                content_sha256=sub.content_sha256,
                submitted_at=created if isinstance(created, str) else None,
                problems=sub.problems + notes, manifest=sub.manifest, chapters=res["chapters"], quizzes=quizzes,
            )
            if gb.record(g, run_id, version):
                summary.graded += 1
                summary.submission_chapters += len(res["chapters"])
                for ch in res["chapters"]:
                    for item in ch.get("isolation", []):
                        if item not in summary.isolation:
                            summary.isolation.append(item)
                if on_commit:
                    on_commit(g)
            progress.advance(1, sub.student)

    try:
        if scheduler:
            _run_dask(scheduler, batches, payload, chapters, sandbox, commit, summary)
        else:
            _run_local(workers, batches, payload, chapters, sandbox, commit, summary)
    finally:
        progress.stop()
        summary.notes.extend(scorer.notes)
        gb.finish_run(run_id)
        gb.close()
    summary.elapsed = time.monotonic() - started
    return summary


def _run_local(workers, batches, payload, chapters, sandbox, commit, summary) -> None:  # type: ignore[no-untyped-def]
    from concurrent.futures import ThreadPoolExecutor, as_completed

    # Threads are enough: each task's work happens in its own pytest and worker processes.
    pool = ThreadPoolExecutor(max_workers=max(1, workers))
    try:
        futures = {pool.submit(grade_task, [payload(h) for h in b], chapters, sandbox): b for b in batches}
        for fut in as_completed(futures):
            batch = futures[fut]
            try:
                results = fut.result()
            except Exception as exc:  # noqa: BLE001 - left ungraded, a later run retries
                summary.failed.append((", ".join(h[:12] for h in batch), f"{type(exc).__name__}: {exc}"))
                continue
            commit(batch, results)
    finally:
        # On Ctrl-C: batches not started are dropped; what was committed stays (resumable).
        pool.shutdown(wait=True, cancel_futures=True)


def _run_dask(scheduler, batches, payload, chapters, sandbox, commit, summary) -> None:  # type: ignore[no-untyped-def]
    try:
        from distributed import Client, as_completed
    except ImportError:
        raise UsageError("--scheduler needs Dask distributed: pip install 'dl-grade[cluster]'.") from None
    try:
        client = scheduler if isinstance(scheduler, Client) else Client(scheduler, timeout=30)
    except (OSError, TimeoutError) as exc:
        raise UsageError(f"Could not reach the Dask scheduler at {scheduler} ({exc}). Is it running?") from None
    try:
        futures = {
            client.submit(grade_task, [payload(h) for h in b], chapters, sandbox, pure=False): b
            for b in batches
        }
        for fut in as_completed(list(futures)):
            batch = futures[fut]
            try:
                results = fut.result()
            except Exception as exc:  # noqa: BLE001
                summary.failed.append((", ".join(h[:12] for h in batch), f"{type(exc).__name__}: {exc}"))
                continue
            commit(batch, results)
    finally:
        if client is not scheduler:
            client.close()
