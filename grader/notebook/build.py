"""One notebook per chapter, generated from the ``.py`` stubs (never written by hand).

``build_notebook(chapter, stubs)`` splits each stub module at its exercises (``ast``
line numbers; the text is copied, never executed): a tagged code cell for the module's
header (docstring, imports, code handed out), then per exercise a markdown cell (its
summary in English and Chinese, and the stub's docstring: formula, shapes, example), a
tagged code cell with the stub itself, and a check cell. The ``if __name__ ==
"__main__":`` scratch block of a stub is left out (in a kernel it would run). Joining a
module's tagged cells (``notebook_sources.extract``) gives back the stub without that
block: ``tests/test_notebook.py`` checks it for every chapter, and that generation is
deterministic.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path
from typing import Any

from grader.grading.catalog import Chapter, Exercise
from grader.notebook.sources import marker_line

NOTEBOOK_METADATA = {
    "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
    "language_info": {"name": "python"},
}


def _is_main_block(node: ast.stmt) -> bool:
    if not isinstance(node, ast.If):
        return False
    test = node.test
    return (isinstance(test, ast.Compare) and isinstance(test.left, ast.Name) and test.left.id == "__name__"
            and len(test.comparators) == 1 and isinstance(test.comparators[0], ast.Constant)
            and test.comparators[0].value == "__main__")


def _start_line(node: ast.stmt, lines: list[str]) -> int:
    """0-based first line of ``node``, with its decorators and the comments right above it."""
    first = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", []))]) - 1
    while first > 0 and lines[first - 1].lstrip().startswith("#"):
        first -= 1
    return first


def split_module(text: str, names: list[str]) -> list[tuple[str, str]]:
    """``[(part, source)]``: ``("header", ...)`` then one part per exercise name, in file
    order; the ``__main__`` block dropped."""
    tree = ast.parse(text)
    lines = text.split("\n")
    cuts: list[tuple[int, str]] = []
    end = len(lines)
    for node in tree.body:
        if _is_main_block(node):
            end = _start_line(node, lines)
            break
        name = getattr(node, "name", None)
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and name in names:
            cuts.append((_start_line(node, lines), name))
    parts: list[tuple[str, str]] = []
    bounds = [0, *(c[0] for c in cuts), end]
    labels = ["header", *(c[1] for c in cuts)]
    for label, lo, hi in zip(labels, bounds, bounds[1:], strict=False):
        parts.append((label, "\n".join(lines[lo:hi]).strip("\n")))
    return parts


def _lines(text: str) -> list[str]:
    """nbformat's multi-line source: a list of lines, each but the last ending in \\n."""
    split = text.split("\n")
    return [line + "\n" for line in split[:-1]] + ([split[-1]] if split[-1] else [])


def _markdown(text: str) -> dict[str, Any]:
    return {"cell_type": "markdown", "metadata": {}, "source": _lines(text)}


