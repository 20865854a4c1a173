"""grade report --similarity: planted copies rank above every pair of independent students,
reference and common code are discounted, the HTML page escapes student code and marks the
matches, and a pathological submission is read in bounded time and memory."""

from __future__ import annotations

import hashlib
import json
import re
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from grader.cli import app
from grader.grading.catalog import load_catalog
from grader.instructor.gradebook import Gradebook, Graded
from grader.instructor.similarity import MAX_TOKENS, build_similarity, find_references, read_module
from grader.instructor.submission import submission_key

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
from tests.similarity_class import disguise, planted_class, solution_files  # noqa: E402

EXERCISES = [(e.id, f"{e.chapter}/{e.module}.py", e.name) for e in load_catalog().exercises.values()]


def gradebook_of(students: dict[str, dict[str, str]], db: Path) -> Path:
    """A gradebook holding each student's graded sources, as grade collect keeps them."""
    with Gradebook(db) as gb:
        run = gb.start_run(1, "test")
        for i, (student, files) in enumerate(sorted(students.items())):
            data = {k: v.encode() for k, v in files.items()}
            content = hashlib.sha256(json.dumps(files, sort_keys=True).encode()).hexdigest()
            gb.record(Graded(submission_key(student, content), student, f"{student}.zip", "zip", "graded",
                             content_sha256=content, submitted_at="2026-10-01T10:00:00+00:00",
                             time_source="mtime", seq=i, files=data, chapters=[]), run, "test")
    return db


def run_report(db: Path, *args: str):
    res = CliRunner().invoke(app, ["report", "--db", str(db), "--similarity", *args], env={"COLUMNS": "200"})
    return res


def summary_rows(output: str) -> list[tuple[int, str, str, int]]:
    rows = []
    for line in output.splitlines():
        m = re.match(r"\s*(\d+)\s+(\S+)\s+(\S+)\s+(\d+)\s", line.replace("│", " "))
        if m:
            rows.append((int(m[1]), m[2], m[3], int(m[4])))
    return rows


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    students, pairs = planted_class(30)
    db = gradebook_of(students, tmp_path_factory.mktemp("sim") / "gb.sqlite")
    return students, pairs, db


def test_planted_copies_rank_first_in_the_report(planted, tmp_path):
    students, pairs, db = planted
    html = tmp_path / "sim.html"
    res = run_report(db, "--html", str(html))
    assert res.exit_code == 0, res.output
    rows = summary_rows(res.stdout)
    assert rows, res.stdout
    top = {frozenset((a, b)) for _rank, a, b, _score in rows[:len(pairs)]}
    assert top == pairs, res.stdout  # every planted pair in the top ranks ...
    planted_scores = [score for _r, a, b, score in rows if frozenset((a, b)) in pairs]
    independent = [score for _r, a, b, score in rows if frozenset((a, b)) not in pairs]
    assert min(planted_scores) > max(independent, default=0), res.stdout  # ... none of the others above them
    assert "never a grade change" in res.stdout and html.is_file()


@pytest.mark.parametrize("seed", [7, 3, 11])
def test_planted_pairs_rank_above_independent_ones_whatever_the_seed(seed):
    """Whichever students the corpus cases land on (the seed), every planted pair is listed, and
    above every independent pair overall and in each exercise."""
    students, pairs = planted_class(30, seed)
    rep = build_similarity({s: {k: v.encode() for k, v in f.items()} for s, f in students.items()}, EXERCISES,
                           find_references())
    ranked = rep.ranked_pairs()
    assert {frozenset((a, b)) for a, b, _s, _ps in ranked[:len(pairs)]} == pairs
    for pair in pairs:
        listed = [ex.exercise for ex in rep.exercises if any(frozenset((p.a, p.b)) == pair for p in ex.pairs)]
        assert listed, f"{sorted(pair)} is listed in no exercise"
    for ex in rep.exercises:  # in every exercise, a planted pair listed there is above every independent one
        scores = [(frozenset((p.a, p.b)) in pairs, p.shared) for p in ex.pairs]
        best_independent = max((s for is_planted, s in scores if not is_planted), default=-1)
        assert all(s > best_independent for is_planted, s in scores if is_planted), (ex.exercise, scores)


