"""Notebooks: extraction of the tagged cells (bounded, nothing executed), generation from
the stubs, ``grade check`` of a workspace whose chapter is a notebook, and collection of
notebook submissions with the same scores as the same code in ``.py`` files."""

from __future__ import annotations

import json
import os
import re
import shutil
import time
from pathlib import Path

import pytest
from instructor_helpers import REPO, fake_quiz_module, zip_folder

from grader.grading.catalog import load_catalog
from grader.notebook.build import build_notebook, notebook_text
from grader.notebook.sources import (
    MAX_CELLS,
    MAX_NOTEBOOK_BYTES,
    NotebookProblem,
    extract,
    extract_history,
    marker_line,
)

CATALOG = load_catalog()


@pytest.fixture(autouse=True)
def _fast_subprocess(monkeypatch):
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")


def sources(base: str, chapter: str) -> dict[str, str]:
    c = CATALOG.chapter(chapter)
    return {m: (REPO / base / chapter / f"{m}.py").read_text(encoding="utf-8") for m in c.modules}


def notebook_of(base: str, chapter: str) -> str:
    """The chapter's notebook with the cells of ``base`` (exercises: stubs, solutions: solved)."""
    return notebook_text(build_notebook(CATALOG.chapter(chapter), sources(base, chapter)))


def without_main(text: str) -> str:
    cut = text.find('\nif __name__ == "__main__":')
    return (text[:cut] if cut >= 0 else text).rstrip("\n") + "\n"


def nb(cells: list[dict]) -> bytes:
    return json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}).encode()


def code(source: str, tag: dict | None = None) -> dict:
    return {"cell_type": "code", "metadata": {"dl_grade": tag} if tag else {}, "outputs": [], "source": source}


# -- extraction ----------------------------------------------------------------------------


def test_tagged_cells_become_modules_in_order_and_untagged_cells_are_left_out():
    raw = nb([
        {"cell_type": "markdown", "metadata": {}, "source": "# notes"},
        code("import numpy as np", {"module": "activations", "part": "header"}),
        code("x = 1  # scratch"),
        code(marker_line("activations", "relu") + "\ndef relu(x):\n    return np.maximum(0, x)"),
        code(["def softmax(x):\n", "    return x\n"], {"module": "activations", "exercise": "chapter3.softmax"}),
        code("print('other chapter')", {"module": "perceptron"}),
    ])
    out = extract(raw, "chapter3.ipynb", ["activations", "network"])
    assert out.modules == {"activations": "import numpy as np\n\n\ndef relu(x):\n    return np.maximum(0, x)"
                                          "\n\n\ndef softmax(x):\n    return x\n"}
    assert out.exercises == {"activations": ["chapter3.softmax"]}
    assert any("1 code cell(s) without a dl-grade tag" in n for n in out.notes)
    assert any("perceptron" in n and "left out" in n for n in out.notes)


def test_magics_and_shell_lines_are_dropped_with_a_note():
    raw = nb([code("%matplotlib inline\nimport numpy as np\n!pip install foo\n  %timeit np.zeros(3)\nY = 2",
                   {"module": "losses"})])
    out = extract(raw, "nb", ["losses"])
    assert out.modules["losses"] == "import numpy as np\n\n\nY = 2\n"
    compile(out.modules["losses"], "losses.py", "exec")
    assert any("3 magic/shell line(s) not graded" in n and "%matplotlib" in n for n in out.notes)


def test_nothing_in_a_notebook_is_executed_while_extracting(tmp_path):
    canary = tmp_path / "ran"
    raw = nb([code(f"open({str(canary)!r}, 'w').write('x')", {"module": "conv"})])
    out = extract(raw, "nb", ["conv"])
    assert "open(" in out.modules["conv"] and not canary.exists()


