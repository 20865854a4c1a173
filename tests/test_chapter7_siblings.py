"""chapter7 students may split their work across files in the chapter folder: a conv.py that
imports im2col/col2im from a sibling module still earns every point."""

from __future__ import annotations

import re
from pathlib import Path

from grader.grading.catalog import load_catalog
from grader.grading.runner import run_check

REPO = Path(__file__).resolve().parent.parent


def test_conv_importing_a_sibling_module_scores_full_marks(tmp_path):
    source = (REPO / "solutions" / "chapter7" / "conv.py").read_text(encoding="utf-8")
    # move the helpers into helpers.py and import them back into conv.py
    start = source.index("def conv_output_size")
    end = source.index("class Convolution")
    helpers = "import numpy as np\n\n\n" + source[start:end]
    conv = source[:start] + "from helpers import col2im, conv_output_size, im2col\n\n\n" + source[end:]
    assert re.search(r"^def im2col", conv, re.MULTILINE) is None
    folder = tmp_path / "chapter7"
    folder.mkdir()
    (folder / "helpers.py").write_text(helpers, encoding="utf-8")
    (folder / "conv.py").write_text(conv, encoding="utf-8")

    chapter = load_catalog().chapter("chapter7")
    report = run_check(chapter, tmp_path)

    assert report.max_score == sum(e.points for e in chapter.exercises) > 0
    assert report.score == report.max_score, [(t.name, t.message) for t in report.tests if t.status != "passed"]
