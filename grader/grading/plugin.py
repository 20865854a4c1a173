"""The pytest side of the grader (loaded with ``-p grader.grading.plugin``).

``--grader-target DIR --grader-chapter chapterN --grader-results FILE`` turns a pytest
run over ``grader/suites/chapterN`` into a per-test record: status, points, visibility
and a student-facing message. Student code is reached only through the ``student``
fixture, which talks to a worker process across the trust boundary.

Batch mode (``grade collect``): ``--grader-targets FILE`` (a JSON list of
``{"key": ..., "path": ...}``) instead of ``--grader-target`` grades many targets of one
chapter in one session. Every test is parametrized over the targets (the autouse
``grader_target`` fixture), items run target by target, and each target gets its own
worker, forked from a per-session fork server and closed before the next target starts,
so a crash or timeout in one submission's worker never touches another's. Results are
written per target key. A target is a unit: what the trusted side keeps for one (the
``target_state`` fixture suites share a training run through, module errors already shown,
parsed source names) is made fresh when it starts and dropped when it finishes.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import pytest

from grader.util.errors import NotAttempted, NotRunAfterTimeout, StudentCodeError, WorkerFault, WorkerTimeout

MAX_SOURCE_BYTES = 1_000_000
MAX_SOURCE_FILES = 50


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("grader")
    group.addoption("--grader-target", help="folder laid out like exercises/ to grade")
    group.addoption("--grader-chapter", help="chapter id, e.g. chapter2")
    group.addoption("--grader-results", help="where to write the JSON results")
    group.addoption("--grader-sandbox", default="auto", help="auto | bwrap | none")
    group.addoption("--grader-test-timeout", type=float, default=None, help="seconds per test (default: the chapter's)")
    group.addoption("--grader-check-timeout", type=float, default=None, help="seconds per whole check (default: the chapter's)")
    group.addoption("--grader-events", help="append live progress events (JSON lines) to this file")
    group.addoption("--grader-targets", help="batch mode: JSON file listing many targets to grade")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "exercise(id): the catalog exercise a test belongs to")
    config.addinivalue_line("markers", "points(n): points the test is worth (default 1)")
    config.addinivalue_line("markers", "timeout_s(s): wall-clock budget for this test")
    if config.getoption("grader_target") or config.getoption("grader_targets"):
        recorder = Recorder(config)
        config.pluginmanager.register(recorder, "grader-recorder")
        config.stash[RECORDER] = recorder
        if config.getoption("grader_events"):
            from grader.grading.live import EventLog, LiveHooks

            config.pluginmanager.register(LiveHooks(EventLog(config.getoption("grader_events"))), "grader-events")


class StudentCode:
    """What a suite sees of the student's work: modules loaded across the boundary."""

    def __init__(self, recorder: Recorder | Target) -> None:
        self._recorder = recorder
        self._modules: dict[str, Any] = {}
        self._generation = -1

    @property
    def client(self) -> Any:
        return self._recorder.client

    def load(self, module: str) -> Any:
        """The student's module ``<chapter>/<module>.py`` as a proxy."""
        client = self.client
        if self._generation != client.generation or client.proc is None:
            self._modules.clear()
        if module not in client.config.sources:
            from grader.util.i18n import tr

            raise StudentCodeError("FileNotFoundError", tr("fb.missing_file", path=f"{self._recorder.display_dir}/{module}.py"))
        display = client.config.sources[module][0]
        if display in client.stuck_modules:  # its own top-level code ran out of time before
            raise NotRunAfterTimeout(display.rsplit("/", 1)[-1])
        if module not in self._modules:
            try:
                self._modules[module] = client.load(module)
            except NotAttempted:
                raise
            except StudentCodeError as exc:  # the module itself failed: syntax, imports, top-level code
                raise ModuleBlocked(module, exc) from None
            self._generation = client.generation
        return self._modules[module]

    def seed(self, seed: int) -> None:
        """Seed the student's random generators (np.random, random; keras when loaded)."""
        self.client.seed(seed)

    def library(self, name: str) -> Any:
        """A library the chapter needs (e.g. keras), as a proxy of the worker's copy:
        for a suite that builds its own objects there (a model to hand to the student)."""
        if name not in self._recorder.chapter.needs:
            raise ValueError(f"{name} is not in the chapter's needs")
        return self.client.load(name)

    def save_model(self, model: Any) -> bytes:
        """The bytes of a ``.keras`` archive of a model living in the worker."""
        return self.client.save_model(model)

    def attach(self, artifact: dict[str, Any]) -> None:
        """Attach plain data to the report (e.g. a learning curve to plot)."""
        self._recorder.artifacts.append(artifact)


