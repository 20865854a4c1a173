"""A one-shot check's worker, started before pytest is imported.

``grade check`` (``run_check(in_process=True)``) spends its first ~0.2 s importing pytest,
configuring it and collecting the suites; a worker started then is ready when the first test
asks. ``EarlyWorker`` starts it in a thread (which waits for the sandbox probe, then starts the
process; the worker imports numpy meanwhile) and is handed to ``pytest.main`` as a plugin
object named ``grader-early-worker``. The recorder takes the worker only if the configuration
it would give a worker of its own is the same (``worker_config``: the same sources, limits,
sandbox); otherwise, or if the early start failed, it starts its own as before, so a check's
results never depend on which worker ran it. A worker nobody took is closed by the runner.

No pytest here: this is imported before it."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

from grader.grading.catalog import Chapter

PLUGIN_NAME = "grader-early-worker"


def worker_config(chapter: Chapter, sources: dict[str, tuple[str, bytes]], *, test_timeout: float, sandbox: str) -> Any:
    """What one student's worker for ``chapter`` is allowed (a ``WorkerConfig``)."""
    from grader.boundary.boot import WorkerConfig
    from grader.boundary.container import fit_memory_mb

    return WorkerConfig(
        sources=sources,
        memory_mb=fit_memory_mb(chapter.memory_mb),  # below the container's own limit
        call_timeout=test_timeout,
        sandbox=sandbox,
        needs=tuple(chapter.needs),
        # numpy too (and numpy.random where the suites seed): the worker imports them while
        # pytest collects, not at the first test
        preload=["numpy", *chapter.preload, *chapter.needs],
        startup_timeout=90.0 if chapter.needs else 30.0,
        # numpy chapters: once ready, the worker and the grader's thread share one CPU (affinity.py)
        share_cpu=not chapter.needs and os.environ.get("GRADER_SHARE_CPU", "1") != "0",
    )


def not_dumpable() -> None:
    """Keep other processes of our uid (the worker) out of /proc/<pid>/mem and friends."""
    try:
        import ctypes

        ctypes.CDLL(None).prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE = 4
    except (OSError, AttributeError):
        pass


class EarlyWorker:
    """The worker of one check of ``target``, being started in a thread."""

    def __init__(self, chapter: Chapter, target: Path, *, sandbox: str, test_timeout: float | None) -> None:
        self.__name__ = PLUGIN_NAME  # pytest registers a plugin object under its __name__
        self.target = target.resolve()
        self._chapter = chapter
        self._sandbox = sandbox
        self._test_timeout = test_timeout or chapter.test_timeout_s
        self._config: Any = None
        self._client: Any = None
        self._started = threading.Event()  # the start is over (the worker runs, or it failed)
        self._done = threading.Event()  # the check is over: the thread may end
        self._thread = threading.Thread(target=self._run, name="grade-early-worker", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self._start()
        finally:
            self._started.set()
        # The thread that started the worker lives as long as the check: bubblewrap's
        # --die-with-parent (PR_SET_PDEATHSIG) ends the sandbox when the *thread* that
        # started it ends, not the process.
        self._done.wait()

    def _start(self) -> None:
        try:
            from grader.boundary.channel import WorkerClient
            from grader.grading.student_code import read_sources

            sources = read_sources(self.target / self._chapter.id, f"{self.target.name}/{self._chapter.id}")
            config = worker_config(self._chapter, sources, test_timeout=self._test_timeout, sandbox=self._sandbox)
            not_dumpable()
            client = WorkerClient(config)
            try:
                client.start()
            except BaseException:
                client.close()
                raise
            self._config, self._client = config, client
        except Exception:  # noqa: BLE001 - the recorder starts its own worker, and says what went wrong
            self._config = self._client = None

    def take(self, target: Path, config: Any) -> Any:
        """The started worker (a ``WorkerClient``) if it was started for this target with this
        configuration, else None (then it is closed)."""
        self._started.wait()
        client, self._client = self._client, None
        if client is None:
            return None
        if target.resolve() != self.target or config != self._config:
            client.close()
            return None
        return client

    def close(self) -> None:
        """Close the worker if nobody took it, and let the thread end (after the check: the
        session that took the worker has closed it)."""
        self._started.wait()
        client, self._client = self._client, None
        if client is not None:
            client.close()
        self._done.set()
        self._thread.join()