def test_the_disguise_leaves_no_line_of_the_original():
    """The benchmark is not trivially easy: comments, docstrings and names are all changed."""
    original = solution_files()["chapter7/conv.py"]
    copy = disguise(original, "z")
    own = {line.strip() for line in original.splitlines()
           if len(line.strip()) > 25 and not line.startswith(("from ", "import "))}
    assert not own & {line.strip() for line in copy.splitlines()}
    assert "# next step" in copy and copy.startswith('"""My version of this part."""')
    # independent statements swapped
    assert original.index("out_h = conv_output_size") < original.index("out_w = conv_output_size")
    assert copy.index("out_w_z = conv_output_size") < copy.index("out_h_z = conv_output_size")
    # the text-level similarity of the two is low, while the normalised tokens agree on most of the code
    assert "self.pad_z" in copy and "np.pad(" in copy


def test_reference_and_class_common_code_are_not_evidence(tmp_path):
    base = solution_files()
    stubs = {f"{p.parent.name}/{p.name}": p.read_text() for p in sorted((REPO / "exercises").glob("chapter*/*.py"))}
    helper = ("\n\ndef relu(x):\n    out = x.copy()\n    for i in range(out.size):\n"
              "        flat = out.reshape(-1)\n        if flat[i] < 0:\n            flat[i] = 0.0 * flat[i]\n"
              "    return out.reshape(x.shape) + 0.0 * x.sum(axis=None, keepdims=False)\n")
    students = {f"book{i}": dict(base) for i in range(4)} | {f"stub{i}": dict(stubs) for i in range(3)}
    for i in range(5):  # five of twelve write the same loop: common in this class
        students[f"loop{i}"] = dict(base)
        students[f"loop{i}"]["chapter3/activations.py"] = base["chapter3/activations.py"] + helper
    db = gradebook_of(students, tmp_path / "gb.sqlite")
    res = run_report(db)
    assert res.exit_code == 0, res.output
    assert summary_rows(res.stdout) == [] and "No pair of students shares enough rare code" in res.stdout
    res = run_report(db, "--similarity-share", "0.5")  # at 50 % five of twelve is rare: the loop is listed
    rows = summary_rows(res.stdout)
    assert len(rows) == 10 and all(a.startswith("loop") and b.startswith("loop") for _r, a, b, _s in rows)


ATTACK = '</script><script>alert(1)</script><img src=x onerror=alert(2)>'


def test_html_side_by_side_escapes_student_code_and_marks_matches(tmp_path):
    base = solution_files()
    own = (
        "\n\ndef relu(x):\n"
        f"    note = '{ATTACK}'\n"
        "    # <b>bold claim</b> \u202e reversed \x0c and \u2028 (not line ends for Python)\n"
        "    acc = x.astype(float).copy()\n"
        "    for idx in range(acc.size):\n"
        "        acc.flat[idx] = acc.flat[idx] if acc.flat[idx] > 0 else 0.0 * acc.flat[idx]\n"
        "    assert len(note) > 3 and acc.ndim >= 0, note\n"
        "    return acc\n"
    )
    students = {f"s{i}": dict(base) for i in range(6)}
    students["mallory"] = dict(base)
    students["mallory"]["chapter3/activations.py"] = base["chapter3/activations.py"] + own
    students["trudy"] = dict(base)
    students["trudy"]["chapter3/activations.py"] = base["chapter3/activations.py"] + disguise(own, "t")
    db = gradebook_of(students, tmp_path / "gb.sqlite")
    page_path = tmp_path / "sim.html"
    res = run_report(db, "--html", str(page_path))
    assert res.exit_code == 0, res.output
    assert [(a, b) for _r, a, b, _s in summary_rows(res.stdout)] == [("mallory", "trudy")]
    page = page_path.read_text(encoding="utf-8")
    assert "<script" not in page and "<img" not in page and "<b>" not in page and "\u202e" not in page
    assert "&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in page and "\ufffd reversed" in page
    assert "default-src 'none'" in page
    link = re.search(r'<a href="#(pair-\d+)">chapter3\.relu', page)
    assert link, page[:2000]
    view = page[page.index(f'id="{link[1]}"'):]
    view = view[:view.index("</section>")]
    left, right = view.split('<div class="side">')[1:3]
    assert "mallory" in left and "trudy" in right
    assert left.count("<mark") >= 1 and right.count("<mark") >= 1
    assert re.search(r"<mark[^>]*>[^<]*acc\.flat", left)  # the copied loop is marked
    assert "for idx in range" in re.sub(r"<[^>]+>", "", left)