from grader.grading.recorder import RECORDER  # noqa: E402 - the stash key live.py and warm.py read too


class ModuleBlocked(StudentCodeError):
    """A student's module could not be loaded (its own error, or one in a module it imports):
    every test that needs it is blocked by that one error."""

    def __init__(self, module: str, cause: StudentCodeError) -> None:
        super().__init__(cause.type_name, cause.detail, cause.traceback)
        self.module = module


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


def _is_hidden(item: pytest.Item) -> bool:
    return item.path.stem.endswith("_hidden")


def _target_token(index: int) -> str:
    return f"__gt{index}__"


class Recorder:
    client: Any  # the current target's WorkerClient (None between targets in batch mode)

    def __init__(self, config: pytest.Config) -> None:
        from grader.boundary.channel import WorkerClient, WorkerConfig
        from grader.grading.catalog import load_catalog
        from grader.boundary.container import fit_memory_mb

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
        _not_dumpable()
        self._worker_config = lambda sources: WorkerConfig(
            sources=sources,
            memory_mb=fit_memory_mb(chapter.memory_mb),  # below the container's own limit
            call_timeout=self.test_timeout,
            sandbox=config.getoption("grader_sandbox"),
            needs=tuple(chapter.needs),
            # numpy too: the worker imports it while pytest collects, not at the first test
            preload=["numpy", *chapter.needs],
            startup_timeout=90.0 if chapter.needs else 30.0,
        )
        targets_file = config.getoption("grader_targets")
        if targets_file:
            self._init_batch(Path(targets_file))
            return
        if config.getoption("grader_warm", None) is not None:
            from grader.grading.warm import warm_init  # grade watch: each check is a forked child (begin_check)

            warm_init(self)
            return
        self.begin_check(Path(config.getoption("grader_target")), WorkerClient)

    def begin_check(self, target: Path, make_client: Any) -> None:
        """The one target's state, read and made fresh: its sources, results, what suites keep
        (``target_state``) and its worker, ``make_client(config)``, started (it imports numpy
        while pytest collects)."""
        self.target = target.resolve()
        self.display_dir = f"{self.target.name}/{self.chapter.id}"
        self.results: dict[str, dict[str, Any]] = {}
        sources = _read_sources(self.target / self.chapter.id, self.display_dir)
        self.sources = sources
        self.reported_blocks: set[str] = set()
        self.names_cache: dict[str, Any] = {}
        self.state: dict[str, Any] | None = {}  # the one target's (``target_state``)
        self.timed_out: list[list[tuple[str, int, str]]] = []  # this target's stuck stacks (verified)
        self.public_blocks: set[tuple[str, str, str]] = set()
        self.client = make_client(self._worker_config(sources))
        self.client.start()
        self.student_code = StudentCode(self)

    # -- batch mode ------------------------------------------------------------------

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
        self.zygote.start()  # imports numpy while pytest collects

    def _switch_to(self, target: Target) -> None:
        """Close the previous target's worker, then fork this target's worker."""
        from grader.boundary.forkserver import ForkedWorkerClient

        if self.current is target:
            return
        self._finish_current()
        sources = _read_sources(target.path / self.chapter.id, target.display_dir)
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
                ids=[_target_token(t.index) for t in self.batch],
            )

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        if "keras" in self.chapter.needs:
            from grader.grading.keras_checks import warm_helper

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
            id(item): ((t.index if (t := self._item_target(item)) else -1), _is_hidden(item)) for item in items
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

    @pytest.fixture
    def student(self, grader_target: int | None) -> StudentCode:
        if self.batch is not None and self.current is not None:
            return self.current.student_code
        return self.student_code

    # -- per test --------------------------------------------------------------------

    def _meta(self, item: pytest.Item) -> dict[str, Any]:
        ex = item.get_closest_marker("exercise")
        pts = item.get_closest_marker("points")
        hidden = _is_hidden(item)
        name = item.name
        target = self._item_target(item)
        if target is not None:
            token = _target_token(target.index)
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
        self._output_mark = (item.nodeid, _output_size(self.client))
        self._artifact_mark = (item.nodeid, len(self._artifacts()))
        from grader.grading.checks import forget_rebuild

        forget_rebuild()

    @pytest.hookimpl(tryfirst=True, specname="pytest_runtest_makereport")
    def pytest_runtest_makereport_batch(self, item: pytest.Item, call: pytest.CallInfo[None]) -> pytest.TestReport | None:
        """Batch mode: a failure's report without pytest's source-reading traceback.

        Building the usual long representation costs tens of milliseconds per failing
        test (it reads and formats the suite's source); with hundreds of submissions
        that dominated grading. Nothing reads it: statuses come from ``_classify``."""
        if self.batch is None or call.excinfo is None or isinstance(call.excinfo.value, pytest.skip.Exception):
            return None
        when = "call" if call.when == "collect" else call.when
        return pytest.TestReport(
            item.nodeid,
            item.location,
            dict.fromkeys(item.keywords, 1),
            "failed",
            call.excinfo.exconly()[:1000],
            when,
            [],
            call.duration,
            call.start,
            call.stop,
            user_properties=item.user_properties,
        )

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo[None]):  # type: ignore[no-untyped-def]
        outcome = yield
        report = outcome.get_result()
        key = item.nodeid
        if key in self.results and self.results[key]["status"] != "passed":
            return  # the first problem wins (e.g. setup error, then teardown)
        if call.when == "call" or (call.when == "setup" and report.failed):
            status, message = self._classify(call, item)
            entry = self._meta(item)
            blocked = call.excinfo is not None and isinstance(call.excinfo.value, ModuleBlocked)
            if status in ("failed", "error", "timeout") and entry["visibility"] == "public" and not blocked:
                message += _rebuild_text(item, entry["exercise"])
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

    def _classify(self, call: pytest.CallInfo[None], item: pytest.Item) -> tuple[str, str]:
        if call.excinfo is None:
            return "passed", ""
        exc = call.excinfo.value
        from grader.grading.checks import Feedback
        from grader.util.i18n import tr
        from grader.grading.shown import vouched

        if isinstance(exc, NotAttempted):
            ex = item.get_closest_marker("exercise")
            name = str(ex.args[0]).split(".", 1)[-1] if ex else "?"
            return "not_attempted", tr("fb.not_attempted", name=name)
        hidden = _is_hidden(item)
        if isinstance(exc, ModuleBlocked):
            return "error", self._blocked(exc, hidden)
        if isinstance(exc, StudentCodeError):
            shape = _source_shape(tuple(self.sources.values()), self.names_cache) if hidden else None
            crashed = _crashed_call(call, exc, shape)
            error, frames = exc.message, exc.traceback.rstrip()
            if hidden:
                # The exception's text and the frames' names are the student's to choose (the
                # hidden input, written out): a hidden test names the type and the verified lines only.
                error, frames = _hidden_error(exc, self.sources, self.names_cache)
                error = vouched(error)
            text = tr("fb.raised_in", call=crashed, error=error) if crashed else tr("fb.raised", error=error)
            if frames:
                text += "\n" + vouched(_with_source_lines(frames, self.sources))
            return "error", text
        if isinstance(exc, NotRunAfterTimeout):
            names = [name for stack in self.timed_out for _, _, name in stack]
            names += [file.rsplit("/", 1)[-1] for file in self.client.stuck_modules]
            if not names:  # nothing stopped here: the student's own exception of that name
                return "error", tr("fb.raised", error="Exception")
            # every name here was checked against the submitted files' syntax trees
            return "timeout", tr("fb.not_run_timeout", function=vouched(exc.function if exc.function in names else names[0]))
        if isinstance(exc, WorkerTimeout) and exc.cut is not None:
            return "timeout", self._timeout_text(exc, item)
        if isinstance(exc, WorkerFault):
            marker = item.get_closest_marker("timeout_s")
            return exc.status, _fault_text(exc.message, float(marker.args[0]) if marker else self.test_timeout,
                                           self._worker_config({}).output_bytes)
        if isinstance(exc, Feedback):
            return "failed", exc.args[0] if exc.args and isinstance(exc.args[0], str) else str(exc)
        if isinstance(exc, AssertionError):
            # A bare assert: its text would show the hidden test's source, so it stays here.
            return "failed", tr("fb.bare_assert")
        self.internal.append(f"{item.nodeid}: {call.excinfo.exconly()}")
        return "error", tr("fb.internal", name=type(exc).__name__)

    def _timeout_text(self, exc: WorkerTimeout, item: pytest.Item) -> str:
        """Which limit stopped the code and where it was: the student frames of the stack the
        worker wrote just before, each checked against the submitted sources (a file they hold,
        a line inside it, a function they define), so nothing else the student's code wrote
        there shows, in hidden tests either. Its functions then raise at once when called
        again (``WorkerClient.not_run``)."""
        from grader.util.i18n import tr
        from grader.grading.shown import vouched

        if exc.cut == "check":
            limit = tr("fb.limit_check", chapter=self.chapter.id, seconds=f"{self.check_budget:g}")
        elif exc.cut == "call" and exc.seconds is not None:
            limit = tr("fb.limit_call", seconds=f"{exc.seconds:g}")
        else:
            marker = item.get_closest_marker("timeout_s")
            limit = tr("fb.limit_test", seconds=f"{float(marker.args[0]) if marker else self.test_timeout:g}")
        frames = _vouched_stack(exc.frames, _source_shape(tuple(self.sources.values()), self.names_cache))
        named = [f for f in frames if f[2] != "<module>"]
        if not frames:
            return tr("fb.timeout_why", limit=limit)
        self.timed_out.append(named)
        self.client.not_run = list(self.timed_out)
        if frames[0][2] == "<module>":  # the module's own top-level code: loading it again would loop again
            self.client.stuck_modules.add(frames[0][0])
        self.client.start()  # the next worker imports numpy while this test is reported
        file, line, function = frames[0]
        rows = "\n".join(f'  File "{f}", line {n}, in {name}' for f, n, name in reversed(frames[:HIDDEN_FRAMES]))
        head = tr("fb.timeout_stuck", limit=limit, function=vouched(function), line=vouched(str(line)),
                  file=vouched(file.rsplit("/", 1)[-1]))
        return head + "\n" + vouched(_with_source_lines(rows, self.sources))

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
        text = _output_since(self.client, mark[1])
        if not text:
            return
        self._artifacts().append({"kind": "test_output", "exercise": entry["exercise"], "test": entry["name"], **text})

    def _blocked(self, exc: ModuleBlocked, hidden: bool) -> str:
        """The module's error once (an artifact the report shows above the tests, as Python
        prints it), and for each test a line saying which file and line blocks it.

        In a hidden test the load may have been tried again after the worker saw the test's
        inputs: what the module's code raised then is shown as a hidden error is (its type and
        verified frames), never its text."""
        from grader.util.i18n import tr
        from grader.grading.shown import vouched

        error = _module_error(exc, self.sources)
        seen = (exc.type_name, exc.detail, exc.traceback)
        if not hidden:
            self.public_blocks.add(seen)
        elif seen in self.public_blocks:
            hidden = False  # the same error a public test showed, before any hidden input: nothing new
        if hidden and not error["syntax"]:
            error = _hidden_module_error(exc, self.sources)
        key = f"{error['file']}:{error['line']}:{error['text']}"
        if key not in self.reported_blocks:
            self.reported_blocks.add(key)
            self._artifacts().append(error)
        name = error["file"].rsplit("/", 1)[-1]
        msg_id = "fb.blocked_syntax" if error["syntax"] else "fb.blocked_import"
        if error["syntax"]:  # the trusted side's own compile of the submitted file
            summary = error["text"].strip().splitlines()[-1]
        else:
            summary = error["error"] if hidden else exc.message
        return tr(msg_id, file=vouched(name), line=vouched(str(error["line"] or "?")), error=vouched(summary[:300]))

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
        _write_results(Path(self.results_path), data)

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
        _write_results(Path(self.results_path), data)


