"""Gradescope: ``grade gradescope-autograder OUT.zip`` builds the autograder zip, and
``python -m grader.instructor.gradescope`` is what its ``run_autograder`` runs.

The zip (Gradescope's autograder format) holds at its root ``setup.sh`` (run once when
Gradescope builds the image: installs Python, bubblewrap and dl-grade's dependencies into
``/autograder/venv``; the only downloads), ``run_autograder`` (run per submission),
``autograder.json`` (which chapters and quizzes) and ``dl-grade/``: the grader package
with every suite (hidden ones too), the keyed quiz banks, ``pyproject.toml``. Never
``solutions/``, ``tests/``, ``exercises/`` or ``.git`` (checked before the zip is written).

``run_autograder`` grades ``/autograder/submission`` (the folder of a ``grade submit`` zip,
or that zip) through the normal collection path (``collect``: the submission is read
with its checks, every suite runs in pytest against a sandboxed worker, quizzes are
re-scored from the keyed banks) into a throw-away gradebook, and writes
``/autograder/results/results.json`` with ``export.gradescope_results``: every test and
every configured quiz, with the same maxima for every student (an untaken quiz is 0 of
its maximum). Student code is never imported here. Paths come from the environment, so a
test can point ``/autograder`` at a temporary folder: ``GRADE_AUTOGRADER_ROOT`` (default
``/autograder``), ``GRADE_AUTOGRADER_SOURCE`` (default ``$ROOT/source``) and
``GRADE_AUTOGRADER_PYTHON`` (default ``$ROOT/venv/bin/python``).
"""

from __future__ import annotations

import argparse
import json
import stat
import sys
import tempfile
import time
import zipfile
from pathlib import Path, PurePosixPath
from typing import Any

from grader.errors import UsageError

PACKAGE_DIR = "dl-grade"
CONFIG = "autograder.json"
FORBIDDEN_PARTS = {"solutions", "tests", "exercises", ".git"}
SKIP_NAMES = {"__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache"}

SETUP_SH = """#!/usr/bin/env bash
# dl-grade autograder: run once by Gradescope when it builds the image (Ubuntu).
# The only downloads: Ubuntu's python3 and bubblewrap, and dl-grade's Python dependencies.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q python3 python3-venv python3-pip bubblewrap
python3 -m venv /autograder/venv
/autograder/venv/bin/pip install -q --upgrade pip
/autograder/venv/bin/pip install -q "/autograder/source/dl-grade{extras}"
"""

RUN_AUTOGRADER = """#!/usr/bin/env bash
# dl-grade autograder: run by Gradescope for each submission. Grades $ROOT/submission with
# every suite (hidden ones too) in dl-grade's sandboxed worker and writes
# $ROOT/results/results.json. Nothing is downloaded here.
# A local run: GRADE_AUTOGRADER_ROOT=/tmp/ag GRADE_AUTOGRADER_PYTHON=.venv/bin/python ./run_autograder
set -u
ROOT="${GRADE_AUTOGRADER_ROOT:-/autograder}"
SOURCE="${GRADE_AUTOGRADER_SOURCE:-$ROOT/source}"
PYTHON="${GRADE_AUTOGRADER_PYTHON:-$ROOT/venv/bin/python}"
export PYTHONPATH="$SOURCE/dl-grade"
export PYTHONDONTWRITEBYTECODE=1
cd "$SOURCE/dl-grade" || exit 1
exec "$PYTHON" -m grader.instructor.gradescope --root "$ROOT" --config "$SOURCE/autograder.json"
"""

PACKAGE_README = """# dl-grade (autograder copy)

The grader of the deep-learning exercises, packed by `grade gradescope-autograder` for
Gradescope. Instructor material: the hidden suites and the quiz keys are in here.
"""


