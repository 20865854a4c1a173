"""Checking inside a notebook: ``check``/``hint`` from Python, and a real Jupyter kernel
run headless (nbclient) on a generated chapter-3 notebook, as a student would."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from instructor_helpers import REPO

from grader.grading.catalog import load_catalog
from grader.notebook.build import build_notebook, notebook_text

CATALOG = load_catalog()


@pytest.fixture(autouse=True)
def _fast_subprocess(monkeypatch):
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)


def notebook(base: str, chapter: str) -> dict:
    c = CATALOG.chapter(chapter)
    files = {m: (REPO / base / chapter / f"{m}.py").read_text(encoding="utf-8") for m in c.modules}
    return json.loads(notebook_text(build_notebook(c, files)))


def save(nb: dict, path: Path) -> Path:
    path.write_text(json.dumps(nb, indent=1), encoding="utf-8")
    return path


# -- from Python (no kernel) -------------------------------------------------------------------


def test_check_from_a_saved_notebook_in_both_languages_without_importing_numpy_or_pytest(tmp_path):
    """The caller's process (a kernel) gets the report, never numpy or pytest: grading
    happens in a fresh process."""
    path = save(notebook("solutions", "chapter2"), tmp_path / "chapter2.ipynb")
    script = (
        "import sys\n"
        "from grader.notebook import check\n"
        f"en = check('chapter2', notebook={str(path)!r}, show=False)\n"
        f"zh = check('chapter2.XOR', notebook={str(path)!r}, lang='zh', show=False)\n"
        "assert 'numpy' not in sys.modules and 'pytest' not in sys.modules, sorted(sys.modules)\n"
        "print(en.text); print('=====');print(zh.text); print('=====');print(en.html)\n"
    )
    env = dict(os.environ, COLUMNS="200")
    res = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=300, cwd=tmp_path, env=env)
    assert res.returncode == 0, res.stderr.decode()
    en, zh, html = res.stdout.decode().split("=====\n")
    assert re.search(r"score (\d+)/\1\b", en) and "not attempted" not in en
    assert "source: graded from the saved notebook" in en and "chapter2.ipynb" in en
    assert "isolation:" in en
    assert "chapter2.XOR" in zh and "chapter2.AND" not in zh and "得分" in zh and "评分来源" in zh
    assert html.lstrip().startswith('<div class="dl-grade-report">') and "chapter2.AND" in html


def test_hint_shows_one_more_hint_each_time():
    from grader.notebook import hint

    ex = CATALOG.exercise("chapter3.softmax")
    n = len(ex.hints)
    assert n >= 2
    first = hint("chapter3.softmax", show=False).text
    second = hint("chapter3.softmax", show=False).text
    assert f"1/{n}" in first and f"2/{n}" not in first and ex.hints[0].en[:30] in first
    assert f"2/{n}" in second and ex.hints[1].en[:30] in second and f"hint 3 of {n}" in second
    assert "提示" in hint("chapter3.softmax", 1, lang="zh", show=False).text
    for _ in range(n):
        last = hint("chapter3.softmax", show=False).text
    assert f"{n}/{n}" in last and "That was the last hint" in last


def test_check_says_so_when_no_cells_of_the_chapter_are_found(tmp_path):
    from grader.notebook import check

    path = save(notebook("exercises", "chapter2"), tmp_path / "other.ipynb")
    out = check("chapter3", notebook=path, show=False)
    assert "No dl-grade cells of chapter3" in out.text


def test_the_notebook_jupyter_names_is_found_also_relative_to_the_server_root(tmp_path, monkeypatch):
    import grader.notebook.magics as gn

    save(notebook("solutions", "chapter2"), tmp_path / "chapter2.ipynb")
    monkeypatch.chdir(tmp_path)  # the kernel's folder: the notebook's
    monkeypatch.setenv("JPY_SESSION_NAME", "course/week2/chapter2.ipynb")  # relative to the server's root
    assert gn._notebook_path(None) == (tmp_path / "chapter2.ipynb").resolve()
    monkeypatch.setenv("JPY_SESSION_NAME", "Untitled.ipynb")
    assert gn._notebook_path(None) is None  # unknown: the kernel's history is used


def test_check_of_a_broken_or_missing_notebook_is_a_message_not_a_traceback(tmp_path):
    from grader.notebook import check

    bad = tmp_path / "chapter2.ipynb"
    bad.write_text('{"cells": [', encoding="utf-8")
    assert "not a valid notebook" in check("chapter2", notebook=bad, show=False).text
    assert "no such notebook" in check("chapter2", notebook=tmp_path / "gone.ipynb", show=False).text


def test_check_of_a_saved_notebook_warns_when_the_kernel_ran_other_code(tmp_path, monkeypatch):
    """Jupyter saves every few minutes: the saved file is graded (it is what gets handed
    in), and the student is told to save when the kernel ran something else."""
    import grader.notebook.magics as gn
    from grader.notebook.sources import marker_line

    path = save(notebook("exercises", "chapter2"), tmp_path / "chapter2.ipynb")
    ran = [marker_line("perceptron", "AND") + "\ndef AND(x1, x2):\n    return int(x1 and x2)\n"]
    monkeypatch.setattr(gn, "_history", lambda: ran)
    out = " ".join(gn.check("chapter2.AND", notebook=path, show=False).text.split())
    assert "not attempted" in out and "differ from the saved notebook" in out and "Save it (Ctrl+S" in out
    assert out.index("differ from the saved notebook") < out.index("not attempted")  # first, then the table
    same = next("".join(c["source"]) for c in notebook("exercises", "chapter2")["cells"]
                if c["metadata"].get("dl_grade", {}).get("part") == "OR")
    ran[:] = [same]  # the kernel ran only a cell as saved: nothing to warn about
    out = " ".join(gn.check("chapter2.AND", notebook=path, show=False).text.split())
    assert "differ from the saved notebook" not in out


# -- a real kernel, headless ---------------------------------------------------------------------


def run_kernel(nb: dict, cwd: Path, allow_errors: bool = False) -> dict:
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    node = nbformat.reads(json.dumps(nb), as_version=4)  # joins multi-line sources
    client = nbclient.NotebookClient(node, timeout=600, kernel_name="python3", allow_errors=allow_errors,
                                     resources={"metadata": {"path": str(cwd)}})
    client.execute()
    return json.loads(nbformat.writes(node))


def outputs(cell: dict) -> tuple[str, str]:
    """(html, text) a cell displayed."""
    html, text = [], []
    for out in cell.get("outputs", []):
        data = out.get("data", {})
        html.append("".join(data.get("text/html", "")))
        text.append("".join(data.get("text/plain", "")) + "".join(out.get("text", "")))
        if out.get("output_type") == "error":
            text.append("\n".join(out.get("traceback", [])))
    return "".join(html), "".join(text)


def code_cell(source: str) -> dict:
    code_cell.n = getattr(code_cell, "n", 0) + 1  # type: ignore[attr-defined]
    return {"cell_type": "code", "execution_count": None, "id": f"test-{code_cell.n}", "metadata": {},  # type: ignore[attr-defined]
            "outputs": [], "source": source}


def test_a_kernel_checks_the_stub_notebook_as_not_attempted_from_its_history(tmp_path):
    """The generated chapter-3 notebook, run top to bottom by a real kernel; the notebook
    file is unknown to the kernel (as in an unsaved or uploaded notebook), so the check
    grades the cells the kernel ran."""
    nb = notebook("exercises", "chapter3")
    checks = [c for c in nb["cells"] if "".join(c["source"]).startswith("%grade check")]
    nb["cells"] = [c for c in nb["cells"] if c not in checks or "chapter3.softmax" in "".join(c["source"])]
    nb["cells"] += [code_cell("%grade check chapter3"), code_cell("%grade hint chapter3.softmax"),
                    code_cell("%grade hint chapter3.softmax")]
    done = run_kernel(nb, tmp_path)
    errors = [c for c in done["cells"] if any(o.get("output_type") == "error" for o in c.get("outputs", []))]
    assert not errors, outputs(errors[0])[1]
    softmax_html, softmax_text = outputs(next(c for c in done["cells"] if "".join(c["source"]) ==
                                              "%grade check chapter3.softmax"))
    assert "chapter3.softmax" in softmax_text and "chapter3.sigmoid" not in softmax_text
    html, text = outputs(done["cells"][-3])
    text = " ".join(text.split())
    assert '<div class="dl-grade-report">' in html and "chapter3.softmax" in html
    assert "not attempted" in text and re.search(r"score 0/\d+", text)
    assert "graded from the cells this kernel ran" in text
    # the check showed hint 1 ("start here"): the hints go on from hint 2
    assert "2/" in outputs(done["cells"][-2])[1] and "3/" in outputs(done["cells"][-1])[1]


def test_a_kernel_with_solution_cells_pasted_in_gets_full_marks_from_the_saved_notebook(tmp_path, monkeypatch):
    nb = notebook("solutions", "chapter3")
    nb["cells"] = [c for c in nb["cells"] if not "".join(c["source"]).startswith("%grade check")]
    nb["cells"].append(code_cell("%grade check chapter3"))
    path = save(nb, tmp_path / "chapter3.ipynb")
    monkeypatch.setenv("JPY_SESSION_NAME", str(path))  # what a Jupyter server tells its kernels
    done = run_kernel(nb, tmp_path)
    html, text = outputs(done["cells"][-1])
    text = " ".join(text.split())
    assert "\x1b" not in text and html.count('<div class="dl-grade-report">') == 1
    assert re.search(r"score (\d+)/\1\b", text), text
    assert "not attempted" not in text and "failed" not in text
    assert "graded from the saved notebook" in text and "chapter3.ipynb" in text


def _break_sigmoid(nb: dict) -> tuple[dict, int]:
    """The sigmoid cell with an unclosed parenthesis; (that cell, the line of the error in it)."""
    cell = next(c for c in nb["cells"] if c["metadata"].get("dl_grade", {}).get("part") == "sigmoid")
    text = "".join(cell["source"]).replace("return 1 / (1 + np.exp(-x))", "return 1 / (1 + np.exp(-x)")
    cell["source"] = text
    return cell, next(n for n, line in enumerate(text.split("\n"), 1) if "np.exp(-x)" in line)  # as Jupyter numbers it


def test_a_kernel_names_the_cell_of_a_syntax_error_and_shows_the_report_once(tmp_path):
    """Graded from the cells the kernel ran: the syntax error is located in the cell by its
    execution number and the line in it (not in an activations.py the student never saw),
    and check() as a cell's last expression shows its report once, not again as the value."""
    nb = notebook("solutions", "chapter3")
    nb["cells"] = [c for c in nb["cells"] if not "".join(c["source"]).startswith("%grade check")]
    cell, line = _break_sigmoid(nb)
    nb["cells"].append(code_cell("from grader.notebook import check\ncheck('chapter3.sigmoid')"))
    nb["cells"].append(code_cell("check('chapter3.sigmoid', lang='zh')"))
    done = run_kernel(nb, tmp_path, allow_errors=True)
    ran = next(c for c in done["cells"] if c.get("id") == cell.get("id"))
    count = ran["execution_count"]
    html, text = outputs(done["cells"][-2])
    assert html.count('<div class="dl-grade-report">') == 1, html  # displayed, not displayed again as Out[n]
    assert len([o for o in done["cells"][-2]["outputs"] if o.get("output_type") in ("display_data", "execute_result")]) == 1
    flat = " ".join(text.split())
    assert f"cell In [{count}], line {line}" in flat, flat
    assert "activations.py" not in flat and "SyntaxError" in flat
    assert flat.count("Not run:") == 1  # said once, not under each test the error blocks
    zh_html, zh_text = outputs(done["cells"][-1])
    zh = " ".join(zh_text.split())
    assert f"单元格 In [{count}]，第 {line} 行" in zh and "未运行" in zh and "Not run" not in zh