# What the boundary says (in English, for logs) → the student's message in their language.
_FAULTS: tuple[tuple[str, str], ...] = (
    (r"your code did not finish in time", "fb.timeout"),
    (r"your code used more CPU time or memory", "fb.cpu_or_memory"),
    (r"your code ran out of memory", "fb.out_of_memory"),
    (r"your code printed more output", "fb.output_limit"),
    (r"your code wrote more to /tmp than allowed", "fb.tmp_limit"),
    (r"your code made a system call", "fb.syscall"),
    (r"the process running your code crashed \((?P<name>[^)]*)\)", "fb.crashed_signal"),
    (r"your code ended the process running it \(exit code (?P<code>-?\d+|None)\)", "fb.exited"),
    (r"your code closed the grader's connection", "fb.closed_channel"),
    (r"an object from before the worker restarted", "fb.stale_object"),
    (r"the grader's worker process|the worker did not start", "fb.worker_start"),
    (r"your code sent data the grader does not accept", "fb.bad_data"),
    (r"your code sent a message larger", "fb.too_large"),
    (r"your code sent (a malformed reply|an unexpected message)|your code called a function the grader", "fb.bad_reply"),
    (r"your module could not be loaded|your model could not be handed over", "fb.load_failed"),
)


def _fault_text(message: str, seconds: float, output_bytes: int | None = None) -> str:
    """A worker fault's message in the student's language (a message built here already is);
    a limit the student ran into is named with its size."""
    import re

    from grader.util.i18n import tr

    for pattern, msg_id in _FAULTS:
        match = re.match(pattern, message)
        if match:
            fields = match.groupdict()
            if msg_id == "fb.timeout":
                return tr("fb.timeout_limit", seconds=f"{seconds:g}")
            if msg_id == "fb.output_limit" and output_bytes:
                mb, kb = output_bytes / 2**20, output_bytes // 1024
                return tr("fb.output_limit_n", limit=f"{mb:g} MB" if mb >= 1 else f"{kb} KB")
            return tr(msg_id, **fields)
    from grader.util.i18n import Message

    if isinstance(message, Message):
        return message
    return message[:1].upper() + message[1:]


