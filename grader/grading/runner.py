"""Run a chapter's suites in a fresh pytest process and read back its results."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from grader.grading.catalog import SUITES_DIR, Chapter
from grader.grading.results import CheckReport, TestResult
from grader.util.errors import InternalError, UsageError

PACKAGE_ROOT = Path(__file__).resolve().parents[2]


class CheckCancelled(Exception):
    """``run_check``'s ``stop`` asked to end the check early (``grade watch``: a file was saved)."""


def find_workspace(start: Path | None = None) -> Path:
    """The folder holding ``exercises/``: the current folder or a parent, else the package's."""
    here = (start or Path.cwd()).resolve()
    for folder in [here, *here.parents]:
        if (folder / "exercises").is_dir() and ((folder / "exercises" / "chapter2").exists()
                                                or any((folder / "exercises").glob("chapter*.ipynb"))):
            return folder  # stubs as .py files, or a workspace of notebooks only
    if (PACKAGE_ROOT / "exercises").is_dir():
        return PACKAGE_ROOT
    raise UsageError("No exercises/ folder here or in a parent folder. Run grade from your course workspace.")


def resolve_target(path: Path | None, solutions: bool) -> Path:
    if path is not None and solutions:
        raise UsageError("Use either --path or --solutions, not both.")
    if path is not None:
        target = path.expanduser().resolve()
        if not target.is_dir():
            raise UsageError(f"{path} is not a folder. --path takes a folder laid out like exercises/.")
        return target
    workspace = find_workspace()
    if solutions:
        target = workspace / "solutions"
        if not target.is_dir():
            raise UsageError("There is no solutions/ folder here (student releases do not include solutions).")
        return target
    return workspace / "exercises"


def require_chapter(target: Path, chapter_id: str) -> None:
    """A target without the chapter's folder (or notebook) is a usage error, said before any
    test runs: otherwise every test reports a FileNotFoundError as if the student's code had
    raised it. The usual slip, --path at the workspace instead of its exercises/, is named."""
    from grader.util.i18n import tr

    if (target / chapter_id).is_dir() or (target / f"{chapter_id}.ipynb").is_file():
        return
    inner = target / "exercises"
    if (inner / chapter_id).is_dir() or (inner / f"{chapter_id}.ipynb").is_file():
        raise UsageError(tr("error.path_is_workspace", target=target, exercises=inner))
    raise UsageError(tr("error.no_chapter_folder", chapter=chapter_id, target=target))


def suite_files(chapter: Chapter, public_only: bool = False) -> list[Path]:
    folder = SUITES_DIR / chapter.id
    files = sorted(folder.glob("test_*.py"))
    if public_only:
        files = [f for f in files if not f.stem.endswith("_hidden")]
    return files


def _require(needs: tuple[str, ...]) -> None:
    """Heavy libraries a chapter needs, looked up without importing them."""
    import importlib.util

    missing = [name for name in needs if importlib.util.find_spec(name) is None]
    if not missing:
        return
    if {"tensorflow", "keras"} & set(missing):
        raise UsageError(
            f"This chapter needs {', '.join(missing)}, which is not installed here. "
            "Install it with: pip install 'dl-grade[keras]'"
        )
    raise UsageError(f"This chapter needs {', '.join(missing)}: pip install {' '.join(missing)}")


def pytest_command() -> list[str]:
    """The start of every grading pytest command (single check and batch): our config and
    plugin; pytest's own chatter off (students read only the plugin's results)."""
    return [
        sys.executable, "-m", "pytest",
        "-c", str(SUITES_DIR / "pytest.ini"),
        "--rootdir", str(SUITES_DIR),
        "-p", "grader.grading.plugin",
        "-q", "--no-header", "-p", "no:warnings",
    ]  # fmt: skip


# pytest's built-in plugins a check never uses. pytest.ini turns most of them off too, but
# options from an ini file are read after pytest has imported and registered every built-in
# plugin; on the command line they are never loaded (~25 ms of a check's CPU). The suites
# use no skip or xfail marks (a batch runs without them as well).
UNUSED_PLUGINS = tuple(
    arg
    for name in ("skipping", "unittest", "legacypath", "tmpdir", "faulthandler", "unraisableexception",
                 "threadexception", "doctest", "junitxml", "pastebin", "stepwise", "setuponly", "setupplan",
                 "debugging", "cacheprovider", "monkeypatch", "recwarn", "logging", "subtests")
    for arg in ("-p", f"no:{name}")
)


