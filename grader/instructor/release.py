"""``grade release OUT``: the workspace students get.

Copied: ``exercises/`` (stubs), the ``grader`` package with public suites only, the
quiz banks (without keys when ``--graded-quizzes``), ``pyproject.toml`` and a student
README. Never copied: ``solutions/``, ``*_hidden.py`` suites, ``tests/``, ``bench/``.
Per chapter, ``grader/suites/chapterN/hidden.json`` says how many hidden tests and
points run at grading (counts only), so a student's report can say so. The finished
tree is scanned for anything secret before the command succeeds.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path

from grader.errors import InternalError, UsageError

HIDDEN_COUNTS = "hidden.json"
SKIP_NAMES = {"__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache"}

STUDENT_README = """# Deep-learning exercises — your workspace

Fill in the stubs under `exercises/chapterN/` (each `# TODO` marks the place), then:

| command | what it does |
|---|---|
| `grade list` | chapters and exercises |
| `grade check chapter2` | run the public checks of a chapter on your `exercises/` |
| `grade hint chapter2.XOR` | hints, gentlest first (`--lang zh` for Chinese) |
| `grade quiz chapter2` | the chapter's quiz |
| `grade submit --student YOUR_ID` | pack your work into one zip to hand in |

Set up once: `python3 -m venv .venv && . .venv/bin/activate && pip install -e .`

`grade check` runs the public checks only. More tests (hidden ones) run when your
submission is graded; each chapter's report says how many.
"""


def _ignore(folder: str, names: list[str]) -> set[str]:
    skip = {n for n in names if n in SKIP_NAMES or n.endswith((".pyc", ".egg-info"))}
    return skip | {n for n in names if n.endswith("_hidden.py")}


def hidden_counts(root: Path) -> dict[str, dict[str, float]]:
    """Hidden tests and points per chapter, from the authoring suites (collect only)."""
    suites = root / "grader" / "suites"
    files = sorted(str(p) for p in suites.glob("chapter*/test_*_hidden.py"))
    if not files:
        return {}
    with tempfile.TemporaryDirectory(prefix="grade-count-") as tmp:
        out = Path(tmp) / "counts.json"
        env = dict(os.environ, PYTEST_DISABLE_PLUGIN_AUTOLOAD="1", PYTHONDONTWRITEBYTECODE="1")
        env["PYTHONPATH"] = os.pathsep.join([str(root), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
        proc = subprocess.run(
            [sys.executable, "-m", "pytest", "-c", str(suites / "pytest.ini"), "--rootdir", str(suites),
             "-p", "grader.plugin", "-p", "grader.instructor.counting", "--collect-only", "-q",
             "-p", "no:warnings", f"--grader-count-out={out}", *files],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, cwd=tmp, timeout=300,
        )
        if not out.exists():
            raise InternalError("Counting the hidden tests failed:\n" + proc.stdout.decode("utf-8", "replace")[-2000:])
        return json.loads(out.read_text(encoding="utf-8"))


def read_hidden_counts(chapter_id: str, suites_dir: Path | None = None) -> dict[str, float] | None:
    """In a release: ``{"tests": N, "points": P}`` for the chapter's hidden tests, else None."""
    from grader.catalog import SUITES_DIR

    path = (suites_dir or SUITES_DIR) / chapter_id / HIDDEN_COUNTS
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return {"tests": int(data["hidden_tests"]), "points": float(data["hidden_points"])}
    except (OSError, ValueError, KeyError, TypeError):
        return None