def _rebuild_text(item: pytest.Item, exercise_id: str = "") -> str:
    """For a public test: Python that rebuilds the inputs of its last call, with the imports
    it needs (numpy, and the exercise's function or class from the student's module, as run
    in the chapter's folder), and where the test is (public suites ship with the release).
    Hidden tests never record any."""
    from grader.grading.catalog import load_catalog
    from grader.grading.checks import rebuild_snippet
    from grader.util.i18n import tr

    snippet = rebuild_snippet()
    if not snippet:
        return ""
    where = f"grader/suites/{Path(str(item.path)).parent.name}/{Path(str(item.path)).name}"
    name = item.name.split("[", 1)[0]
    exercise = load_catalog().exercises.get(exercise_id)
    imports = ["import numpy as np"]
    if exercise is not None and exercise.module.isidentifier() and exercise.name.isidentifier():
        imports.append(f"from {exercise.module} import {exercise.name}")
    lines = "\n".join("    " + line for line in [*imports, *snippet.splitlines()])
    return "\n" + tr("fb.rebuild", test=name, file=where) + "\n" + lines


def _crashed_call(call: pytest.CallInfo[None], exc: StudentCodeError, shape: _Shape | None = None) -> str | None:
    """The call that crashed, as the suite described it for the student: the ``call`` text
    (function, argument shapes and dtypes, seed, non-default arguments; shapes only in hidden
    tests) held by the innermost suite frame, when it names the function the student's
    traceback starts in; else that function's name alone. In a hidden test (``shape`` given)
    that function counts only when its frame is verified against the submitted files."""
    import re

    first = re.search(r', line \d+, in (\w+)', exc.traceback or "")
    entry = first.group(1) if first else None
    if shape is not None and first is not None:
        row = (exc.traceback or "").splitlines()[(exc.traceback or "")[: first.start()].count("\n")]
        entry = entry if _verified_frames(row, shape) else None
    described = None
    excinfo = call.excinfo
    if excinfo is not None:
        for entry_tb in reversed(excinfo.traceback):
            path = str(entry_tb.path)
            if "/suites/" not in path.replace("\\", "/"):
                continue
            value = entry_tb.frame.f_locals.get("call")
            if isinstance(value, str) and value:
                described = value
                break
    if described is not None:
        name = described.split("(", 1)[0].rsplit(".", 1)[-1]
        if entry is None or name == entry or (entry == "__init__" and name[:1].isupper()):
            return described
    if entry is not None and entry != "<module>":
        return f"{entry}(...)"
    return None