# The trusted side's numpy works on small arrays: one BLAS thread. OpenBLAS otherwise starts a
# thread per core when numpy is imported, which spins for a while and then at exit (~40 ms of
# CPU per check, taken from the worker on a 2-core machine). The worker has one thread too.
BLAS_THREADS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def pytest_env() -> dict[str, str]:
    """The environment of a grading pytest process."""
    env = dict(os.environ)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    from grader.util.i18n import session_lang

    env["GRADE_LANG"] = session_lang()  # feedback in the student's language
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"  # third-party plugins cost ~0.6 s and are not ours
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    # The trusted side only loads and evaluates small models: one thread, no oneDNN.
    env.setdefault("TF_NUM_INTRAOP_THREADS", "1")
    env.setdefault("TF_NUM_INTEROP_THREADS", "1")
    env.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    for name in BLAS_THREADS:
        env.setdefault(name, "1")
    env["PYTHONPATH"] = os.pathsep.join([str(PACKAGE_ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return env


def run_check(
    chapter: Chapter,
    target: Path,
    *,
    public_only: bool = False,
    sandbox: str = "auto",
    timeout: float | None = None,
    test_timeout: float | None = None,
    check_timeout: float | None = None,
    in_process: bool = False,
    live: object | None = None,
    stop: Callable[[], bool] | None = None,
) -> CheckReport:
    """Grade ``target`` with the chapter's suites.

    By default pytest runs in a fresh process. ``in_process=True`` (used by a one-shot
    ``grade check``, which is itself a fresh process) runs it here instead and saves an
    interpreter start; never use it twice in one process (pytest's own advice).
    ``live`` (a ``grader.grading.live.LiveProgress``) is told of every test as it starts and ends; a
    run in another process (chapters that need TensorFlow) reports them through an events
    file the plugin appends to. ``stop``, asked about ten times a second while pytest runs in
    another process, ends the check when it returns True: the process is killed and
    ``CheckCancelled`` raised."""
    _require(chapter.needs)
    files = suite_files(chapter, public_only)
    if not files:
        raise InternalError(f"No test suites found for {chapter.id} in {SUITES_DIR / chapter.id}.")
    started = time.monotonic()
    if sandbox == "bwrap":  # asked for by name: refused here, plainly, where it cannot be had
        from grader.boundary.sandbox import choose

        choose(sandbox)
    with tempfile.TemporaryDirectory(prefix="grade-run-") as tmp:
        results_file = Path(tmp) / "results.json"
        graded, source_note, spans = notebook_target(chapter, target, Path(tmp))
        command = [
            *pytest_command(),
            *UNUSED_PLUGINS,
            # Nothing reads pytest's capture of the trusted side's output (the student's code
            # prints in the worker, to a file of its own); capturing costs four dup2 calls and a
            # read per test phase. Live progress writes to a descriptor of its own.
            "-s",
            # Students see the plugin's messages, never pytest's tracebacks; building those
            # for every failing stub costs ~0.1 s per test. GRADER_DEBUG=1 keeps them.
            "--tb=" + ("long" if os.environ.get("GRADER_DEBUG") else "no"),
            "--grader-target",
            str(graded),
            "--grader-chapter",
            chapter.id,
            "--grader-results",
            str(results_file),
            "--grader-sandbox",
            sandbox,
            *([f"--grader-test-timeout={test_timeout}"] if test_timeout else []),
            *([f"--grader-check-timeout={check_timeout}"] if check_timeout else []),
            *[str(f) for f in files],
        ]
        env = pytest_env()
        budget = timeout or (60 + (check_timeout or chapter.check_budget_s))
        if in_process and not chapter.needs and stop is None:
            from grader.grading.early_worker import EarlyWorker

            # the worker starts now, while pytest is imported, configured and collects
            early = EarlyWorker(chapter, graded, sandbox=sandbox, test_timeout=test_timeout)
            try:
                _run_pytest_here(command[3:], env, tmp, live, early)
            finally:
                early.close()  # if the session never took it
        else:
            _run_pytest_subprocess(command, env, tmp, budget, chapter, results_file, live, stop)
        if not results_file.exists():
            raise InternalError(f"The grader failed to run the {chapter.id} suites.")
        data = json.loads(results_file.read_text(encoding="utf-8"))
    report = _report(chapter, target, data, started)
    if spans:  # graded from a notebook: say which cell each "file, line N" of a message is
        report = locate_in_cells(report, spans)
    return dataclasses.replace(report, source=source_note) if source_note else report


def locate_in_cells(report: CheckReport, spans: dict) -> CheckReport:  # type: ignore[type-arg]
    """A report on code that came from a notebook, with every location in the assembled
    ``.py`` files (which the student never saw) given as the cell and the line in it: in
    test messages, in the module errors shown above the tests (their file, line and
    traceback), and in the "Not run: ... at line N" line of the tests they blocked."""
    import re

    from grader.notebook.sources import cell_of, locate
    from grader.util.i18n import LANGS, t

    if not spans:
        return report
    artifacts = []
    moved: list[tuple[str, int, str, int]] = []  # (file name, line) -> (cell, line in it)
    for a in report.artifacts:
        if isinstance(a, dict) and a.get("kind") == "module_error":
            name = str(a.get("file", "")).rsplit("/", 1)[-1]
            line = a.get("line") if isinstance(a.get("line"), int) else 0
            found = cell_of(name[:-3], line, spans) if name.endswith(".py") else None
            if found is not None:
                moved.append((name, line, found[0], found[1]))
                a = dict(a, file=found[0], line=found[1], cell=True, text=locate(str(a.get("text", "")), spans))
        artifacts.append(a)

    def blocked(message: str) -> str:
        for name, line, where, cell_line in moved:
            for msg_id in ("fb.blocked_syntax", "fb.blocked_import"):
                for lang in LANGS:
                    pattern = "".join(f"(?P<{p[1:-1]}>.*?)" if re.fullmatch(r"\{\w+\}", p) else re.escape(p)
                                      for p in re.split(r"(\{\w+\})", t(msg_id, lang)))
                    m = re.fullmatch(pattern, message, flags=re.S)
                    if m and m.group("file") == name and m.group("line") == str(line):
                        return t(msg_id, lang, file=where, line=cell_line, error=m.group("error"))
        return locate(message, spans)

    tests = tuple(dataclasses.replace(x, message=blocked(x.message)) for x in report.tests)
    return dataclasses.replace(report, tests=tests, artifacts=tuple(artifacts))


def notebook_target(chapter: Chapter, target: Path, tmp: Path) -> tuple[Path, str, dict]:  # type: ignore[type-arg]
    """(folder to grade, note): when ``target`` has ``chapterN.ipynb`` and the notebook
    is what the student changed last, its tagged cells written as ``tmp/exercises``."""
    if not (target / f"{chapter.id}.ipynb").is_file():
        return target, "", {}
    from grader.notebook.sources import choose_in_folder, write_modules

    choice = choose_in_folder(target, chapter.id, chapter.modules)
    note = "; ".join(filter(None, [choice.note, *choice.notes]))
    if choice.source != "notebook":
        return target, note, {}
    return write_modules(tmp / "exercises", chapter.id, choice.files), note, choice.spans


def _run_pytest_here(
    args: list[str], env: dict[str, str], cwd: str, live: object | None = None, early: object | None = None
) -> None:
    import contextlib
    import io

    import pytest

    # pytest's own report goes to a string nobody reads; the plugin writes the results file.
    saved_autoload = os.environ.get("PYTEST_DISABLE_PLUGIN_AUTOLOAD")
    if "numpy" not in sys.modules:  # read once, when numpy is imported (the suites import it)
        for name in BLAS_THREADS:
            os.environ.setdefault(name, env[name])
    os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"]
    old_cwd = os.getcwd()
    os.chdir(cwd)
    sink = io.StringIO()
    # The plugin handed over as a module: `-p grader.grading.plugin` makes pytest look through every
    # installed distribution's entry points for it first (~10 ms).
    import grader.grading.plugin

    plugins: list[object] = [grader.grading.plugin, *([early] if early is not None else [])]
    at = next((i for i in range(len(args) - 1) if args[i] == "-p" and args[i + 1] == "grader.grading.plugin"), None)
    if at is not None:
        args = args[:at] + args[at + 2 :]
    try:
        with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
            if live is not None:
                from grader.grading.live import LiveHooks

                plugins.append(LiveHooks(live))
            pytest.main(args, plugins=plugins)  # type: ignore[arg-type]
    finally:
        os.chdir(old_cwd)
        if saved_autoload is None:
            os.environ.pop("PYTEST_DISABLE_PLUGIN_AUTOLOAD", None)
        else:
            os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = saved_autoload


def _run_pytest_subprocess(
    command: list[str],
    env: dict[str, str],
    cwd: str,
    budget: float,
    chapter: Chapter,
    results_file: Path,
    live: object | None = None,
    stop: Callable[[], bool] | None = None,
) -> None:
    """pytest in a fresh process, stopped after ``budget`` seconds. With ``live`` the plugin
    appends each test's start and verdict to an events file, replayed here while it waits."""
    events = str(Path(cwd) / "events.jsonl")
    if live is not None:
        from grader.grading.live import follow

        command = [*command[:3], "--grader-events", events, *command[3:]]
    log = Path(cwd) / "pytest-output.txt"
    offset = 0
    deadline = time.monotonic() + budget
    with open(log, "wb") as out:
        proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=cwd)
        try:
            while True:
                try:
                    quick = live is not None or stop is not None
                    proc.wait(timeout=0.1 if quick else max(deadline - time.monotonic(), 0.0))
                    break
                except KeyboardInterrupt:
                    # Ctrl-C in a terminal reaches pytest too (one process group): it records
                    # what ran, lists the rest as not run and ends; its results are shown.
                    try:
                        proc.wait(timeout=10)
                    except subprocess.TimeoutExpired:
                        raise KeyboardInterrupt from None
                    if not results_file.exists():
                        raise
                    break
                except subprocess.TimeoutExpired:
                    if live is not None:
                        offset = follow(events, offset, live)  # type: ignore[arg-type]
                    if stop is not None and stop():
                        _interrupt(proc)
                        raise CheckCancelled from None
                    if time.monotonic() >= deadline:
                        raise InternalError(f"Checking {chapter.id} took longer than {budget:.0f} s and was stopped.") from None
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    if live is not None:
        follow(events, offset, live)  # type: ignore[arg-type]
    if not results_file.exists():
        tail = log.read_bytes()[-3000:].decode("utf-8", "replace")
        raise InternalError(f"The grader failed to run the {chapter.id} suites (exit {proc.returncode}).\n{tail}")


def _interrupt(proc: subprocess.Popen[bytes], grace: float = 3.0) -> None:
    """Stop a pytest run as Ctrl-C does (its session ends and closes the student's worker),
    killed if it has not ended after ``grace`` seconds."""
    import signal

    try:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=grace)
    except (OSError, subprocess.TimeoutExpired):
        pass


def _report(chapter: Chapter, target: Path, data: dict, started: float) -> CheckReport:
    internal = data.get("internal", [])
    if data.get("interrupted") is True and not data.get("tests"):
        raise KeyboardInterrupt  # Ctrl-C before any test was collected: nothing to show
    if internal and os.environ.get("GRADER_DEBUG"):
        sys.stderr.write("\n".join(internal) + "\n")
    if not data.get("tests"):
        # A suite that did not load would otherwise look like a chapter with nothing to do.
        raise InternalError(f"The grader's {chapter.id} suites did not load (set GRADER_DEBUG=1 to see why).")
    return CheckReport(
        chapter=chapter.id,
        target=str(target),
        tests=tuple(TestResult.from_dict(t) for t in data["tests"]),
        execution_time=time.monotonic() - started,
        isolation=tuple(data.get("isolation", [])),
        artifacts=tuple(a for a in data.get("artifacts", []) if isinstance(a, dict)),
        interrupted=data.get("interrupted") is True,
    )
