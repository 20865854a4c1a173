"""``grade release OUT``: the workspace students get.

With ``notebooks=True`` (``--notebooks``) each chapter also gets ``exercises/chapterN.ipynb``,
generated from the released stubs (``grader.notebook.build``), never written by hand.

Copied: ``exercises/`` (the stubs committed at git HEAD, never the working tree: a
release refuses to run while ``exercises/`` differs from them unless ``--allow-dirty``,
and then ships HEAD's stubs), the ``grader`` package with public suites only, the
quiz banks (without keys when ``--graded-quizzes``), ``pyproject.toml`` and a student
README. Never copied: ``solutions/``, ``*_hidden.py`` suites, ``tests/``, ``bench/``.
Per chapter, ``grader/suites/chapterN/hidden.json`` says how many hidden tests and
points run at grading (counts only), so a student's report can say so. The finished
tree is scanned for anything secret before the command succeeds, and every shipped
exercise body is compared with the pristine stub's.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path

from grader.util.errors import InternalError, UsageError

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

Working in Jupyter, Colab or Kaggle instead? If your instructor shipped notebooks
(`exercises/chapterN.ipynb`), open one and run its cells: the first installs dl-grade from
`exercises/dl_grade-*.whl` (in Colab upload that file beside the notebook; in Kaggle add it
as an input), then `%load_ext grader` once, `%grade check chapter3` and
`%grade hint chapter3.softmax`. Save the notebook before checking; `grade check` and
`grade submit` take the notebook when you changed it after the chapter's `.py` files.

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
             "-p", "grader.grading.plugin", "-p", "grader.instructor.counting", "--collect-only", "-q",
             "-p", "no:warnings", f"--grader-count-out={out}", *files],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, cwd=tmp, timeout=300,
        )
        if not out.exists():
            raise InternalError("Counting the hidden tests failed:\n" + proc.stdout.decode("utf-8", "replace")[-2000:])
        return json.loads(out.read_text(encoding="utf-8"))


def read_hidden_counts(chapter_id: str, suites_dir: Path | None = None) -> dict[str, float] | None:
    """In a release: ``{"tests": N, "points": P}`` for the chapter's hidden tests, else None."""
    from grader.grading.catalog import SUITES_DIR

    path = (suites_dir or SUITES_DIR) / chapter_id / HIDDEN_COUNTS
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return {"tests": int(data["hidden_tests"]), "points": float(data["hidden_points"])}
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _git(root: Path, *args: str) -> subprocess.CompletedProcess[bytes] | None:
    try:
        return subprocess.run(["git", "-C", str(root), *args], capture_output=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return None


def pristine_stubs(root: Path) -> tuple[str, dict[str, bytes]] | None:
    """(commit, {"exercises/chapter2/perceptron.py": bytes}) of the committed stubs at git
    HEAD, or None when ``root`` is not a git checkout (or git is missing)."""
    head = _git(root, "rev-parse", "--verify", "-q", "HEAD")
    top = _git(root, "rev-parse", "--show-toplevel")
    if head is None or head.returncode or top is None or top.returncode:
        return None
    if Path(top.stdout.decode().strip()).resolve() != root.resolve():
        return None  # root is a folder inside some other repository: its HEAD is not ours
    commit = head.stdout.decode().strip()
    listed = _git(root, "ls-tree", "-r", "-z", "--name-only", commit, "--", "exercises")
    if listed is None or listed.returncode:
        return None
    files: dict[str, bytes] = {}
    for name in filter(None, listed.stdout.decode("utf-8", "replace").split("\0")):
        parts = name.split("/")
        if any(part in SKIP_NAMES or part.endswith(".egg-info") for part in parts) or name.endswith(".pyc"):
            continue
        shown = _git(root, "show", f"{commit}:{name}")
        if shown is None or shown.returncode:
            raise InternalError(f"git could not show {name} at {commit[:12]}.")
        files[name] = shown.stdout
    return commit, files


def dirty_exercises(root: Path) -> list[str]:
    """Files under exercises/ that differ from git HEAD (changed, added, deleted, untracked)."""
    res = _git(root, "status", "--porcelain", "-z", "--untracked-files=all", "--", "exercises")
    if res is None or res.returncode:
        return []
    out = []
    for entry in filter(None, res.stdout.decode("utf-8", "replace").split("\0")):
        name = entry[3:] if len(entry) > 3 and entry[2] == " " else entry
        if "__pycache__" in name or name.endswith(".pyc"):
            continue
        out.append(name)
    return out


def wheel_name(root: Path) -> str:
    """The file name of dl-grade's wheel built from ``root`` (its pyproject's name and version)."""
    from grader.util.tomlcompat import tomllib

    project = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    name = re.sub(r"[-_.]+", "_", str(project["name"])).lower()
    return f"{name}-{project['version']}-py3-none-any.whl"


def build_wheel(tree: Path, into: Path) -> Path:
    """Build dl-grade's wheel from the release ``tree`` (its grader package: public suites
    only, already audited) into ``into``, offline: pip with no index and no build isolation
    (setuptools and wheel from this environment: the dev extra). The build runs in a copy, so
    the release gets no build/ or egg-info."""
    with tempfile.TemporaryDirectory(prefix="grade-wheel-") as tmp:
        src = Path(tmp) / "src"
        src.mkdir()
        shutil.copytree(tree / "grader", src / "grader", ignore=_ignore)
        for name in ("pyproject.toml", "README.md"):
            shutil.copy2(tree / name, src / name)
        dist = Path(tmp) / "dist"
        res = subprocess.run(
            [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-q",
             "-w", str(dist), str(src)],
            capture_output=True, text=True, timeout=600,
        )
        wheels = sorted(dist.glob("*.whl")) if res.returncode == 0 else []
        if len(wheels) != 1:
            raise UsageError("Could not build dl-grade's wheel for the notebooks (it needs setuptools and wheel in "
                             "this environment: pip install -e '.[dev]'): " + (res.stderr or res.stdout)[-600:].strip())
        into.mkdir(parents=True, exist_ok=True)
        target = into / wheels[0].name
        shutil.copy2(wheels[0], target)
    return target


def make_release(out: Path, *, graded_quizzes: bool = False, root: Path | None = None,
                 force: bool = False, allow_dirty: bool = False, notebooks: bool = False,
                 wheel: bool = True, wheel_url: str | None = None) -> dict[str, object]:
    """Write the student workspace to ``out``. ``wheel``: also build dl-grade's wheel into
    ``out/exercises/`` (next to the notebooks, whose first cell installs it: from that file,
    else from ``wheel_url``)."""
    from grader.grading.runner import PACKAGE_ROOT

    root = (root or PACKAGE_ROOT).resolve()
    if not (root / "solutions").is_dir() or not (root / "grader" / "suites").is_dir():
        raise UsageError("grade release runs in the authoring repository (it needs solutions/ and grader/suites/).")
    out = out.resolve()
    if out == root or root in out.parents and out.parts[len(root.parts)] in {"grader", "exercises", "solutions"}:
        raise UsageError(f"{out} is inside the repository's own folders; choose another output folder.")
    if out.exists() and any(out.iterdir()):
        if not force:
            raise UsageError(f"{out} exists and is not empty. Choose a new folder (or pass --force to replace it).")
    pristine = pristine_stubs(root)
    dirty = dirty_exercises(root) if pristine is not None else []
    if dirty and not allow_dirty:
        shown = ", ".join(dirty[:8]) + (f" and {len(dirty) - 8} more" if len(dirty) > 8 else "")
        raise UsageError(f"exercises/ differs from the committed stubs (git HEAD): {shown}. A release ships the "
                         "committed stubs; commit or restore these (git restore exercises/ && git clean exercises/), "
                         "or pass --allow-dirty to release the committed stubs anyway.")
    if out.exists() and any(out.iterdir()):
        shutil.rmtree(out)
    counts = hidden_counts(root)
    out.mkdir(parents=True, exist_ok=True)
    if pristine is not None:
        for name, data in pristine[1].items():
            target = out / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        (out / "exercises").mkdir(exist_ok=True)
        stubs_from = f"git HEAD {pristine[0]}"
    else:
        shutil.copytree(root / "exercises", out / "exercises", ignore=_ignore)
        stubs_from = "working tree (not a git checkout)"
    wheel_file = wheel_name(root) if wheel else None
    if wheel_url is not None and not re.fullmatch(r"(https?|file)://\S+", wheel_url):
        raise UsageError(f"--wheel-url {wheel_url!r} is not an http(s):// (or file://) address of the wheel.")
    written_notebooks = _release_notebooks(out / "exercises", wheel_file, wheel_url) if notebooks else []
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
    built = None
    if wheel_file is not None:
        built = build_wheel(out, out / "exercises")
        if built.name != wheel_file:
            raise InternalError(f"the wheel was built as {built.name}, the notebooks install {wheel_file}")
    from grader.util.version import VERSION

    manifest: dict[str, object] = {
        "format_version": 1,
        "grader_version": VERSION,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "graded_quizzes": graded_quizzes,
        "stubs_from": stubs_from,
        "left_out": dirty,
        "chapters": sorted(p.name for p in (out / "exercises").glob("chapter*")),
        "quizzes": quizzes,
        "notebooks": written_notebooks,
        "wheel": f"exercises/{built.name}" if built is not None else None,
        "wheel_url": wheel_url,
        "hidden": {k: {"tests": int(v["tests"]), "points": float(v["points"])} for k, v in sorted(counts.items())},
    }
    (out / "release.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    problems = audit_release(out, root, graded_quizzes=graded_quizzes,
                             pristine=pristine[1] if pristine is not None else None)
    if problems:
        raise InternalError("The release contains secret material:\n" + "\n".join(problems))
    return manifest


def _release_notebooks(exercises: Path, wheel: str | None = None, url: str | None = None) -> list[str]:
    """``exercises/chapterN.ipynb`` generated from the stubs just written (chapters 2-8).
    Each notebook gets its stubs' modification time: neither is "changed last", so a
    fresh workspace grades the .py files, and the notebook as soon as the student saves it."""
    from grader.grading.catalog import load_catalog
    from grader.notebook.build import install_cell, write_notebooks

    install = install_cell(wheel, url) if wheel else None
    written = []
    for path in write_notebooks(exercises, list(load_catalog().chapters.values()), install):
        stubs = [p.stat().st_mtime for p in (exercises / path.stem).glob("*.py")]
        if stubs:
            os.utime(path, (max(stubs), max(stubs)))
        written.append(path.name)
    return written


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


def _bodies(text: str) -> dict[str, str] | None:
    """Every function and method of a module: qualified name -> its body (AST, docstring
    dropped; comments such as ``# TODO`` are not in the AST). None if it does not parse."""
    import ast

    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return None
    out: dict[str, str] = {}

    def walk(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                body = child.body
                if body and isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None), ast.Constant) \
                        and isinstance(body[0].value.value, str):
                    body = body[1:]
                out[prefix + child.name] = "\n".join(ast.dump(b) for b in body)
                walk(child, prefix + child.name + ".")
            elif isinstance(child, ast.ClassDef):
                walk(child, prefix + child.name + ".")
    walk(tree, "")
    return out