OUTPUT_LINES = 20  # per test, shown
OUTPUT_BYTES = 2048
OUTPUT_READ = 64 * 1024  # read at most this much of one test's output


def _output_file(client: Any) -> int | None:
    output = getattr(client, "_output", None) if client is not None else None
    try:
        return output.fileno() if output is not None else None
    except (OSError, ValueError):
        return None


def _output_size(client: Any) -> int:
    fd = _output_file(client)
    try:
        return os.fstat(fd).st_size if fd is not None else 0
    except OSError:
        return 0


def _output_since(client: Any, start: int) -> dict[str, Any] | None:
    """The worker's output after ``start`` (0 when the worker restarted and its file began
    again), at most ``OUTPUT_LINES`` lines and ``OUTPUT_BYTES`` bytes, and how much was left
    out. ``pread`` leaves the file position, which the worker shares, where it was."""
    fd = _output_file(client)
    if fd is None:
        return None
    size = _output_size(client)
    if size < start:
        start = 0
    if size == start:
        return None
    try:
        data = os.pread(fd, min(size - start, OUTPUT_READ), start)
    except OSError:
        return None
    from grader.util.textclean import PROGRESS_BAR, settle

    text = settle(data.decode("utf-8", "replace"))  # progress bars: their last state, no escape fragments
    lines = text.splitlines()
    shown: list[str] = []
    used = 0
    for line in lines[:OUTPUT_LINES]:
        line = line[: OUTPUT_BYTES - used]
        shown.append(line)
        used += len(line.encode("utf-8")) + 1
        if used >= OUTPUT_BYTES:
            break
    left_out = len(lines) - len(shown) + (1 if size - start > OUTPUT_READ else 0)
    bars = any(PROGRESS_BAR.match(line) for line in lines)
    return {"text": "\n".join(shown), "lines_left_out": max(0, left_out), **({"progress_bars": True} if bars else {})}


