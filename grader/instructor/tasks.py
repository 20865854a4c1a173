"""Grading tasks of ``grade collect``: a batch of submissions graded per chapter in one
pytest session each (``grade_task``: plain data in, plain data out, so it runs on a Dask
worker as well as here), run on local threads (``run_local``) or a Dask cluster
(``run_dask``), a batch that fails split into single submissions and retried. Also what
a chapter's result records about the suites that graded it (``suite_version``) and a
chapter the submission holds no file of (``not_submitted_entry``)."""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from grader.instructor.submission import clean_text, materialize
from grader.util.errors import UsageError

SESSIONS = 2  # chapter sessions a grading task runs at once (see grade_task)


def suite_version(chapter: Any) -> str:
    """What graded a chapter, as a content hash: the chapter's suite files (names and bytes of
    everything in ``grader/suites/<chapter>/``) and its catalog entry. A (submission, chapter)
    result recorded under another version is graded again by the next collect."""
    from grader.grading.catalog import SUITES_DIR

    h = hashlib.sha256(repr(chapter).encode("utf-8"))
    for path in sorted((SUITES_DIR / chapter.id).glob("*.py")):
        data = path.read_bytes()
        h.update(b"\0%s\0%d\0" % (path.name.encode("utf-8"), len(data)) + data)
    return h.hexdigest()[:20]


def submitted(files: dict[str, Any], chapter: str) -> bool:
    """Whether a submission's files (``chapterN/module.py`` names) hold anything of ``chapter``."""
    prefix = chapter + "/"
    return any(name.startswith(prefix) for name in files)


def not_submitted_entry(chapter: str, version: str) -> dict[str, Any]:
    """The result of a chapter a submission holds no file of: 0 points, status "not
    submitted" (not a graded 0 from stubs, not "not graded"); its maximum is the chapter's
    (the exports take it from the graded submissions)."""
    return {"chapter": chapter, "not_submitted": True, "score": 0.0, "max_score": None, "execution_time": 0.0,
            "note": f"not submitted: no exercises/{chapter}/ in the submission", "tests": [], "isolation": [],
            "suite_version": version}


def grade_task(
    payloads: list[dict[str, Any]], chapters: list[str], sandbox: str = "auto"
) -> list[dict[str, Any]]:
    """Grade a batch of submissions (plain data in, plain data out: runs on Dask too)."""
    from grader.grading.catalog import load_catalog
    from grader.instructor.batch import run_batch

    catalog = load_catalog()
    tmp = Path(tempfile.mkdtemp(prefix="grade-collect-"))
    os.chmod(tmp, 0o700)
    try:
        roots: dict[str, Path] = {}
        for i, p in enumerate(payloads):
            if any(submitted(p["files"], c) for c in p.get("chapters", chapters)):  # else: nothing to grade
                roots[p["hash"]] = materialize(p["files"], tmp / f"s{i}")
        out = {p["hash"]: {"hash": p["hash"], "chapters": []} for p in payloads}

        def grade_chapter(chapter_id: str) -> dict[str, Any]:
            chapter = catalog.chapter(chapter_id)
            # A chapter the submission holds no file of is not submitted: known from the file
            # names alone, so it starts no pytest, worker or TensorFlow.
            present = [p for p in payloads if chapter_id in p.get("chapters", chapters)
                       and submitted(p["files"], chapter_id)]
            if not present:
                return {}
            return run_batch(chapter, [(p["hash"], roots[p["hash"]]) for p in present], sandbox=sandbox)

        # A session alternates between pytest and the student's worker (each waits for the
        # other), keeping about half a core busy: SESSIONS chapters are graded at once. A
        # chapter with heavy needs (TensorFlow, GBs of memory) is graded alone.
        light = [c for c in chapters if not catalog.chapter(c).needs]
        graded: dict[str, dict[str, Any]] = {}
        if light:
            from concurrent.futures import ThreadPoolExecutor

            with ThreadPoolExecutor(max_workers=SESSIONS) as pool:
                graded.update(zip(light, pool.map(grade_chapter, light), strict=True))
        for chapter_id in chapters:
            # a payload may ask for fewer chapters (those its gradebook entry lacks)
            wanted = [p for p in payloads if chapter_id in p.get("chapters", chapters)]
            if not wanted:
                continue
            version = suite_version(catalog.chapter(chapter_id))  # of the suites that grade here (a Dask worker's own)
            reports = graded[chapter_id] if chapter_id in graded else grade_chapter(chapter_id)
            for p in wanted:
                if p["hash"] not in reports:
                    out[p["hash"]]["chapters"].append(not_submitted_entry(chapter_id, version))
                    continue
                entry = reports[p["hash"]].to_dict()
                entry["note"] = ""
                entry["suite_version"] = version
                out[p["hash"]]["chapters"].append(entry)
        return list(out.values())
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _drain(submit, as_completed, batches, commit, on_error) -> None:  # type: ignore[no-untyped-def]
    """Grade every batch through ``submit`` (a list of hashes -> a future of ``grade_task``),
    committing each result as it comes. A batch that raises is graded again one submission
    at a time (one submission may have broken it); a single one that raises is an error."""
    futures = {submit(b): b for b in batches}
    while futures:
        for fut in as_completed(list(futures)):
            batch = futures.pop(fut)
            try:
                results = fut.result()
            except Exception as exc:  # noqa: BLE001
                if len(batch) > 1:
                    for h in batch:
                        futures[submit([h])] = [h]
                    break
                on_error(batch[0], f"{type(exc).__name__}: {clean_text(exc, 500)}")
                continue
            commit(batch, results)


def run_local(workers, batches, payload, chapters, sandbox, commit, on_error) -> None:  # type: ignore[no-untyped-def]
    from concurrent.futures import ThreadPoolExecutor, as_completed

    # Threads are enough: each task's work happens in its own pytest and worker processes.
    pool = ThreadPoolExecutor(max_workers=max(1, workers))
    try:
        _drain(lambda b: pool.submit(grade_task, [payload(h) for h in b], chapters, sandbox),
               as_completed, batches, commit, on_error)
    finally:
        # On Ctrl-C: batches not started are dropped; what was committed stays (resumable).
        pool.shutdown(wait=True, cancel_futures=True)


def run_dask(scheduler, batches, payload, chapters, sandbox, commit, on_error) -> None:  # type: ignore[no-untyped-def]
    try:
        from distributed import Client, as_completed
    except ImportError:
        raise UsageError("--scheduler needs Dask distributed: pip install 'dl-grade[cluster]'.") from None
    try:
        client = scheduler if isinstance(scheduler, Client) else Client(scheduler, timeout=30)
    except (OSError, TimeoutError) as exc:
        raise UsageError(f"Could not reach the Dask scheduler at {scheduler} ({exc}). Is it running?") from None
    try:
        _drain(lambda b: client.submit(grade_task, [payload(h) for h in b], chapters, sandbox, pure=False),
               as_completed, batches, commit, on_error)
    finally:
        if client is not scheduler:
            client.close()