def test_a_pathological_submission_is_read_in_bounded_work(tmp_path):
    huge = "def relu(x):\n" + "    x = x + 1\n" * 200_000  # 2.8 MB, 1.2 M tokens
    module = read_module(huge.encode())
    assert len(module.units["relu"].tokens) <= MAX_TOKENS and "only the first" in module.note
    nested = read_module(("def relu(x):\n    return " + "(" * 50_000 + "\n").encode())
    assert nested.note  # does not tokenize (or read in part): a note, not an exception
    odd = read_module(b"\x00\xff\xfe def relu(x):\n\treturn x\n")  # not UTF-8, a NUL: read, never raised
    assert isinstance(odd.units, dict) and isinstance(odd.note, str)
    students = {f"s{i}": {"chapter3/activations.py": solution_files()["chapter3/activations.py"].encode()}
                for i in range(3)}
    students["huge"] = {"chapter3/activations.py": huge.encode()}
    rep = build_similarity(students, EXERCISES, find_references())
    assert any(s == "huge" and "only the first" in n for s, n in rep.notes)


def test_similarity_usage_errors_are_clear(tmp_path):
    res = run_report(tmp_path / "none.sqlite")
    assert res.exit_code == 2 and "No gradebook" in res.output and "Traceback" not in res.output
    db = gradebook_of({"a": solution_files()}, tmp_path / "gb.sqlite")
    res = run_report(db, "--similarity-share", "0")
    assert res.exit_code == 2 and "--similarity-share" in res.output and "Traceback" not in res.output


ALICE = '''"""My perceptrons."""


def AND(x1, x2):
    """Weights 0.5 and 0.5, bias -0.7."""
    weights = [0.5, 0.5]
    total = -0.7
    for xi, wi in zip((x1, x2), weights):
        total += xi * wi  # weighted sum
    if total > 0:
        return 1
    return 0


def NAND(x1, x2):
    weights = [-0.5, -0.5]
    total = 0.7
    for xi, wi in zip((x1, x2), weights):
        total += xi * wi
    if total > 0:
        return 1
    return 0


def OR(x1, x2):
    weights = [0.5, 0.5]
    total = -0.2
    for xi, wi in zip((x1, x2), weights):
        total += xi * wi
    if total > 0:
        return 1
    return 0


def XOR(x1, x2):
    return AND(NAND(x1, x2), OR(x1, x2))
'''


def test_collected_class_gives_the_copied_pair(tmp_path, monkeypatch):
    """Through grade collect: the sources the gradebook keeps are the ones compared."""
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    subs = tmp_path / "subs"
    solution = (REPO / "solutions" / "chapter2" / "perceptron.py").read_text()
    for name, text in {"alice": ALICE, "bob": disguise(ALICE, "b"), "carol": solution,
                       "dave": solution.replace("tmp", "acc"), "erin": solution + "\n# mine\n"}.items():
        folder = subs / name / "exercises" / "chapter2"
        folder.mkdir(parents=True)
        (folder / "perceptron.py").write_text(text)
    res = CliRunner().invoke(app, ["collect", str(subs), "--db", str(tmp_path / "gb.sqlite"), "--chapter",
                                   "chapter2", "--allow-weak-isolation"])
    assert res.exit_code == 0, res.output
    res = run_report(tmp_path / "gb.sqlite")
    assert res.exit_code == 0, res.output
    rows = summary_rows(res.stdout)
    assert [(a, b) for _r, a, b, _s in rows] == [("alice", "bob")], res.stdout
    assert (tmp_path / "similarity.html").is_file()  # beside the gradebook without --html


def test_a_fragment_the_whole_class_holds_is_common_whatever_the_share():
    """The pairs a fingerprint makes are bounded: above MAX_HOLDERS students it is common."""
    from grader.instructor.similarity import MAX_HOLDERS

    text = (solution_files()["chapter3/activations.py"] + "\n\ndef relu(x):\n    out = x.copy()\n"
            "    for i in range(out.size):\n        out.flat[i] = max(out.flat[i], 0.0) + 0.0 * out.flat[i]\n"
            "    return out.reshape(x.shape) + 0.0 * x.sum(axis=None, keepdims=False)\n").encode()
    few = {f"s{i:03d}": {"chapter3/activations.py": text} for i in range(4)}
    many = {f"s{i:03d}": {"chapter3/activations.py": text} for i in range(MAX_HOLDERS + 1)}
    relu = [e for e in EXERCISES if e[0] == "chapter3.relu"]
    assert len(build_similarity(few, relu, find_references(), share=1.0).exercises[0].pairs) == 6
    result = build_similarity(many, relu, find_references(), share=1.0).exercises[0]
    assert result.pairs == [] and result.common_limit == MAX_HOLDERS