@pytest.mark.parametrize(
    "raw, words",
    [
        (b"{not json", "not a valid notebook"),
        (b"\xff\xfe{}", "not UTF-8"),
        (b'{"cells": 3}', "not a Jupyter notebook"),
        (b"[" * 100_000 + b"]" * 100_000, "nested more than"),
        (b'{"cells": [' + b",".join([b"{}"] * (MAX_CELLS + 1)) + b"]}", "cells (more than"),
        (b'{"cells": [], "x": "' + b"a" * MAX_NOTEBOOK_BYTES + b'"}', "larger than 5 MB"),
    ],
    ids=["not-json", "not-utf8", "no-cells", "deep", "many-cells", "oversized"],
)
def test_a_bad_notebook_is_a_clear_problem_never_a_traceback(raw, words):
    with pytest.raises(NotebookProblem, match=re.escape(words)):
        extract(raw, "chapter3.ipynb")


def test_history_takes_the_last_run_of_each_tagged_part_in_first_run_order():
    history = [
        "%load_ext grader",
        marker_line("activations", "header") + "\nimport numpy as np",
        marker_line("activations", "relu") + "\ndef relu(x):\n    raise NotImplementedError",
        "relu(np.ones(2))",
        marker_line("activations", "relu") + "\ndef relu(x):\n    return np.maximum(0, x)",
        marker_line("network", "header") + "\nfrom activations import relu",
    ]
    out = extract_history(history, ["activations", "network"])
    assert out.modules["activations"] == "import numpy as np\n\n\ndef relu(x):\n    return np.maximum(0, x)\n"
    assert out.modules["network"] == "from activations import relu\n"


# -- generation ----------------------------------------------------------------------------


@pytest.mark.parametrize("chapter", [c.id for c in CATALOG.chapters.values() if c.modules])
def test_notebook_is_generated_deterministically_from_the_stubs_and_gives_them_back(chapter):
    text = notebook_of("exercises", chapter)
    assert text == notebook_of("exercises", chapter)  # deterministic: no times, no random ids
    data = json.loads(text)
    tags = [c["metadata"]["dl_grade"] for c in data["cells"] if c["metadata"].get("dl_grade")]
    assert {t["exercise"] for t in tags if "exercise" in t} == {e.id for e in CATALOG.chapter(chapter).exercises}
    assert all(c["source"][0].startswith("# dl-grade:") for c in data["cells"] if c["metadata"].get("dl_grade"))
    checks = [c for c in data["cells"] if c["cell_type"] == "code" and "".join(c["source"]).startswith("%grade check")]
    assert len(checks) == len(CATALOG.chapter(chapter).exercises)
    docs = "".join("".join(c["source"]) for c in data["cells"] if c["cell_type"] == "markdown")
    assert all(e.summary in docs for e in CATALOG.chapter(chapter).exercises)
    # joining the tagged cells gives back every stub module (its __main__ scratch block aside)
    out = extract(text.encode(), f"{chapter}.ipynb", CATALOG.chapter(chapter).modules)
    assert out.modules == {m: without_main(t) for m, t in sources("exercises", chapter).items()}


def test_generated_notebooks_are_valid_nbformat():
    nbformat = pytest.importorskip("nbformat")
    for chapter in ("chapter2", "chapter5"):
        nbformat.validate(nbformat.reads(notebook_of("exercises", chapter), as_version=4))


# -- grade check of a workspace whose chapter is a notebook -----------------------------------


def _workspace(tmp_path: Path, chapter: str, notebook: str, notebook_newer: bool) -> Path:
    exercises = tmp_path / "exercises"
    shutil.copytree(REPO / "exercises" / chapter, exercises / chapter)
    path = exercises / f"{chapter}.ipynb"
    path.write_text(notebook, encoding="utf-8")
    now = time.time()
    stamp = now if notebook_newer else now - 100
    os.utime(path, (stamp, stamp))
    for py in (exercises / chapter).glob("*.py"):
        other = now - 100 if notebook_newer else now
        os.utime(py, (other, other))
    return exercises