_FRAME = None


def _frame_pattern() -> Any:
    import re

    global _FRAME
    if _FRAME is None:
        _FRAME = re.compile(r'^\s*File "(?P<file>[^"]+)", line (?P<line>\d+)')
    return _FRAME


def _source_line(sources: dict[str, tuple[str, bytes]], file: str, line: int) -> str | None:
    for display, data in sources.values():
        if display == file:
            lines = data.decode("utf-8", "replace").splitlines()
            if 1 <= line <= len(lines):
                return lines[line - 1].strip()[:200]
    return None


HIDDEN_FRAMES = 5  # the innermost frames a hidden test's error shows


def _hidden_error(
    exc: StudentCodeError, sources: dict[str, tuple[str, bytes]], cache: dict[str, Any] | None = None
) -> tuple[str, str]:
    """A hidden test's error without anything the student's code could choose: the type when
    it is Python's own or a class the submitted files define, and the innermost frames as file,
    line and function, each checked against the files' syntax trees (``_verified_frames``)."""
    import builtins

    shape = _source_shape(tuple(sources.values()), cache)
    name = exc.type_name
    builtin = isinstance(getattr(builtins, name, None), type) and issubclass(getattr(builtins, name), BaseException)
    error = name if builtin or name in shape.classes else "Exception"
    rows = [f'  File "{file}", line {line}, in {func}' for file, line, func in _verified_frames(exc.traceback, shape)]
    return error, "\n".join(rows[-HIDDEN_FRAMES:])


class _Shape:
    """What the submitted files define, read from their syntax trees (never by matching text,
    which would count comments and strings): class names, and for each file the lines of each
    function's or class's body."""

    def __init__(self) -> None:
        self.classes: set[str] = set()
        self.bodies: dict[str, dict[str, list[tuple[int, int]]]] = {}  # file -> name -> [(first, last)]
        self.lines: dict[str, int] = {}  # file -> its number of lines (parsed files only)