def _code(text: str, tag: dict[str, str] | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {"dl_grade": tag} if tag else {}
    return {"cell_type": "code", "execution_count": None, "metadata": meta, "outputs": [], "source": _lines(text)}


def _docstring(text: str, name: str) -> str:
    for node in ast.parse(text).body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and node.name == name:
            return ast.get_docstring(node) or ""
    return ""


def _exercise_markdown(ex: Exercise, doc: str) -> str:
    head = f"### `{ex.name}` · {ex.points} points\n\n**{ex.summary}**"
    if ex.summary_zh:
        head += f"  \n{ex.summary_zh}"
    return head + (f"\n\n```text\n{doc}\n```" if doc else "")


def install_cell(wheel: str, url: str | None = None) -> str:
    """The first code cell of a released notebook: installs dl-grade's wheel into the kernel
    where ``grader`` is not importable yet (Colab, Kaggle, a fresh Jupyter), from the file
    ``wheel`` next to the notebook (or in a Kaggle dataset, ``/kaggle/input/*/``), else from
    ``url``. Where dl-grade is installed already it does nothing."""
    fallback = repr(url) if url else "None"
    return (
        "# Install dl-grade into this kernel (Colab, Kaggle, a fresh Jupyter): run this cell first.\n"
        "import glob, importlib, importlib.util, subprocess, sys\n"
        "if importlib.util.find_spec('grader') is None:\n"
        f"    _wheel = {wheel!r}\n"
        "    _found = sorted(glob.glob(_wheel) + glob.glob('/kaggle/input/**/' + _wheel, recursive=True))\n"
        f"    _source = _found[0] if _found else {fallback}\n"
        "    if _source is None:\n"
        "        raise FileNotFoundError(_wheel + ' not found: upload it next to this notebook (Colab: the Files '\n"
        "                                'panel; Kaggle: Add Input > Upload as a dataset), then run this cell again.')\n"
        "    subprocess.run([sys.executable, '-m', 'pip', 'install', '-q', _source], check=True)\n"
        "    importlib.invalidate_caches()\n"
    )


def build_notebook(chapter: Chapter, stubs: dict[str, str], install: str | None = None) -> dict[str, Any]:
    """The chapter's notebook (nbformat 4 JSON as a dict) from its stub sources; ``install``
    (``install_cell``) becomes the first code cell. A notebook is read in either language: its
    own text is written in both."""
    from grader.util.i18n import LANGS, t

    modules = ", ".join(f"`{m}.py`" for m in chapter.modules)
    cells = [
        _markdown(f"# {chapter.id} · {chapter.title}\n\n{chapter.title_zh}\n\n"
                  "Fill in each code cell marked `# TODO`, run it, then run the check cell below it. "
                  "`%grade hint chapterN.name` shows one more hint each time.  \n"
                  "在标有 `# TODO` 的代码单元中完成练习，运行它，再运行下面的检查单元。"
                  "`%grade hint chapterN.name` 每次多显示一条提示。\n\n"
                  + "  \n".join(t("nb.build.graded_cells", lang, modules=modules) for lang in LANGS)),
        *([_code(install)] if install else []),
        _code("%load_ext grader"),
    ]
    for module in chapter.modules:
        text = stubs[module]
        exercises = {e.name: e for e in chapter.exercises if e.module == module}
        for part, source in split_module(text, list(exercises)):
            if part == "header":
                cells.append(_markdown(f"## `{module}.py`\n\n"
                                       + "  \n".join(t("nb.build.header", lang) for lang in LANGS)))
                cells.append(_code(marker_line(module, "header") + "\n" + source,
                                   {"module": module, "part": "header"}))
                continue
            ex = exercises[part]
            cells.append(_markdown(_exercise_markdown(ex, _docstring(text, part))))
            cells.append(_code(marker_line(module, part) + "\n" + source,
                               {"module": module, "part": part, "exercise": ex.id}))
            cells.append(_code(f"%grade check {ex.id}"))
    for n, cell in enumerate(cells):
        cell["id"] = f"{chapter.id}-{n:03d}"  # nbformat 4.5 wants ids; stable ones keep generation deterministic
    return {"cells": cells, "metadata": {**NOTEBOOK_METADATA, "dl_grade": {"chapter": chapter.id}},
            "nbformat": 4, "nbformat_minor": 5}


def notebook_text(notebook: dict[str, Any]) -> str:
    """The saved form: stable key order and indent, as Jupyter writes it."""
    return json.dumps(notebook, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def write_notebooks(exercises: Path, chapters: list[Chapter], install: str | None = None) -> list[Path]:
    """``exercises/chapterN.ipynb`` for every chapter whose stubs are in ``exercises``
    (``install``: the first code cell, see ``install_cell``)."""
    written = []
    for chapter in chapters:
        folder = exercises / chapter.id
        if not all((folder / f"{m}.py").is_file() for m in chapter.modules) or not chapter.modules:
            continue
        stubs = {m: (folder / f"{m}.py").read_text(encoding="utf-8") for m in chapter.modules}
        path = exercises / f"{chapter.id}.ipynb"
        path.write_text(notebook_text(build_notebook(chapter, stubs, install)), encoding="utf-8")
        written.append(path)
    return written
