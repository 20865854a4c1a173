"""The pytest side of the grader (loaded with ``-p grader.grading.plugin``).

``--grader-target DIR --grader-chapter chapterN --grader-results FILE`` turns a pytest
run over ``grader/suites/chapterN`` into a per-test record: status, points, visibility
and a student-facing message. Student code is reached only through the ``student``
fixture, which talks to a worker process across the trust boundary.

The hooks are here; the recorder (``recorder``), batch switching (``targets``), failure
messages (``failures``) and the student's code as suites see it (``student_code``) each
have their module.

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

from typing import Any

import pytest


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


@pytest.fixture(scope="session")
def student(pytestconfig: pytest.Config) -> Any:
    """What a suite sees of the student's work: one object for the session
    (``student_code.CurrentStudent``) whose every call reaches the target being graded
    (``pytest_runtest_setup`` switches to it before a test's fixtures are set up)."""
    from grader.grading.recorder import RECORDER
    from grader.grading.student_code import CurrentStudent

    return CurrentStudent(pytestconfig.stash[RECORDER])


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "exercise(id): the catalog exercise a test belongs to")
    config.addinivalue_line("markers", "points(n): points the test is worth (default 1)")
    config.addinivalue_line("markers", "timeout_s(s): wall-clock budget for this test")
    if config.getoption("grader_target") or config.getoption("grader_targets"):
        from grader.grading.recorder import RECORDER, Recorder

        recorder = Recorder(config)
        if config.getoption("grader_warm", None) is not None:
            from grader.grading.warm import warm_init  # grade watch: the check server's recorder

            warm_init(recorder)
        config.pluginmanager.register(recorder, "grader-recorder")
        config.stash[RECORDER] = recorder
        if config.getoption("grader_events"):
            from grader.grading.live import EventLog, LiveHooks

            config.pluginmanager.register(LiveHooks(EventLog(config.getoption("grader_events"))), "grader-events")