def test_check_grades_the_notebook_when_it_was_changed_last_and_says_so(tmp_path):
    from grader.grading.runner import run_check

    exercises = _workspace(tmp_path, "chapter3", notebook_of("solutions", "chapter3"), notebook_newer=True)
    report = run_check(CATALOG.chapter("chapter3"), exercises)
    assert report.score == report.max_score > 0 and report.all_passed
    assert "graded from exercises/chapter3.ipynb (changed after exercises/chapter3/*.py)" in report.source


def test_check_grades_the_py_files_when_they_were_changed_last(tmp_path):
    from grader.grading.runner import run_check

    exercises = _workspace(tmp_path, "chapter2", notebook_of("solutions", "chapter2"), notebook_newer=False)
    report = run_check(CATALOG.chapter("chapter2"), exercises)
    assert report.score == 0 and {t.status for t in report.tests} == {"not_attempted"}
    assert report.source.startswith("graded from exercises/chapter2/*.py (changed after exercises/chapter2.ipynb")


def test_messages_name_the_notebook_cell_and_line_of_the_error(tmp_path):
    from grader.grading.runner import run_check

    files = sources("solutions", "chapter3")
    files["activations"] = files["activations"].replace("return 1 / (1 + np.exp(-x))", "return undefined_name")
    data = build_notebook(CATALOG.chapter("chapter3"), files)
    index, cell = next((i, c) for i, c in enumerate(data["cells"], 1)
                       if c["metadata"].get("dl_grade", {}).get("part") == "sigmoid")
    line = next(n for n, text in enumerate(cell["source"], 1) if "undefined_name" in text)
    exercises = _workspace(tmp_path, "chapter3", notebook_text(data), notebook_newer=True)
    report = run_check(CATALOG.chapter("chapter3"), exercises)
    message = next(x.message for x in report.tests if x.exercise == "chapter3.sigmoid" and x.status == "error")
    assert "NameError" in message
    # the cell and the line in it, in place of the assembled activations.py the student never saw
    assert f"exercises/chapter3.ipynb cell {index}, line {line}" in message and 'activations.py", line' not in message