def test_a_kernel_with_unsaved_edits_is_warned_first(tmp_path, monkeypatch):
    """The saved notebook is graded; cells the kernel ran differ from it: the warning comes
    before the table (which grades the saved cells), as a notice, not at the end of the
    source line."""
    saved = notebook("exercises", "chapter3")
    saved["cells"] = [c for c in saved["cells"] if not "".join(c["source"]).startswith("%grade check")]
    path = save(saved, tmp_path / "chapter3.ipynb")
    monkeypatch.setenv("JPY_SESSION_NAME", str(path))
    ran = json.loads(json.dumps(saved))
    solved = notebook("solutions", "chapter3")
    sig = next(c for c in solved["cells"] if c["metadata"].get("dl_grade", {}).get("part") == "sigmoid")
    mine = next(c for c in ran["cells"] if c["metadata"].get("dl_grade", {}).get("part") == "sigmoid")
    mine["source"] = sig["source"]  # run, not saved
    ran["cells"].append(code_cell("%grade check chapter3.sigmoid"))
    done = run_kernel(ran, tmp_path)
    html, text = outputs(done["cells"][-1])
    flat = " ".join(text.split())
    warning = flat.index("differ from the saved notebook")
    assert warning < flat.index("chapter3.sigmoid") and "not attempted" in flat[warning:]
    assert "Save it (Ctrl+S" in flat and flat.lstrip().startswith("⚠")
    assert "differ from the saved notebook" not in flat[flat.index("source:"):]
