"""Issue 20: the worker's memory cap fits the container's cgroup limit (Gradescope's default
machine has 768 MB, below the 1024 MB cap): read from cgroup v2's memory.max or v1's
memory.limit_in_bytes, the smallest from this process's cgroup up to the root."""

from __future__ import annotations

import re
from pathlib import Path

from grader.boundary.container import RESERVE_MB, container_limit_mb, fit_memory_mb

MB = 1024 * 1024


def _tree(tmp_path: Path, proc: str, files: dict[str, str]) -> tuple[Path, Path]:
    mount = tmp_path / "cgroup"
    for rel, text in files.items():
        (mount / rel).parent.mkdir(parents=True, exist_ok=True)
        (mount / rel).write_text(text)
    (tmp_path / "proc_cgroup").write_text(proc)
    return mount, tmp_path / "proc_cgroup"


def test_cgroup_v2_limit_is_the_smallest_on_the_way_up(tmp_path, monkeypatch):
    monkeypatch.delenv("GRADE_MEMORY_LIMIT_MB", raising=False)
    mount, proc = _tree(tmp_path, "0::/docker/abc\n", {
        "memory.max": "max\n", "docker/memory.max": f"{768 * MB}\n", "docker/abc/memory.max": "max\n"})
    assert container_limit_mb(mount, proc) == 768


def test_cgroup_v1_limit_and_its_unlimited_marker(tmp_path, monkeypatch):
    monkeypatch.delenv("GRADE_MEMORY_LIMIT_MB", raising=False)
    mount, proc = _tree(tmp_path, "4:memory:/process_api/x\n1:cpu:/\n", {
        "memory/memory.limit_in_bytes": "9223372036854771712\n",
        "memory/process_api/x/memory.limit_in_bytes": f"{3 * 1024 * MB}\n"})
    assert container_limit_mb(mount, proc) == 3072
    mount, proc = _tree(tmp_path / "none", "4:memory:/\n", {"memory/memory.limit_in_bytes": "9223372036854771712\n"})
    assert container_limit_mb(mount, proc) is None


def test_the_cap_is_lowered_below_the_limit_never_raised(monkeypatch):
    monkeypatch.delenv("GRADE_MEMORY_LIMIT_MB", raising=False)
    assert fit_memory_mb(1024, 768) == 768 - RESERVE_MB
    assert fit_memory_mb(1024, 8192) == 1024
    assert fit_memory_mb(None, 2048) == 2048 - RESERVE_MB
    assert fit_memory_mb(1024, 100) == 256  # never below what a worker needs to start
    monkeypatch.setenv("GRADE_MEMORY_LIMIT_MB", "600")
    assert container_limit_mb(Path("/nonexistent"), Path("/nonexistent")) == 600


def test_grade_check_reports_the_fitted_cap(monkeypatch):
    from typer.testing import CliRunner

    from grader.cli import app

    monkeypatch.setenv("GRADE_MEMORY_LIMIT_MB", "768")
    monkeypatch.setenv("COLUMNS", "300")
    result = CliRunner().invoke(app, ["check", "chapter2", "--solutions"])
    assert result.exit_code == 0, result.output
    assert re.search(r"memory(: cgroup|: RLIMIT_AS)? 512 MB", result.output), result.output