def test_grade_check_cli_shows_the_source_line(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from grader.cli import app

    _workspace(tmp_path, "chapter2", notebook_of("solutions", "chapter2"), notebook_newer=True)
    (tmp_path / "exercises" / "chapter2.ipynb").write_text(
        notebook_of("solutions", "chapter2").replace("# dl-grade: module=perceptron part=header\\n",
                                                     "# dl-grade: module=perceptron part=header\\n%pylab\\n"),
        encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["check", "chapter2"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "source: graded from exercises/chapter2.ipynb" in result.output
    assert "1 magic/shell line(s) not graded (%pylab)" in result.output


def test_a_workspace_of_notebooks_only_is_checked_and_submitted(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from grader.cli import app
    from grader.instructor.submission import read_submission

    (tmp_path / "exercises").mkdir()
    (tmp_path / "exercises" / "chapter2.ipynb").write_text(notebook_of("solutions", "chapter2"), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["check", "chapter2"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "source: graded from exercises/chapter2.ipynb" in result.output
    result = CliRunner().invoke(app, ["submit", "--student", "nina"])
    assert result.exit_code == 0, result.output
    sub = read_submission(tmp_path / "submission-nina.zip")
    assert set(sub.files) == {"chapter2/perceptron.py"}
    assert "note: chapter2 graded from exercises/chapter2.ipynb" in sub.problems


# -- collection ------------------------------------------------------------------------------


def _py_submission(root: Path, name: str, chapters: dict[str, dict[str, str]]) -> Path:
    for chapter, files in chapters.items():
        folder = root / name / "exercises" / chapter
        folder.mkdir(parents=True)
        for module, text in files.items():
            (folder / f"{module}.py").write_text(text, encoding="utf-8")
    return root / name


def _nb_submission(root: Path, name: str, chapters: dict[str, dict[str, str]]) -> Path:
    folder = root / name / "exercises"
    folder.mkdir(parents=True)
    for chapter, files in chapters.items():
        (folder / f"{chapter}.ipynb").write_text(
            notebook_text(build_notebook(CATALOG.chapter(chapter), files)), encoding="utf-8")
    return root / name


def test_collect_gives_notebooks_the_same_scores_as_the_same_code_in_py_files(tmp_path):
    from grader.instructor.collect import collect
    from grader.instructor.gradebook import Gradebook

    solved = {c: sources("solutions", c) for c in ("chapter2", "chapter3")}
    mixed = {
        "chapter2": {"perceptron": solved["chapter2"]["perceptron"].replace("> 0", "> 5")},  # gates stay silent
        "chapter3": {"activations": solved["chapter3"]["activations"], "network": sources("exercises", "chapter3")["network"]},
    }
    subs = tmp_path / "subs"
    _py_submission(subs, "ann-py", solved)
    _nb_submission(subs, "ann-nb", solved)
    _py_submission(subs, "ben-py", mixed)
    _nb_submission(subs, "ben-nb", mixed)
    zip_folder(_nb_submission(tmp_path / "staging", "ben-nb", mixed), subs / "ben-zip.zip")
    broken = _py_submission(subs, "cat-nb", {"chapter2": solved["chapter2"]})
    (broken / "exercises" / "chapter2.ipynb").write_text('{"cells": [', encoding="utf-8")
    db = tmp_path / "gb.sqlite"
    summary = collect([subs], db, workers=2, quiz_module=fake_quiz_module(), chapters=["chapter2", "chapter3"])
    assert summary.graded == 6 and not summary.rejected and not summary.failed
    with Gradebook(db) as gb:
        rows = {r["student"]: r for r in gb.latest()}
        per_test: dict[str, dict] = {}
        for t in gb.tests():
            student = next(s for s, r in rows.items() if r["hash"] == t["hash"])
            per_test.setdefault(student, {})[(t["chapter"], t["name"])] = (t["status"], t["score"], t["message"])
        problems = {s: json.loads(r["problems"]) for s, r in rows.items()}
    assert per_test["ann-nb"] == per_test["ann-py"]
    assert per_test["ben-nb"] == per_test["ben-zip"] == per_test["ben-py"]
    assert {v[0] for v in per_test["ann-nb"].values()} == {"passed"}
    assert {v[0] for v in per_test["ben-nb"].values()} >= {"passed", "failed", "not_attempted"}
    assert any("graded from exercises/chapter3.ipynb" in p for p in problems["ann-nb"])
    # an unreadable notebook is a recorded problem; the chapter's .py files are graded
    assert any("chapter2.ipynb" in p and "not a valid notebook" in p for p in problems["cat-nb"])
    chapter2 = {k: v for k, v in per_test["ann-py"].items() if k[0] == "chapter2"}
    assert {k: v for k, v in per_test["cat-nb"].items() if k[0] == "chapter2"} == chapter2


def test_grade_submit_packs_notebooks_and_collection_reads_them(tmp_path):
    from grader.instructor.submission import read_submission
    from grader.instructor.submit import make_submission

    exercises = tmp_path / "ws" / "exercises"
    exercises.mkdir(parents=True)
    (exercises / "chapter2.ipynb").write_text(notebook_of("exercises", "chapter2"), encoding="utf-8")
    (exercises / ".ipynb_checkpoints").mkdir()
    (exercises / ".ipynb_checkpoints" / "chapter2-checkpoint.ipynb").write_text("{}")
    out, manifest = make_submission(tmp_path / "ws", "zoe", tmp_path / "zoe.zip")
    assert set(manifest["files"]) == {"exercises/chapter2.ipynb"}  # type: ignore[arg-type]
    sub = read_submission(out)
    assert set(sub.files) == {"chapter2/perceptron.py"}
    assert sub.files["chapter2/perceptron.py"].decode() == without_main(sources("exercises", "chapter2")["perceptron"])
    assert not [p for p in sub.problems if not p.startswith("note:")]


# -- release -----------------------------------------------------------------------------------


def test_release_with_notebooks_ships_generated_notebooks_graded_in_the_release(tmp_path):
    import subprocess
    import sys

    from typer.testing import CliRunner

    from grader.cli import app

    out = tmp_path / "student"
    res = CliRunner().invoke(app, ["release", str(out), "--notebooks"])
    assert res.exit_code == 0, res.output
    assert "Notebooks: chapter2.ipynb" in res.output
    chapters = [c.id for c in CATALOG.chapters.values() if c.modules]
    assert sorted(p.name for p in (out / "exercises").glob("*.ipynb")) == sorted(f"{c}.ipynb" for c in chapters)
    from grader.instructor.release import wheel_name
    from grader.notebook.build import install_cell

    install = install_cell(wheel_name(REPO))  # the first code cell installs the release's wheel
    for chapter in chapters:  # generated from the released stubs, byte for byte
        expected = notebook_text(build_notebook(CATALOG.chapter(chapter), sources("exercises", chapter), install))
        assert (out / "exercises" / f"{chapter}.ipynb").read_text(encoding="utf-8") == expected
    assert json.loads((out / "release.json").read_text())["notebooks"] == sorted(f"{c}.ipynb" for c in chapters)
    env = dict(os.environ, PYTHONPATH=str(out), PYTEST_DISABLE_PLUGIN_AUTOLOAD="1", COLUMNS="200")

    def check() -> str:
        res = subprocess.run([sys.executable, "-m", "grader", "check", "chapter2"], cwd=out, env=env,
                             capture_output=True, timeout=120)
        return res.stdout.decode() + res.stderr.decode()

    fresh = check()  # untouched: the notebook is as old as the stubs, the .py files are graded
    assert "0/4 public checks passed" in fresh and "source: graded from exercises/chapter2/*.py" in fresh
    (out / "exercises" / "chapter2.ipynb").write_text(notebook_of("solutions", "chapter2"), encoding="utf-8")
    solved = check()
    assert "4/4 public checks passed" in solved, solved
    assert "source: graded from exercises/chapter2.ipynb (changed after exercises/chapter2/*.py)" in solved


def test_notebook_notes_and_problems_are_chinese_in_zh(monkeypatch):
    from grader.notebook.sources import choose
    from grader.util import i18n

    monkeypatch.setattr(i18n, "_chosen", "zh")
    cells = [code("%matplotlib inline\nY = 2", {"module": "losses"}), code("x = 1"),
             code("Z = 3", {"module": "other"})]
    out = extract(nb(cells), "chapter4.ipynb", ["losses"])
    notes = " ".join(out.notes)
    assert "1 行魔法命令/shell 命令不参与评分" in notes and "chapter4.ipynb 第 1 个单元格" in notes
    assert "没有 dl-grade 标记的代码单元格未评分" in notes and "不属于本章" in notes
    assert "not graded" not in notes and "left out" not in notes and " cell " not in notes
    with pytest.raises(NotebookProblem, match="不是有效的笔记本"):
        extract(b'{"cells": [', "chapter4.ipynb")
    picked = choose(["losses"], {"losses": b"Y = 1\n"}, 2.0, nb(cells), 1.0, "chapter4.ipynb", "chapter4/*.py")
    assert picked.note == "按 chapter4/*.py 评分（它在 chapter4.ipynb 之后或同时改过）"
    assert extract_history(["", marker_line("losses", "a") + "\nY = 1"], ["losses"], first=0).spans["losses"][0][2] \
        == "单元格 In [1]"


def test_a_missing_tensorflow_is_said_in_chinese_without_english_words(monkeypatch):
    import importlib.util

    from grader.grading.runner import _require
    from grader.util.errors import UsageError
    from grader.util.i18n import error_text

    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(UsageError) as caught:
        _require(("tensorflow", "keras"))
    zh = error_text(caught.value, "zh")
    assert zh.startswith("这一章需要 tensorflow, keras，本机尚未安装") and " and " not in zh
