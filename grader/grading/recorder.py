"""The recorder of a grading session: a pytest plugin object (registered by
``grader.grading.plugin``) that turns each test into a record (status, points, visibility,
a student-facing message), keeps the student's worker and its deadlines, and writes the
results file. Batch switching is ``BatchMode`` (``targets``), failure messages are
``FailureText`` (``failures``). Other plugins of the grader (``live``, ``warm``) find the
recorder in pytest's config stash under ``RECORDER``, without importing the plugin."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest

from grader.grading.early_worker import PLUGIN_NAME as EARLY_WORKER
from grader.grading.early_worker import not_dumpable, worker_config
from grader.grading.failures import FailureText, is_hidden, output_since, output_size, rebuild_text
from grader.grading.results import write_results
from grader.grading.student_code import ModuleBlocked, StudentCode, read_sources
from grader.grading.targets import BatchMode, Target, target_token
from grader.util.errors import WorkerTimeout

RECORDER = pytest.StashKey["Recorder"]()


class Recorder(BatchMode, FailureText):
    client: Any  # the current target's WorkerClient (None between targets in batch mode)

    def __init__(self, config: pytest.Config) -> None:
        from grader.boundary.channel import WorkerClient
        from grader.grading.catalog import load_catalog

        self.config = config
        self.chapter_id = config.getoption("grader_chapter")
        self.results_path = config.getoption("grader_results")
        chapter = load_catalog().chapter(self.chapter_id)
        self.chapter = chapter
        self.test_timeout = config.getoption("grader_test_timeout") or chapter.test_timeout_s
        self.check_budget = config.getoption("grader_check_timeout") or chapter.check_budget_s
        self.internal: list[str] = []
        self.items: list[pytest.Item] = []  # every test of the session, in running order
        self.interrupted = False  # Ctrl-C: the tests without a result are reported as not run
        self.running: str | None = None  # the test in progress (its node id)
        self.artifacts: list[dict[str, Any]] = []  # plain data suites attach (learning curves)
        self.started = time.monotonic()
        self.batch: list[Target] | None = None
        self.current: Target | None = None
        self.close_in_background = False
        not_dumpable()
        sandbox = config.getoption("grader_sandbox")
        self._worker_config = lambda sources: worker_config(
            chapter, sources, test_timeout=self.test_timeout, sandbox=sandbox
        )
        targets_file = config.getoption("grader_targets")
        if targets_file:
            self._init_batch(Path(targets_file))
            return
        if config.getoption("grader_warm", None) is not None:
            return  # grade watch: the plugin hands this recorder to warm.warm_init; each check is a forked child (begin_check)
        target = Path(config.getoption("grader_target"))
        early = config.pluginmanager.get_plugin(EARLY_WORKER)  # `grade check`: started before pytest
        # a one-shot check in this process (run_check(in_process=True)), which ends by waiting for
        # its threads: the worker may be closed in one while the report is written
        self.close_in_background = early is not None
        if early is None:
            self.begin_check(target, WorkerClient)
        else:  # its worker if it is the one this recorder would start, else one of its own
            self.begin_check(target, lambda wanted: early.take(target, wanted) or WorkerClient(wanted))

    def begin_check(self, target: Path, make_client: Any) -> None:
        """The one target's state, read and made fresh: its sources, results, what suites keep
        (``target_state``) and its worker, ``make_client(config)``, started (it imports numpy
        while pytest collects)."""
        self.target = target.resolve()
        self.display_dir = f"{self.target.name}/{self.chapter.id}"
        self.results: dict[str, dict[str, Any]] = {}
        sources = read_sources(self.target / self.chapter.id, self.display_dir)
        self.sources = sources
        self.reported_blocks: set[str] = set()
        self.names_cache: dict[str, Any] = {}
        self.state: dict[str, Any] | None = {}  # the one target's (``target_state``)
        self.timed_out: list[list[tuple[str, int, str]]] = []  # this target's stuck stacks (verified)
        self.public_blocks: set[tuple[str, str, str]] = set()
        self.client = make_client(self._worker_config(sources))
        self.client.start()
        self.student_code = StudentCode(self)

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        if self.batch is not None:
            self._remember_hook_proxies(session)
        if "keras" in self.chapter.needs:
            from grader.grading.keras_client import warm_helper

            # the helper that opens archives imports Keras now, while the worker imports its own
            # (in a batch: a fork server for them, one import for every target's fresh helper)
            warm_helper(batch=self.batch is not None)

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        # Target by target (stable: each target keeps the suites' order), so that only one
        # student worker is alive at a time; within a target every public test before any
        # hidden one: a worker keeps what it was given, and what it prints during a public
        # test is shown, so it must not yet have seen a hidden test's inputs.
        order = {
            id(item): ((t.index if (t := self._item_target(item)) else -1), is_hidden(item)) for item in items
        }
        items.sort(key=lambda item: order[id(item)])
        self.items = list(items)

    def pytest_keyboard_interrupt(self, excinfo: pytest.ExceptionInfo[BaseException]) -> None:
        # Ctrl-C; not pytest's own stop after collection errors (a KeyboardInterrupt subclass)
        if not isinstance(excinfo.value, pytest.Session.Interrupted):
            self.interrupted = True

    # -- fixtures --------------------------------------------------------------------

    @pytest.fixture(autouse=True)
    def grader_target(self) -> int | None:
        # The item's target is switched to before its fixtures are set up; no ``request``
        # argument: pytest builds a fixture definition for every ``request`` it hands out
        # (~0.1 ms each, several per test in a batch of thousands of tests).
        return self.current.index if self.current is not None else None

    @pytest.fixture
    def target_state(self, grader_target: int | None) -> dict[str, Any]:
        """A dict for what a suite computes once per target and shares between its tests
        (e.g. one training run judged by two tests). It belongs to the target being graded:
        fresh when the target starts, dropped when it finishes. Suites keep no state at
        module level (tests/test_suites_stateless.py)."""
        if self.state is None:  # no target is being graded: nothing may be kept
            raise RuntimeError("target_state outside a target")
        return self.state

    # -- per test --------------------------------------------------------------------

    def _meta(self, item: pytest.Item) -> dict[str, Any]:
        ex = item.get_closest_marker("exercise")
        pts = item.get_closest_marker("points")
        hidden = is_hidden(item)
        name = item.name
        target = self._item_target(item)
        if target is not None:
            token = target_token(target.index)
            for form in (f"[{token}]", f"-{token}", f"{token}-"):
                name = name.replace(form, "")
        return {
            "exercise": str(ex.args[0]) if ex else "unknown",
            "name": name,
            "max_score": float(pts.args[0]) if pts else 1.0,
            "visibility": "hidden" if hidden else "public",
        }

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        self.running = item.nodeid
        target = self._item_target(item)
        if target is not None:
            self._switch_to(target)
        marker = item.get_closest_marker("timeout_s")
        budget = float(marker.args[0]) if marker else self.test_timeout
        now = time.monotonic()
        # The whole check (one target's, in a batch) has a wall-clock budget too.
        limit = (target.started if target is not None else self.started) + self.check_budget
        if now >= limit:
            from grader.util.i18n import tr

            raise WorkerTimeout(tr("fb.check_budget", chapter=self.chapter.id, seconds=f"{self.check_budget:g}"))
        self.client.deadline = min(now + budget, limit)
        self.client.deadline_kind = "check" if limit < now + budget else "test"

    @pytest.hookimpl(trylast=True, specname="pytest_runtest_setup")
    def pytest_runtest_setup_output(self, item: pytest.Item) -> None:
        """Where the worker's output file ends as the test starts: what the student's code
        prints during the test is what gets added after it."""
        self._output_mark = (item.nodeid, output_size(self.client))
        self._artifact_mark = (item.nodeid, len(self._artifacts()))
        from grader.grading.checks import forget_rebuild

        forget_rebuild()

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo[None]):  # type: ignore[no-untyped-def]
        outcome = yield
        self._record(item, call, outcome.get_result())

    def _record(self, item: pytest.Item, call: pytest.CallInfo[None], report: pytest.TestReport) -> None:
        """A phase's report turned into the test's record (the first problem wins)."""
        key = item.nodeid
        if key in self.results and self.results[key]["status"] != "passed":
            return  # the first problem wins (e.g. setup error, then teardown)
        if call.when == "call" or (call.when == "setup" and report.failed):
            status, message = self._classify(call, item)
            entry = self._meta(item)
            blocked = call.excinfo is not None and isinstance(call.excinfo.value, ModuleBlocked)
            if status in ("failed", "error", "timeout") and entry["visibility"] == "public" and not blocked:
                message += rebuild_text(item, entry["exercise"])
            entry.update(
                status=status,
                score=entry["max_score"] if status == "passed" else 0.0,
                message=message,
                duration=round(call.duration, 4),
            )
            self.results[key] = entry
            self._keep_output(item, entry)
            self._through_choke_point(item, entry)
        elif call.when == "teardown" and report.failed and key in self.results:
            self._record_internal(item.nodeid, report)

    def pytest_runtest_teardown(self, item: pytest.Item) -> None:
        if self.client is not None:
            self.client.deadline = None

    def _artifacts(self) -> list[dict[str, Any]]:
        return self.current.artifacts if self.current is not None else self.artifacts

    def _through_choke_point(self, item: pytest.Item, entry: dict[str, Any]) -> None:
        """The test's message and the artifacts it added, as ``grader.grading.shown`` lets them out."""
        from grader.grading.shown import shown_test

        artifacts = self._artifacts()
        mark = getattr(self, "_artifact_mark", None)
        start = mark[1] if mark is not None and mark[0] == item.nodeid and mark[1] <= len(artifacts) else len(artifacts)
        entry["message"], artifacts[start:] = shown_test(
            entry["message"], artifacts[start:], hidden=entry["visibility"] == "hidden"
        )
        self._artifact_mark = (item.nodeid, len(artifacts))

    def _keep_output(self, item: pytest.Item, entry: dict[str, Any]) -> None:
        """What the student's code printed during a public test (capped; the results file is
        cleaned of control characters), attached for the report to show under the test.
        Never for hidden tests: a print of an argument would show a hidden input."""
        mark = getattr(self, "_output_mark", None)
        if entry["visibility"] != "public" or mark is None or mark[0] != item.nodeid:
            return
        text = output_since(self.client, mark[1])
        if not text:
            return
        self._artifacts().append({"kind": "test_output", "exercise": entry["exercise"], "test": entry["name"], **text})

    def _record_internal(self, nodeid: str, report: pytest.TestReport) -> None:
        self.internal.append(f"{nodeid}: {report.longreprtext[-2000:]}")

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            self.internal.append(f"collection of {report.nodeid}: {report.longreprtext[-2000:]}")

    # -- the end ---------------------------------------------------------------------

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if self.batch is not None:
            self._finish_batch()
            return
        if self.client is None:  # grade watch's warm session: its checks end in their own processes
            return
        isolation = list(self.client.isolation)
        if self.close_in_background:
            # Closing kills the worker at once; waiting for it to go (its sandbox's exit, its
            # cgroup's removal: 5-20 ms) overlaps writing the results and the report. The thread
            # is not a daemon: the process waits for it before it ends (cli.safety.exit_now too).
            threading.Thread(target=self.client.close, name="grade-worker-close").start()
        else:  # e.g. a check forked from grade watch's warm session, which ends with os._exit
            self.client.close()
        if not self.results_path:
            return
        if self.interrupted:
            self._not_run()
        data = {
            "chapter": self.chapter.id,
            "target": str(self.target),
            "execution_time": round(time.monotonic() - self.started, 3),
            "isolation": isolation,
            "tests": list(self.results.values()),
            "internal": self.internal,
            "artifacts": self.artifacts,
            **({"interrupted": True} if self.interrupted else {}),
        }
        write_results(Path(self.results_path), data)

    def _not_run(self) -> None:
        """After Ctrl-C: every test without a result, listed as not run (the one that was
        running when the check was interrupted says so)."""
        from grader.util.i18n import tr

        for item in self.items:
            if item.nodeid in self.results:
                continue
            entry = self._meta(item)
            msg_id = "fb.interrupted_running" if item.nodeid == self.running else "fb.interrupted_before"
            entry.update(status="not_run", score=0.0, message=tr(msg_id), duration=0.0)
            self.results[item.nodeid] = entry