def _stub_shaped(body: str) -> bool:
    """A body that is only ``raise NotImplementedError`` (and ``pass``/``...``)."""
    import ast

    allowed = {ast.dump(ast.parse(s).body[0]) for s in ("raise NotImplementedError", "raise NotImplementedError()",
                                                         "pass", "...")}
    return all(line in allowed for line in body.splitlines() if line) and "NotImplementedError" in body


def audit_stubs(out: Path, root: Path, pristine: dict[str, bytes] | None) -> list[str]:
    """Every shipped exercise body checked against the pristine stub: a body that is more
    than the stub's (its TODO and ``raise NotImplementedError``) is a leak. Without git
    (no pristine stubs), a body that is not stub-shaped and equals the reference solution's
    is one."""
    problems = []
    exercise_names: dict[str, set[str]] = {}
    if pristine is None:
        from grader.grading.catalog import load_catalog

        for e in load_catalog().exercises.values():
            exercise_names.setdefault(e.id.split(".")[0], set()).add(e.name)
    for path in sorted((out / "exercises").rglob("*.py")) if (out / "exercises").is_dir() else []:
        rel = path.relative_to(out).as_posix()
        shipped = _bodies(path.read_text(encoding="utf-8", errors="replace"))
        if pristine is not None:
            if rel not in pristine:
                problems.append(f"{rel}: not a committed stub")
                continue
            reference = _bodies(pristine[rel].decode("utf-8", "replace"))
            if shipped is None or reference is None:
                if path.read_bytes() != pristine[rel]:
                    problems.append(f"{rel}: differs from the committed stub")
                continue
            for name, body in sorted(shipped.items()):
                if name not in reference:
                    problems.append(f"{rel}: {name} is not in the committed stub")
                elif body != reference[name]:
                    problems.append(f"{rel}: {name} has a body beyond the stub's TODO and raise NotImplementedError")
        else:
            # No pristine stubs: the exercise functions themselves (the catalog's names) must
            # not be the reference solution's bodies. A class's methods cannot be told apart
            # from the ones a stub hands out without the pristine stub: not checked here.
            solution = root / "solutions" / path.relative_to(out / "exercises")
            solved = _bodies(solution.read_text(encoding="utf-8")) if solution.is_file() else None
            names = exercise_names.get(path.parent.name, set())
            for name, body in sorted((shipped or {}).items()):
                head, _, method = name.partition(".")
                is_exercise = head in names and not method
                if is_exercise and solved and solved.get(name) == body and not _stub_shaped(body):
                    problems.append(f"{rel}: {name} is the reference solution's body")
    return problems


def audit_release(out: Path, root: Path, graded_quizzes: bool = False,
                  pristine: dict[str, bytes] | None | bool = True) -> list[str]:
    """Everything secret found in the release tree (empty when clean). ``pristine``: the
    committed stubs to check exercise bodies against (True: read them from git HEAD)."""
    import re

    markers = secret_markers(root)
    if pristine is True:
        found = pristine_stubs(root)
        pristine = found[1] if found is not None else None
    problems = audit_stubs(out, root, pristine if isinstance(pristine, dict) else None)
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