def _source_shape(sources: tuple[tuple[str, bytes], ...], cache: dict[str, Any] | None = None) -> _Shape:
    """Once per target when ``cache`` (the target's ``names_cache``, dropped with it) is given.
    Only exercise-sized files are parsed (the parser is slow on some crafted sources); the
    others give no locations."""
    if cache is not None and isinstance(cache.get("shape"), _Shape):
        return cache["shape"]  # type: ignore[no-any-return]
    import ast

    from grader.notebook.sources import MAX_CHECKED_BYTES, MAX_CHECKED_FILE_BYTES

    shape = _Shape()
    parsed = 0
    for display, data in sources:
        if len(data) > MAX_CHECKED_FILE_BYTES or parsed + len(data) > MAX_CHECKED_BYTES:
            continue
        parsed += len(data)
        try:
            tree = ast.parse(data, display)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            continue
        bodies = shape.bodies.setdefault(display, {})
        shape.lines[display] = data.count(b"\n") + 1
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.body:
                if isinstance(node, ast.ClassDef):
                    shape.classes.add(node.name)
                last = node.end_lineno or node.body[-1].lineno
                bodies.setdefault(node.name, []).append((node.body[0].lineno, last))
    if cache is not None:
        cache["shape"] = shape
    return shape


def _verified_frames(traceback_text: str, shape: _Shape) -> list[tuple[str, int, str]]:
    """The frames of a student traceback that a run of the submitted files could have made:
    the file is a submitted one, the function is a def or class its syntax tree has, and the
    line is in that function's body. Any other frame (code the student compiled at run time,
    a name or line it chose) is left out."""
    import re

    frames = []
    for row in (traceback_text or "").splitlines():
        match = _frame_pattern().match(row)
        if not match:
            continue
        func = re.search(r", in (\S+)\s*$", row)
        bodies = shape.bodies.get(match["file"], {})
        spans = bodies.get(func[1]) if func else None
        line = int(match["line"][:9])
        if spans and any(first <= line <= last for first, last in spans):
            frames.append((match["file"], line, func[1]))
    return frames


def _vouched_stack(frames: list[tuple[str, int, str]], shape: _Shape) -> list[tuple[str, int, str]]:
    """Frames (file, line, function) of a stuck worker's stack that the submitted files vouch
    for: the function is a def or class in the file's syntax tree and the line is in its body,
    or the frame is the module's own code at a line the file has."""
    return [
        (file, line, name)
        for file, line, name in frames
        if (name == "<module>" and 1 <= line <= shape.lines.get(file, 0))
        or any(first <= line <= last for first, last in shape.bodies.get(file, {}).get(name, ()))
    ]


def _with_source_lines(traceback_text: str, sources: dict[str, tuple[str, bytes]]) -> str:
    """A student traceback (frames only: the worker has no files to read lines from) with the
    line of code under each frame, from the sources the trusted side sent."""
    out = []
    for row in traceback_text.splitlines():
        out.append(row)
        match = _frame_pattern().match(row)
        if match:
            code = _source_line(sources, match["file"], int(match["line"]))
            if code:
                out.append("    " + code)
    return "\n".join(out)


def _maybe_newer_syntax(err: SyntaxError) -> bool:
    """Could the line be valid in a newer Python (PEP 695 ``type``/generics, PEP 701 f-strings,
    a soft keyword)? Then the report says which Python grades the code."""
    import re

    line = (err.text or "").strip()
    newer = (
        r"^type\s+\w+.*=",  # type aliases (3.12)
        r"^(async\s+)?(def|class)\s+\w+\s*\[",  # generic functions and classes (3.12)
        r"""f(["']).*\{[^}]*\1""",  # an f-string reusing its quote inside (3.12)
    )
    return (err.msg or "").startswith("invalid syntax") or any(re.search(p, line) for p in newer)