def _files(root: Path, chapters: list[str], quizzes: list[str]) -> dict[str, Path]:
    """zip name -> file: the grader package with the chosen chapters' suites (hidden ones
    too; no other chapter's), the chosen keyed banks, pyproject."""
    out: dict[str, Path] = {}
    for path in sorted((root / "grader").rglob("*")):
        rel = path.relative_to(root)
        if path.is_dir() or path.is_symlink() or any(p in SKIP_NAMES or p.endswith(".egg-info") for p in rel.parts):
            continue
        if rel.parts[:2] == ("grader", "suites") and len(rel.parts) > 3 and rel.parts[2] not in chapters:
            continue
        if path.suffix in (".pyc", ".pyo"):
            continue
        out[f"{PACKAGE_DIR}/{rel.as_posix()}"] = path
    for chapter in quizzes:
        for ext in ("toml", "json"):
            bank = root / "quizzes" / f"{chapter}.{ext}"
            if bank.is_file():
                out[f"{PACKAGE_DIR}/quizzes/{bank.name}"] = bank
                break
    out[f"{PACKAGE_DIR}/pyproject.toml"] = root / "pyproject.toml"
    return out


def forbidden(names: list[str]) -> list[str]:
    """Zip entries that must never be in an autograder zip (solutions, tests, .git, stubs)."""
    bad = []
    for name in names:
        parts = PurePosixPath(name).parts
        if any(p in FORBIDDEN_PARTS or p.startswith(".git") for p in parts):
            bad.append(name)
    return bad


def build_autograder(out: Path, chapters: list[str] | None = None, root: Path | None = None,
                     allow_weak_isolation: bool = False) -> dict[str, Any]:
    """Write the Gradescope autograder zip; returns its configuration (autograder.json).
    Like ``grade collect``, the autograder refuses to grade where no sandbox can be made
    unless ``allow_weak_isolation``."""
    import grader
    from grader.catalog import load_catalog
    from grader.runner import PACKAGE_ROOT, suite_files

    root = Path(root or PACKAGE_ROOT).resolve()
    if not (root / "grader" / "suites").is_dir() or not (root / "pyproject.toml").is_file():
        raise UsageError("grade gradescope-autograder runs in the authoring repository (it packs grader/suites "
                         "with the hidden tests, and pyproject.toml).")
    catalog = load_catalog()
    wanted = [catalog.chapter(c).id for c in chapters] if chapters else None
    graded = [c.id for c in catalog.chapters.values() if suite_files(c) and (wanted is None or c.id in wanted)]
    if not graded:
        raise UsageError("No chapter with test suites chosen: nothing to grade.")
    quizzes = [c for c in (wanted or [c.id for c in catalog.chapters.values()])
               if any((root / "quizzes" / f"{c}.{ext}").is_file() for ext in ("toml", "json"))]
    needs = sorted({n for c in graded for n in catalog.chapter(c).needs})
    config = {"format_version": 1, "grader_version": grader.__version__, "chapters": graded, "quizzes": quizzes,
              "needs": needs, "allow_weak_isolation": bool(allow_weak_isolation)}
    out = Path(out)
    if out.suffix.lower() != ".zip":
        raise UsageError(f"{out}: the autograder is a .zip file (Gradescope asks for one).")
    files = _files(root, graded, quizzes)
    texts = {
        "setup.sh": SETUP_SH.format(extras="[keras]" if needs else ""),
        "run_autograder": RUN_AUTOGRADER,
        CONFIG: json.dumps(config, indent=2) + "\n",
        f"{PACKAGE_DIR}/README.md": PACKAGE_README,
    }
    bad = forbidden([*files, *texts])
    if bad:  # a guard against a change above, never expected
        raise UsageError(f"Refusing to write {out}: it would contain {', '.join(bad[:5])}.")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".part")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, text in texts.items():
            info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
            executable = name in ("setup.sh", "run_autograder")
            info.external_attr = ((0o755 if executable else 0o644) | stat.S_IFREG) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, text)
        for name, path in files.items():
            zf.write(path, name)
    tmp.replace(out)
    return config


# -- run_autograder ------------------------------------------------------------------------


def _find_submission(folder: Path) -> Path:
    """What Gradescope put in /autograder/submission: the unpacked ``grade submit`` zip
    (``exercises/`` at the top or one folder down), or that zip itself."""
    from grader.instructor.submission import BadSubmission

    if (folder / "exercises").is_dir():
        return folder
    zips = sorted(p for p in folder.glob("*.zip") if p.is_file()) if folder.is_dir() else []
    if len(zips) == 1:
        return zips[0]
    inner = sorted(p for p in folder.iterdir() if p.is_dir() and (p / "exercises").is_dir()) if folder.is_dir() else []
    if len(inner) == 1:
        return inner[0]
    raise BadSubmission("no exercises/ folder in the submission: upload the zip made by 'grade submit'")