def make_release(out: Path, *, graded_quizzes: bool = False, root: Path | None = None,
                 force: bool = False) -> dict[str, object]:
    from grader.runner import PACKAGE_ROOT

    root = (root or PACKAGE_ROOT).resolve()
    if not (root / "solutions").is_dir() or not (root / "grader" / "suites").is_dir():
        raise UsageError("grade release runs in the authoring repository (it needs solutions/ and grader/suites/).")
    out = out.resolve()
    if out == root or root in out.parents and out.parts[len(root.parts)] in {"grader", "exercises", "solutions"}:
        raise UsageError(f"{out} is inside the repository's own folders; choose another output folder.")
    if out.exists() and any(out.iterdir()):
        if not force:
            raise UsageError(f"{out} exists and is not empty. Choose a new folder (or pass --force to replace it).")
        shutil.rmtree(out)
    counts = hidden_counts(root)
    out.mkdir(parents=True, exist_ok=True)
    shutil.copytree(root / "exercises", out / "exercises", ignore=_ignore)
    shutil.copytree(root / "grader", out / "grader", ignore=_ignore)
    for chapter_dir in sorted((out / "grader" / "suites").glob("chapter*")):
        c = counts.get(chapter_dir.name, {"tests": 0, "points": 0.0})
        (chapter_dir / HIDDEN_COUNTS).write_text(
            json.dumps({"chapter": chapter_dir.name, "hidden_tests": int(c["tests"]),
                        "hidden_points": float(c["points"])}) + "\n",
            encoding="utf-8",
        )
    quizzes = _release_quizzes(root, out, graded_quizzes)
    shutil.copy2(root / "pyproject.toml", out / "pyproject.toml")
    (out / "README.md").write_text(STUDENT_README, encoding="utf-8")
    import grader

    manifest: dict[str, object] = {
        "format_version": 1,
        "grader_version": grader.__version__,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "graded_quizzes": graded_quizzes,
        "chapters": sorted(p.name for p in (out / "exercises").glob("chapter*")),
        "quizzes": quizzes,
        "hidden": {k: {"tests": int(v["tests"]), "points": float(v["points"])} for k, v in sorted(counts.items())},
    }
    (out / "release.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    problems = audit_release(out, root, graded_quizzes=graded_quizzes)
    if problems:
        raise InternalError("The release contains secret material:\n" + "\n".join(problems))
    return manifest


def _release_quizzes(root: Path, out: Path, graded: bool) -> list[str]:
    from grader.instructor.quizzes import keyless_text

    source = root / "quizzes"
    if not source.is_dir():
        return []
    (out / "quizzes").mkdir(exist_ok=True)
    written = []
    for bank in sorted(p for p in source.iterdir() if p.is_file() and p.name.startswith("chapter")):
        if graded:
            text = keyless_text(bank.stem, root)
            if text is None:
                raise UsageError("--graded-quizzes needs the quiz package (grader.quiz) to strip the keys.")
            (out / "quizzes" / bank.name).write_text(text, encoding="utf-8")
        else:
            shutil.copy2(bank, out / "quizzes" / bank.name)
        written.append(bank.name)
    return written


def secret_markers(root: Path) -> dict[str, list[str]]:
    """Strings that must never appear in a release: hidden test names and solution lines."""
    import ast

    hidden_names: list[str] = []
    for path in sorted((root / "grader" / "suites").glob("chapter*/test_*_hidden.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        hidden_names += [n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name.startswith("test_")]
        hidden_names.append(path.name)
    # What ships anyway is not secret: every stub (a later chapter's stub may hand out an
    # earlier chapter's solution as a helper) and every public suite.
    shipped = "\n".join(
        p.read_text(encoding="utf-8")
        for p in [*(root / "exercises").glob("chapter*/*.py"), *(root / "grader" / "suites").glob("chapter*/test_*.py")]
        if not p.stem.endswith("_hidden")
    )
    solution_lines: list[str] = []
    for path in sorted((root / "solutions").glob("chapter*/*.py")):
        for line in path.read_text(encoding="utf-8").splitlines():
            s = line.strip()
            if len(s) >= 24 and not s.startswith(("#", '"', "'", ">>>", "def ", "class ")) and s not in shipped:
                solution_lines.append(s)
    return {"hidden test": hidden_names, "solution line": solution_lines}


def audit_release(out: Path, root: Path, graded_quizzes: bool = False) -> list[str]:
    """Everything secret found in the release tree (empty when clean)."""
    import re

    markers = secret_markers(root)
    problems = []
    if graded_quizzes:
        for bank in sorted((out / "quizzes").glob("*")) if (out / "quizzes").is_dir() else []:
            text = bank.read_text(encoding="utf-8", errors="replace")
            if re.search(r"^\s*(correct|explanation|feedback)\s*=", text, re.MULTILINE):
                problems.append(f"quizzes/{bank.name}: a graded quiz with its key (correct/feedback/explanation)")
    for path in sorted(out.rglob("*")):
        rel = path.relative_to(out).as_posix()
        if path.is_dir():
            if path.name == "solutions":
                problems.append(f"{rel}: a solutions folder")
            continue
        if path.name.endswith("_hidden.py"):
            problems.append(f"{rel}: a hidden suite")
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        for kind, needles in markers.items():
            if kind == "solution line" and rel.startswith("grader/catalog/"):
                continue  # hints are written to be shown; they may quote a line on purpose
            for needle in needles:
                if needle in text:
                    problems.append(f"{rel}: contains a {kind} ({needle[:40]!r})")
    return problems
