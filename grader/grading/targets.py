"""Batch mode (``grade collect``): many targets of one chapter graded in one pytest session.

Every test is parametrized over the targets (``pytest_generate_tests``), items run target
by target, and each target gets its own worker, forked from a per-session fork server and
closed before the next target starts (``BatchMode._switch_to``), so a crash or timeout in
one submission's worker never touches another's. A ``Target`` is a unit: what the trusted
side keeps for it (``target_state``, module errors shown, parsed names) is made fresh when
it starts and dropped when it finishes. Results are written per target key.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import pytest

from grader.grading.results import write_results
from grader.grading.student_code import StudentCode, read_sources


class Target:
    """One folder graded in a batch session: its sources, worker and results."""

    def __init__(self, index: int, key: str, path: Path, chapter: Any) -> None:
        self.index = index
        self.key = key
        self.path = path
        self.chapter = chapter
        self.display_dir = f"{path.name}/{chapter.id}"
        self.artifacts: list[dict[str, Any]] = []  # what this target's tests attached
        self.results: dict[str, dict[str, Any]] = {}
        self.client: Any = None
        self.isolation: list[str] = []
        self.started = 0.0
        self.elapsed = 0.0
        self.student_code = StudentCode(self)
        # What the trusted side keeps for this target only (the ``target_state`` fixture, the
        # module errors already shown, parsed names of the sources): made fresh when the target
        # starts and dropped when it finishes, so nothing computed for one student reaches the next.
        self.state: dict[str, Any] | None = None
        self.reported_blocks: set[str] = set()
        self.names_cache: dict[str, Any] = {}


def target_token(index: int) -> str:
    return f"__gt{index}__"


class BatchMode:
    """The ``Recorder``'s switching between targets (its ``batch`` is None outside batch mode)."""

    _lean: tuple[Any, tuple[type[BaseException], ...]] | None = None  # see pytest_runtest_protocol

    def _init_batch(self, targets_file: Path) -> None:
        from grader.boundary.forkserver import Zygote

        listing = json.loads(targets_file.read_text(encoding="utf-8"))
        self.batch = [
            Target(i, str(t["key"]), Path(t["path"]).resolve(), self.chapter) for i, t in enumerate(listing)
        ]
        self.zygote = Zygote(sandbox_mode=self.config.getoption("grader_sandbox"), needs=tuple(self.chapter.needs),
                             startup_timeout=90.0 if self.chapter.needs else 30.0, preload=tuple(self.chapter.needs))
        self.client = None
        self.results = {}
        self.sources: dict[str, tuple[str, bytes]] = {}
        self.reported_blocks = set()
        self.names_cache = {}
        self.state = None  # the current target's (None between targets)
        self.timed_out = []
        self.public_blocks = set()
        self._lean = self._lean_protocol()
        self.zygote.start()  # imports numpy while pytest collects

    def _switch_to(self, target: Target) -> None:
        """Close the previous target's worker, then fork this target's worker."""
        from grader.boundary.forkserver import ForkedWorkerClient

        if self.current is target:
            return
        self._finish_current()
        sources = read_sources(target.path / self.chapter.id, target.display_dir)
        self.sources = sources
        target.state, target.reported_blocks, target.names_cache = {}, set(), {}
        self.state, self.reported_blocks, self.names_cache = target.state, target.reported_blocks, target.names_cache
        self.timed_out = []  # a function that looped in the previous submission is this one's to run
        self.public_blocks = set()
        target.client = ForkedWorkerClient(self._worker_config(sources), self.zygote)
        target.started = time.monotonic()
        self.current = target
        self.client = target.client
        self.results = target.results

    def _finish_current(self) -> None:
        target = self.current
        if target is None or target.client is None:
            return
        target.isolation = list(target.client.isolation)
        target.client.close()
        target.client = None
        target.elapsed = time.monotonic() - target.started
        # the target is done: what was kept for it goes (and nothing of it is left for the next)
        target.state, target.reported_blocks, target.names_cache = None, set(), {}
        target.student_code = StudentCode(target)  # no proxies of the closed worker's modules
        self.state, self.reported_blocks, self.names_cache = None, set(), {}
        self.sources = {}
        self.current = None
        self.client = None
        from grader.grading.checks import forget_rebuild

        forget_rebuild()

    def _item_target(self, item: pytest.Item) -> Target | None:
        if self.batch is None:
            return None
        callspec = getattr(item, "callspec", None)
        index = callspec.params.get("grader_target") if callspec is not None else None
        return self.batch[index] if isinstance(index, int) else None

    def pytest_generate_tests(self, metafunc: pytest.Metafunc) -> None:
        if self.batch is not None and "grader_target" in metafunc.fixturenames:
            metafunc.parametrize(
                "grader_target",
                list(range(len(self.batch))),
                indirect=True,
                ids=[target_token(t.index) for t in self.batch],
            )

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_protocol(self, item: pytest.Item, nextitem: pytest.Item | None) -> bool | None:
        """Batch mode: each test's setup, call and teardown run here, not through pytest's
        per-phase hooks (``GRADER_BATCH_LOG=1`` keeps pytest's own protocol, with reporting).

        A test is about 45 of a submission-chapter's tests, and pytest's protocol cost ~0.35 ms
        each around the test's own work: three hook dispatches per phase through every plugin
        (the runner, output capture, the recorder), a hook-proxy lookup per phase and per
        fixture, the per-test environment variable, and the progress report. This runs the
        same steps in the order pluggy ran them, calling the recorder's own hooks directly:

        - setup: the recorder's switch and deadlines, pytest's fixtures (its ``SetupState``),
          then the mark of where the worker's output starts;
        - call (when setup passed): ``item.runtest()``, which calls the test function;
        - teardown: the deadline cleared, then pytest's fixture teardown.

        Each phase is a ``CallInfo`` (so Ctrl-C and ``pytest.exit`` still propagate) whose
        report the recorder makes and records as its hooks would. Output capture is off in a
        batch (``-s``) and no suite asks for a capture fixture, so nothing else took part."""
        if self.batch is None or os.environ.get("GRADER_BATCH_LOG") == "1" or self._lean is None:
            return None
        call_info, reraise = self._lean
        hasrequest = hasattr(item, "_request")
        if hasrequest and not item._request:  # type: ignore[attr-defined]
            item._initrequest()  # type: ignore[attr-defined]
        session = item.session
        try:
            def setup() -> None:
                self.pytest_runtest_setup(item)
                session._setupstate.setup(item)
                self.pytest_runtest_setup_output(item)

            if self._phase(item, call_info.from_call(setup, when="setup", reraise=reraise)).passed:
                self._phase(item, call_info.from_call(item.runtest, when="call", reraise=reraise))
            if session.shouldfail or session.shouldstop:
                nextitem = None

            def teardown() -> None:
                self.pytest_runtest_teardown(item)
                session._setupstate.teardown_exact(nextitem)

            self._phase(item, call_info.from_call(teardown, when="teardown", reraise=reraise))
        finally:
            if hasrequest:
                item._request = False  # type: ignore[attr-defined]
                item.funcargs = None  # type: ignore[attr-defined]
        return True

    def _phase(self, item: pytest.Item, call: pytest.CallInfo[None]) -> pytest.TestReport:
        """A phase's report as ``pytest_runtest_makereport`` made it (the recorder's plain one;
        pytest's for a skip), recorded."""
        report = self.pytest_runtest_makereport_batch(item, call)
        if report is None:
            report = pytest.TestReport.from_item_and_call(item, call)
        self._record(item, call, report)
        return report

    @staticmethod
    def _remember_hook_proxies(session: pytest.Session) -> None:
        """Each test's hook proxy, looked up once per suite file instead of ~7 times per test
        (its fixtures' setup and teardown hooks, its call). A proxy depends only on the
        conftest files of the path, all known once collection has finished."""
        lookup = session.gethookproxy
        proxies: dict[Any, Any] = {}

        def gethookproxy(fspath: Any) -> Any:
            proxy = proxies.get(fspath)
            if proxy is None:
                proxy = proxies[fspath] = lookup(fspath)
            return proxy

        session.gethookproxy = gethookproxy  # type: ignore[method-assign]

    def _lean_protocol(self) -> tuple[Any, tuple[type[BaseException], ...]] | None:
        """What the lean protocol needs of pytest (``CallInfo`` and the exceptions a phase
        lets through), or None when this pytest lacks it: then pytest's own protocol runs."""
        try:
            from _pytest.runner import CallInfo, get_reraise_exceptions
        except ImportError:
            return None
        return CallInfo, get_reraise_exceptions(self.config)

    @pytest.hookimpl(tryfirst=True, specname="pytest_runtest_makereport")
    def pytest_runtest_makereport_batch(self, item: pytest.Item, call: pytest.CallInfo[None]) -> pytest.TestReport | None:
        """Batch mode: every phase's report, made plainly.

        pytest's own gathers the item's keywords (a walk up its parents) and its location (the
        suite's source read) for every phase of every item, and for a failure builds a long
        representation that reads and formats the suite's source: tens of milliseconds per
        failing test, which with hundreds of submissions dominated grading. Nothing reads
        them here (statuses come from ``_classify``; the reports are not logged, see
        ``pytest_runtest_protocol``). A skip keeps pytest's report.

        A single check (``grade check``, a watch's re-check) makes its reports so too: pytest's
        failure text for a stub's test is never shown (``--tb=no``), yet was built, about a
        tenth of a stub's re-check. ``GRADER_DEBUG=1`` keeps pytest's own there."""
        if self.batch is None and os.environ.get("GRADER_DEBUG"):
            return None
        excinfo = call.excinfo
        if excinfo is not None and isinstance(excinfo.value, pytest.skip.Exception):
            return None
        return pytest.TestReport(
            item.nodeid,
            ("", None, item.name),  # where the test is: unused without logging
            {},
            "passed" if excinfo is None else "failed",
            None if excinfo is None else excinfo.exconly()[:1000],
            "call" if call.when == "collect" else call.when,
            [],
            call.duration,
            call.start,
            call.stop,
            user_properties=item.user_properties,
        )

    def _finish_batch(self) -> None:
        self._finish_current()
        self.zygote.close()
        if not self.results_path:
            return
        data = {
            "chapter": self.chapter.id,
            "execution_time": round(time.monotonic() - self.started, 3),
            "targets": {
                t.key: {
                    "target": str(t.path),
                    "execution_time": round(t.elapsed, 4),
                    "isolation": t.isolation,
                    "tests": list(t.results.values()),
                    "artifacts": t.artifacts,
                }
                for t in self.batch or []
            },
            "internal": self.internal,
        }
        write_results(Path(self.results_path), data)