def _failure(message: str) -> dict[str, Any]:
    return {"score": 0.0, "execution_time": 0.0, "output": message, "stdout_visibility": "hidden", "tests": []}


def grade_submission(root: Path, config: dict[str, Any]) -> dict[str, Any]:
    """Grade ``root/submission`` as configured; the results.json data. A submission that
    cannot be read is graded as an empty one (every test listed, 0 of its maximum) with the
    reason first in the output, so the maxima never depend on the submission."""
    from grader.boundary import sandbox as sandboxes
    from grader.instructor.collect import _scorer, collect
    from grader.instructor.export import gradescope_results, universe
    from grader.instructor.gradebook import Gradebook
    from grader.instructor.submission import BadSubmission, clean_text

    chapters = [str(c) for c in config.get("chapters", [])] or None
    maxima = _scorer(None, None).maxima([str(c) for c in config.get("quizzes", [])])
    isolation = sandboxes.strength("auto")
    if isolation == "weak" and not config.get("allow_weak_isolation"):
        return _failure("Not graded: no sandbox can be made on this machine (bubblewrap is not usable and the kernel "
                        "gives no user or mount namespaces), so the code being graded could read the hidden tests. "
                        "Tell your instructor (the autograder can be rebuilt with --allow-weak-isolation).")
    notes: list[str] = []
    with tempfile.TemporaryDirectory(prefix="grade-gradescope-") as tmp:
        try:
            targets = [_find_submission(root / "submission")]
        except BadSubmission as exc:
            notes.append(f"Your submission could not be graded: {exc}.")
            targets = []
        graded = None
        for attempt, target in enumerate(targets + [Path(tmp) / "empty" / "submission"]):
            if attempt == len(targets):
                (target / "exercises").mkdir(parents=True)
            db = Path(tmp) / f"gradebook{attempt}.sqlite"
            summary = collect([target], db, workers=1, chapters=chapters)
            gb = Gradebook(db)
            rows = gb.submissions("graded")
            if rows:
                graded = (gb, rows[0], summary)
                break
            gb.close()
            why = summary.rejected[0][1] if summary.rejected else (summary.failed[0][1] if summary.failed else "")
            notes.append(f"Your submission could not be graded: {clean_text(why, 500)}.")
        if graded is None:
            return _failure("\n".join(notes))
        gb, row, summary = graded
        with gb:
            data = gradescope_results(gb, row, universe(gb, quiz_maxima=maxima))
        notes += json.loads(row["problems"])
    notes += [n for n in summary.notes if not n.startswith("no quiz bank")]
    if isolation == "weak":
        notes.append("isolation: weak (no sandbox could be made on this machine)")
    first = [n for n in notes if n.startswith("Your submission could not")]
    rest = [n for n in notes if n not in first]
    data["output"] = "\n".join([*first, data["output"], *(clean_text(n, 500) for n in rest)]).strip()
    return data


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="run_autograder", description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=Path("/autograder"))
    parser.add_argument("--config", type=Path, required=True)
    args = parser.parse_args(argv)
    started = time.monotonic()
    import grader
    from grader.runner import PACKAGE_ROOT

    print(f"dl-grade {grader.__version__} from {PACKAGE_ROOT}", flush=True)  # the log (not shown to students)
    results = args.root / "results" / "results.json"
    results.parent.mkdir(parents=True, exist_ok=True)
    code = 0
    try:
        config = json.loads(args.config.read_text(encoding="utf-8"))
        data = grade_submission(args.root, config)
    except Exception as exc:  # noqa: BLE001 - Gradescope must get a results.json whatever happens
        from grader.instructor.submission import clean_text

        data = _failure(f"The autograder failed ({type(exc).__name__}: {clean_text(exc, 500)}). "
                        "Tell your instructor; your submission is kept.")
        code = 1
    data["execution_time"] = round(time.monotonic() - started, 3)
    results.write_text(json.dumps(data, indent=2, ensure_ascii=False), encoding="utf-8")
    print(data["output"])
    return code


if __name__ == "__main__":
    sys.exit(main())