def _module_error(exc: StudentCodeError, sources: dict[str, tuple[str, bytes]]) -> dict[str, Any]:
    """What a module that did not load did wrong, as Python prints it: for a syntax error the
    file, line, the line with a caret under the column and the message (compiled here, on the
    trusted side, which parses the source without running any of it); for an error raised
    while importing, the traceback with its lines of code and the exception."""
    import sys
    import traceback

    from grader.util.i18n import tr

    if exc.type_name in ("SyntaxError", "IndentationError", "TabError"):
        # the same limits as reading a submission: larger sources get the worker's words
        from grader.notebook.sources import MAX_CHECKED_BYTES, MAX_CHECKED_FILE_BYTES

        named_first = sorted(sources.values(), key=lambda src: src[0].rsplit("/", 1)[-1] not in exc.detail)
        parsed = 0
        for display, data in named_first:
            # Python's parser is quadratic on some sources (an f-string of 300,000 fields: 76 s
            # for 900 KB), and the worker names the file: parse only exercise-sized sources here
            if len(data) > MAX_CHECKED_FILE_BYTES or parsed + len(data) > MAX_CHECKED_BYTES:
                continue
            parsed += len(data)
            try:
                compile(data, display, "exec", dont_inherit=True)
            except SyntaxError as err:
                text = "".join(traceback.format_exception_only(type(err), err)).rstrip()
                version = ".".join(map(str, sys.version_info[:3]))
                return {
                    "kind": "module_error",
                    "file": display,
                    "line": err.lineno or 0,
                    "syntax": True,
                    "text": text[:4000],
                    "note": tr("fb.python_version", version=version) if _maybe_newer_syntax(err) else "",
                    "grader": True,  # the trusted side's own compile of a submitted file
                }
            except Exception:  # noqa: BLE001 - a source the parser cannot take at all: say what the worker said
                continue
    frames = _with_source_lines(exc.traceback.rstrip(), sources) if exc.traceback else ""
    rows = [match for row in frames.splitlines() if (match := _frame_pattern().match(row))]
    last = rows[-1] if rows else None
    head = "Traceback (most recent call last):\n" if frames else ""
    return {
        "kind": "module_error",
        "file": last["file"] if last else str(sources.get(getattr(exc, "module", ""), ("?",))[0]),
        "line": int(last["line"]) if last else 0,
        "syntax": False,
        "text": (head + frames + ("\n" if frames else "") + exc.message)[:4000],
        "note": "",
    }


def _hidden_module_error(exc: StudentCodeError, sources: dict[str, tuple[str, bytes]]) -> dict[str, Any]:
    """A module load error as a hidden test may show it: the type and verified frames (with
    their lines from the submitted files), never the exception's text."""
    from grader.grading.shown import vouched

    error, frames = _hidden_error(exc, sources)
    rows = [match for row in frames.splitlines() if (match := _frame_pattern().match(row))]
    last = rows[-1] if rows else None
    text = ("Traceback (most recent call last):\n" + _with_source_lines(frames, sources) + "\n" if frames else "") + error
    return {
        "kind": "module_error",
        "file": vouched(last["file"] if last else str(sources.get(getattr(exc, "module", ""), ("?",))[0])),
        "line": int(last["line"]) if last else 0,
        "syntax": False,
        "text": vouched(text),
        "note": "",
        "error": error,
        "grader": True,
    }


def _write_results(final: Path, data: dict[str, Any]) -> None:
    """Every string cleaned of control characters (messages carry student text), written
    beside the target name and renamed over it: never follows a planted link."""
    from grader.grading.shown import shown
    from grader.util.textclean import clean_tree

    # the grader's own log of internal errors: their text may quote a student's value (a KeyError)
    data["internal"] = [shown(line, hidden=False) for line in data.get("internal", [])[:200]]
    partial = final.with_name(final.name + ".partial")
    partial.unlink(missing_ok=True)
    partial.write_text(json.dumps(clean_tree(data)), encoding="utf-8")
    os.replace(partial, final)


def _read_sources(folder: Path, display_dir: str) -> dict[str, tuple[str, bytes]]:
    sources: dict[str, tuple[str, bytes]] = {}
    if not folder.is_dir():
        return sources
    for path in sorted(folder.glob("*.py"))[:MAX_SOURCE_FILES]:
        if not path.is_file() or not path.stem.isidentifier():
            continue
        try:
            data = path.read_bytes()[:MAX_SOURCE_BYTES]
        except OSError:
            continue
        sources[path.stem] = (f"{display_dir}/{path.name}", data)
    return sources


def _not_dumpable() -> None:
    """Keep other processes of our uid (the worker) out of /proc/<pid>/mem and friends."""
    try:
        import ctypes

        ctypes.CDLL(None).prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE = 4
    except (OSError, AttributeError):
        pass
