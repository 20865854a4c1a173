"""Issue 20: Colab and Kaggle. ``pip install dl-grade`` finds nothing (no such package on an
index): ``grade release`` builds dl-grade's wheel into the release, next to the notebooks, and
each notebook's first cell installs it, from beside the notebook or from ``--wheel-url``.
Shown by a fresh virtual environment with no dl-grade (its other dependencies come from
this environment, so everything runs offline) whose kernel runs the released notebook
headless, as a Colab student would."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from grader.cli import app

pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")
pytest.importorskip("wheel")


@pytest.fixture(autouse=True)
def _fast_subprocess(monkeypatch):
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)


@pytest.fixture(scope="module")
def release(tmp_path_factory):
    out = tmp_path_factory.mktemp("rel") / "student"
    res = CliRunner().invoke(app, ["release", str(out), "--notebooks"])
    assert res.exit_code == 0, res.output
    return out


@pytest.fixture(scope="module")
def deps(tmp_path_factory) -> Path:
    """This environment's packages, dl-grade itself left out: the dependencies a student's
    Colab gets from the index, here offline (PYTHONPATH)."""
    folder = tmp_path_factory.mktemp("deps")
    for entry in Path(sysconfig.get_paths()["purelib"]).iterdir():
        name = entry.name.lower()
        if name.startswith(("dl_grade", "__editable__", "_dl_grade", "grader")) or name.endswith(".pth"):
            continue
        (folder / entry.name).symlink_to(entry)
    return folder


def fresh_kernel(tmp: Path, deps: Path, monkeypatch) -> tuple[str, Path]:
    """A new venv (no dl-grade) and a Jupyter kernel spec that runs in it; pip and every
    other dependency from ``deps``, never from an index."""
    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    spec = tmp / "jupyter" / "kernels" / "fresh"
    spec.mkdir(parents=True)
    spec.joinpath("kernel.json").write_text(json.dumps({
        "argv": [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "fresh venv", "language": "python",
        "env": {"PYTHONPATH": str(deps), "PIP_NO_INDEX": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1",
                "COLUMNS": "200"},
    }), encoding="utf-8")
    monkeypatch.setenv("JUPYTER_PATH", str(tmp / "jupyter"))
    return "fresh", python


def run(nb: dict, kernel: str, cwd: Path) -> dict:
    import nbclient
    import nbformat

    node = nbformat.reads(json.dumps(nb), as_version=4)
    nbclient.NotebookClient(node, timeout=600, kernel_name=kernel, allow_errors=True,
                            resources={"metadata": {"path": str(cwd)}}).execute()
    return json.loads(nbformat.writes(node))


def text(cell: dict) -> str:
    parts = []
    for out in cell.get("outputs", []):
        parts.append("".join(out.get("data", {}).get("text/plain", "")) + "".join(out.get("text", "")))
        if out.get("output_type") == "error":
            parts.append("\n".join(out.get("traceback", [])))
    return " ".join("".join(parts).split())


def errors(done: dict) -> list[str]:
    return [text(c) for c in done["cells"] if any(o.get("output_type") == "error" for o in c.get("outputs", []))]


def code(source: str) -> dict:
    code.n = getattr(code, "n", 0) + 1  # type: ignore[attr-defined]
    return {"cell_type": "code", "execution_count": None, "id": f"wheel-{code.n}", "metadata": {},  # type: ignore[attr-defined]
            "outputs": [], "source": source}


def test_the_release_has_the_wheel_and_each_notebook_installs_it_first(release):
    manifest = json.loads((release / "release.json").read_text(encoding="utf-8"))
    wheel = release / manifest["wheel"]
    assert wheel.parent == release / "exercises" and wheel.name == "dl_grade-0.1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
    assert "grader/suites/chapter2/test_perceptron.py" in names and "grader/cli/main.py" in names
    assert not [n for n in names if n.endswith("_hidden.py")]  # built from the audited release tree
    for nb_path in sorted((release / "exercises").glob("chapter*.ipynb")):
        cells = [c for c in json.loads(nb_path.read_text(encoding="utf-8"))["cells"] if c["cell_type"] == "code"]
        first = "".join(cells[0]["source"])
        assert wheel.name in first and "pip" in first, nb_path
        assert "".join(cells[1]["source"]) == "%load_ext grader"


def test_a_fresh_kernel_installs_the_wheel_beside_the_notebook_and_checks(release, deps, tmp_path, monkeypatch):
    colab = tmp_path / "content"  # what a Colab student has: the notebook and the wheel, uploaded
    colab.mkdir()
    shutil.copy(release / "exercises" / "chapter2.ipynb", colab)
    shutil.copy(release / "exercises" / "dl_grade-0.1.0-py3-none-any.whl", colab)
    kernel, python = fresh_kernel(tmp_path, deps, monkeypatch)
    env = dict(os.environ, PYTHONPATH=str(deps))
    before = subprocess.run([str(python), "-c", "import grader"], env=env, capture_output=True, cwd=colab)
    assert before.returncode != 0  # no dl-grade in the fresh environment
    nb = json.loads((colab / "chapter2.ipynb").read_text(encoding="utf-8"))
    nb["cells"] += [code("import grader; print('from', grader.__file__)"), code("%grade check chapter2")]
    done = run(nb, kernel, colab)
    assert not errors(done), errors(done)[0]
    where = text(done["cells"][-2])
    assert f"from {tmp_path / 'venv'}" in where and "site-packages/grader" in where  # the wheel, installed
    report = text(done["cells"][-1])
    assert "chapter2.AND" in report and "not attempted" in report and "score 0/" in report
    assert "graded from the cells this kernel ran" in report
    per_exercise = [text(c) for c in done["cells"] if "".join(c["source"]).startswith("%grade check chapter2.")]
    assert per_exercise and all("not attempted" in t for t in per_exercise)


def test_with_wheel_url_a_notebook_alone_installs_from_the_address(release, deps, tmp_path, monkeypatch):
    from grader.notebook.build import install_cell

    wheel = release / "exercises" / "dl_grade-0.1.0-py3-none-any.whl"
    alone = tmp_path / "kaggle-working"  # only the notebook: nothing uploaded beside it
    alone.mkdir()
    kernel, _ = fresh_kernel(tmp_path, deps, monkeypatch)
    url = wheel.resolve().as_uri()  # file://: offline here; https:// in a course
    nb = {"cells": [code(install_cell(wheel.name, url)), code("%load_ext grader"),
                    code("import grader; print('from', grader.__file__)"), code("%grade hint chapter2.AND")],
          "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    done = run(nb, kernel, alone)
    assert not errors(done), errors(done)[0]
    assert f"from {tmp_path / 'venv'}" in text(done["cells"][-2])
    assert "chapter2.AND" in text(done["cells"][-1]) and "1/" in text(done["cells"][-1])
    # without the file and without an address, the cell says what to do
    nb["cells"][0] = code(install_cell(wheel.name + ".missing"))
    kernel2, _ = fresh_kernel(tmp_path / "again", deps, monkeypatch)
    failed = run(nb, kernel2, alone)
    assert "not found: upload it next to this notebook" in text(failed["cells"][0])


def test_a_wheel_url_must_be_an_address(tmp_path):
    res = CliRunner().invoke(app, ["release", str(tmp_path / "x"), "--notebooks", "--wheel-url", "dl_grade.whl"])
    assert res.exit_code == 2 and "--wheel-url" in res.output
