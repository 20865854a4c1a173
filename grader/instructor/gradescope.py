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
import os
import stat
import sys
import tempfile
import time
import zipfile
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from grader.instructor.gradescope_metadata import METADATA, lateness, origin_for, read_metadata
from grader.util.errors import UsageError
from grader.util.textclean import clean_line

if TYPE_CHECKING:
    from grader.instructor.submission import Origin

PACKAGE_DIR = "dl-grade"
CONFIG = "autograder.json"
FORBIDDEN_PARTS = {"solutions", "tests", "exercises", ".git"}
SKIP_NAMES = {"__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache"}

SETUP_SH = """#!/usr/bin/env bash
# dl-grade autograder: run once by Gradescope when it builds the image (Ubuntu).
# The only downloads: Ubuntu's Python and bubblewrap, and dl-grade's Python dependencies.
# dl-grade needs Python 3.10 to 3.13: Ubuntu 22.04's python3 is 3.10; an older image's is
# replaced by Ubuntu's python3.12/3.11/3.10/3.13 package, else the deadsnakes PPA's python3.11.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
SOURCE="${{GRADE_AUTOGRADER_SOURCE:-/autograder/source}}"
VENV="${{GRADE_AUTOGRADER_VENV:-/autograder/venv}}"
apt-get update -q
apt-get install -y -q python3 python3-venv python3-pip bubblewrap
supported() {{ "$1" -c 'import sys; sys.exit(not (3, 10) <= sys.version_info[:2] < (3, 14))' 2>/dev/null; }}
PY=""
if supported python3; then
  PY=python3
else
  for v in 3.12 3.11 3.10 3.13; do
    if apt-get install -y -q "python$v" "python$v-venv" >/dev/null 2>&1 && supported "python$v"; then
      PY="python$v"; break
    fi
  done
fi
if [ -z "$PY" ]; then
  apt-get install -y -q software-properties-common
  add-apt-repository -y ppa:deadsnakes/ppa
  apt-get update -q
  apt-get install -y -q python3.11 python3.11-venv
  PY=python3.11
fi
supported "$PY" || {{ echo "setup.sh: no Python 3.10-3.13 could be installed" >&2; exit 1; }}
"$PY" -m venv "$VENV"
"$VENV/bin/python" -m pip install -q --upgrade pip
"$VENV/bin/python" -m pip install -q "$SOURCE/dl-grade{extras}"
"""

RUN_AUTOGRADER = """#!/usr/bin/env bash
# dl-grade autograder: run by Gradescope for each submission. Grades $ROOT/submission with
# every suite (hidden ones too) in dl-grade's sandboxed worker and writes
# $ROOT/results/results.json. Nothing is downloaded here. When grading cannot happen (no
# Python, no sandbox, a crash) results.json says why and the exit status is not 0, so
# Gradescope shows an autograder failure rather than a score of 0.
# A local run: GRADE_AUTOGRADER_ROOT=/tmp/ag GRADE_AUTOGRADER_PYTHON=.venv/bin/python ./run_autograder
set -u
ROOT="${GRADE_AUTOGRADER_ROOT:-/autograder}"
SOURCE="${GRADE_AUTOGRADER_SOURCE:-$ROOT/source}"
PYTHON="${GRADE_AUTOGRADER_PYTHON:-$ROOT/venv/bin/python}"
RESULTS="$ROOT/results/results.json"
failed() {
  # $1: why, a fixed sentence (no quotes or backslashes: it is written into JSON as it is)
  mkdir -p "$ROOT/results"
  printf '{"score": 0, "execution_time": 0, "output": "The autograder could not grade this submission: %s Tell your instructor; your submission is kept.", "output_format": "text", "stdout_visibility": "hidden", "tests": [], "extra_data": {"autograder_failure": "%s"}}\\n' "$1" "$1" >"$RESULTS"
  echo "run_autograder: $1" >&2
  exit 1
}
[ -x "$PYTHON" ] || failed "no Python at the autograder's venv (setup.sh did not finish)."
"$PYTHON" -c 'import sys; sys.exit(not (3, 10) <= sys.version_info[:2] < (3, 14))' \\
  || failed "the autograder's Python is not 3.10 to 3.13 (rebuild the autograder image)."
export PYTHONPATH="$SOURCE/dl-grade"
export PYTHONDONTWRITEBYTECODE=1
cd "$SOURCE/dl-grade" || failed "the autograder's files are missing (source/dl-grade)."
rm -f "$RESULTS"
"$PYTHON" -m grader.instructor.gradescope --root "$ROOT" --config "$SOURCE/autograder.json"
code=$?
[ -s "$RESULTS" ] || failed "the grader stopped before writing its results (exit status $code)."
exit $code
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
    from grader.grading.catalog import load_catalog
    from grader.grading.runner import PACKAGE_ROOT, suite_files
    from grader.util.version import VERSION

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
    config = {"format_version": 1, "grader_version": VERSION, "chapters": graded, "quizzes": quizzes,
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

MAX_LOOSE_FILES = 200  # files looked at in an upload without exercises/


def collect_inputs(paths: list[Path]) -> tuple[list[Path], dict[Path, Origin]]:
    """``grade collect --gradescope``: each path (or folder in it) laid out as Gradescope gives its
    autograder (``DIR/submission_metadata.json`` beside ``DIR/submission/``) is one submission,
    who and when (time, due date with the Gradescope extension, late or not) from the metadata,
    else from DIR's name and modification time."""
    from grader.instructor.submission import origin_of

    def layout(d: Path) -> bool:
        return d.is_dir() and not d.is_symlink() and (d / "submission").is_dir() and (d / METADATA).is_file()

    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if layout(path):
            found.append(path)
        elif path.is_dir():
            found.extend(sorted(p for p in path.iterdir() if layout(p)))
    if not found:
        raise UsageError("--gradescope: no folder holds submission_metadata.json beside a submission/ folder "
                         "(the layout Gradescope gives its autograder).")
    targets: list[Path] = []
    origins: dict[Path, Origin] = {}
    for position, d in enumerate(found):
        target = _find_submission(d / "submission") or d / "submission"
        origin = origin_for(read_metadata(d))
        if origin is None:
            origin = origin_of(d, position)
        targets.append(target)
        origins[target] = origin
    return targets, origins


def _find_submission(folder: Path) -> Path | None:
    """What Gradescope put in /autograder/submission: the unpacked ``grade submit`` zip
    (``exercises/`` at the top or one folder down), or that zip itself; None when it is
    neither (loose files, see ``stage_loose``)."""
    if (folder / "exercises").is_dir():
        return folder
    zips = sorted(p for p in folder.glob("*.zip") if p.is_file()) if folder.is_dir() else []
    if len(zips) == 1:
        return zips[0]
    inner = sorted(p for p in folder.iterdir() if p.is_dir() and (p / "exercises").is_dir()) if folder.is_dir() else []
    if len(inner) == 1:
        return inner[0]
    return None


def _loose_files(folder: Path) -> list[PurePosixPath]:
    """The upload's files (relative), without following links, bounded in number."""
    found: list[PurePosixPath] = []
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and d != "__MACOSX")
        for name in sorted(filenames):
            path = Path(dirpath) / name
            if path.is_symlink() or not path.is_file():
                continue
            found.append(PurePosixPath(path.relative_to(folder).as_posix()))
            if len(found) >= MAX_LOOSE_FILES:
                return found
    return found


def stage_loose(folder: Path, dest: Path, chapters: list[str]) -> tuple[Path | None, list[str]]:
    """An upload of loose files (``perceptron.py``, several modules, ``chapter3.ipynb``):
    each module is copied to ``dest/exercises/<chapter>/`` of the chapter whose catalog has
    a module of that name. A name two chapters share (``two_layer_net.py``) goes where a
    folder name (``chapter5/``) or the upload's other modules point, else nowhere, with a
    note. Returns (the staged folder or None, notes for the student)."""
    from grader.grading.catalog import load_catalog
    from grader.instructor.submission import MAX_FILE_BYTES
    from grader.notebook.sources import MAX_NOTEBOOK_BYTES

    catalog = load_catalog()
    modules = {c: catalog.chapter(c).modules for c in chapters}
    files = _loose_files(folder) if folder.is_dir() else []
    wanted: dict[PurePosixPath, list[str]] = {}
    notebooks: dict[str, PurePosixPath] = {}
    notes: list[str] = []
    for rel in files:
        if rel.suffix == ".ipynb" and rel.stem in chapters:
            notebooks.setdefault(rel.stem, rel)
        elif rel.suffix == ".py" and rel.stem.isidentifier():
            wanted[rel] = [c for c in chapters if rel.stem in modules[c]]
    sure = {cands[0] for cands in wanted.values() if len(cands) == 1}
    placed: dict[str, PurePosixPath] = {}  # "chapter2/perceptron.py" -> upload path
    for rel, cands in wanted.items():
        shown = clean_line(rel.as_posix(), 120)
        if not cands:
            listing = "; ".join(f"{c}: {', '.join(m + '.py' for m in modules[c])}" for c in chapters)
            notes.append(f"note: {shown} is not graded: no module of that name here ({listing}).")
            continue
        named = [c for c in cands if c in rel.parts[:-1]]
        pointed = [c for c in cands if c in sure]
        choice = named or (cands if len(cands) == 1 else pointed)
        if len(choice) != 1:
            notes.append(f"note: {shown} is not graded: {rel.stem}.py is a module of {' and '.join(cands)}, and "
                         f"nothing in the upload says which; upload it as exercises/{cands[-1]}/{rel.name} "
                         "(or the zip made by 'grade submit').")
            continue
        key = f"{choice[0]}/{rel.name}"
        if key in placed:
            notes.append(f"note: {shown} is not graded: {clean_line(placed[key].as_posix(), 120)} is graded as "
                         f"{choice[0]}'s {rel.name}.")
            continue
        placed[key] = rel
    if not placed and not notebooks:
        return None, notes
    root = dest / "submission"
    copies = [(rel, f"exercises/{key}", MAX_FILE_BYTES) for key, rel in sorted(placed.items())]
    copies += [(rel, f"exercises/{c}.ipynb", MAX_NOTEBOOK_BYTES) for c, rel in sorted(notebooks.items())]
    for rel, to, cap in copies:
        target = root / to
        target.parent.mkdir(parents=True, exist_ok=True)
        flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
        with os.fdopen(os.open(folder / rel.as_posix(), flags), "rb") as f:
            target.write_bytes(f.read(cap + 1))  # a larger file is refused when it is read
        notes.append(f"note: {clean_line(rel.as_posix(), 120)} graded as {to}")
    return root, notes


def _failure(message: str) -> dict[str, Any]:
    """results.json for a submission that could not be graded at all: says why, and marks
    it (``extra_data.autograder_failure``) so run_autograder exits non-zero."""
    return {"score": 0.0, "execution_time": 0.0, "output": message, "output_format": "text",
            "stdout_visibility": "hidden", "tests": [], "extra_data": {"autograder_failure": message}}


def memory_problem(chapters: list[str]) -> tuple[str | None, str | None]:
    """(why grading cannot happen here, a note on the cap) from the container's memory limit:
    a chapter with heavy needs (TensorFlow) whose worker cap does not fit is an autograder
    failure, not a 0 for every student; lighter chapters run with the cap lowered."""
    from grader.boundary.container import RESERVE_MB, container_limit_mb, fit_memory_mb
    from grader.grading.catalog import load_catalog

    limit = container_limit_mb()
    if limit is None:
        return None, None
    catalog = load_catalog()
    notes = []
    for c in chapters:
        chapter = catalog.chapter(c)
        fitted = fit_memory_mb(chapter.memory_mb, limit)
        if chapter.memory_mb and fitted is not None and fitted < chapter.memory_mb:
            if chapter.needs:
                return (f"{c} needs {chapter.memory_mb} MB for the code being graded, and this autograder "
                        f"has {limit} MB: the instructor must give the autograder at least "
                        f"{chapter.memory_mb + RESERVE_MB} MB of memory in Gradescope's settings."), None
            notes.append(f"{c}: {fitted} MB")
    if notes:
        return None, f"memory cap lowered to fit this autograder's {limit} MB ({', '.join(notes)})"
    return None, None


def _add_absent_chapters_tests(gb: Any, row: Any, tmp: Path, chapters: list[str] | None) -> None:
    """A chapter the submission holds no file of is recorded as not submitted, with no tests
    run; Gradescope must still list every test with its maximum (the same for every upload).
    Those chapters' tests are found by grading empty modules of them as a submission of no
    one, whose tests join the gradebook's universe but never the student's score."""
    from grader.grading.catalog import load_catalog
    from grader.instructor.collect import collect

    absent = [c for c, r in gb.chapter_scores().get(row["hash"], {}).items() if r["status"] == "not_submitted"]
    if not absent:
        return
    catalog = load_catalog()
    sub = tmp / "submission"
    for chapter in absent:
        folder = sub / "exercises" / chapter
        folder.mkdir(parents=True)
        for module in catalog.chapter(chapter).modules:
            (folder / f"{module}.py").write_text("# not submitted: lists this chapter's tests\n", encoding="utf-8")
    collect([sub], gb.path, workers=1, chapters=absent)


def grade_submission(root: Path, config: dict[str, Any]) -> dict[str, Any]:
    """Grade ``root/submission`` as configured; the results.json data. Who and when come
    from Gradescope's ``submission_metadata.json`` (lateness in ``extra_data`` and the
    output). A submission that cannot be read is graded as an empty one (every test listed,
    0 of its maximum) with the reason first in the output, so the maxima never depend on the
    submission. Where grading cannot happen at all (no sandbox, too little memory for a
    chapter) the data is a ``_failure``."""
    from grader.boundary import sandbox as sandboxes
    from grader.instructor.collect import _scorer, collect
    from grader.instructor.export import gradescope_results, universe
    from grader.instructor.gradebook import Gradebook

    chapters = [str(c) for c in config.get("chapters", [])] or None
    maxima = _scorer(None, None).maxima([str(c) for c in config.get("quizzes", [])])
    isolation = sandboxes.strength("auto")
    if isolation == "weak" and not config.get("allow_weak_isolation"):
        return _failure("Not graded: no sandbox can be made on this machine (bubblewrap is not usable and the kernel "
                        "gives no user or mount namespaces), so the code being graded could read the hidden tests. "
                        "Tell your instructor (the autograder can be rebuilt with --allow-weak-isolation).")
    too_small, memory_note = memory_problem(chapters or [])
    if too_small:
        return _failure(f"Not graded: {too_small}")
    meta = read_metadata(root)
    origin = origin_for(meta)
    notes: list[str] = []
    with tempfile.TemporaryDirectory(prefix="grade-gradescope-") as tmp:
        found = _find_submission(root / "submission")
        if found is None:
            found, placed = stage_loose(root / "submission", Path(tmp) / "loose", chapters or [])
            notes += placed
            if found is None:
                notes.insert(0, "Your submission could not be graded: no exercises/ folder and no exercise module in "
                             "the submission: upload the zip made by 'grade submit', or your exercise files "
                             "(perceptron.py, ...).")
        targets = [found] if found is not None else []
        graded = None
        for attempt, target in enumerate(targets + [Path(tmp) / "empty" / "submission"]):
            if attempt == len(targets):
                (target / "exercises").mkdir(parents=True)
            db = Path(tmp) / f"gradebook{attempt}.sqlite"
            summary = collect([target], db, workers=1, chapters=chapters,
                              origins={target: origin} if origin else None)
            gb = Gradebook(db)
            rows = gb.submissions("graded")
            if rows:
                graded = (gb, rows[0], summary)
                break
            gb.close()
            why = summary.rejected[0][1] if summary.rejected else (summary.failed[0][1] if summary.failed else "")
            notes.append(f"Your submission could not be graded: {clean_line(why, 500)}.")
        if graded is None:
            return _failure("\n".join(notes))
        gb, row, summary = graded
        with gb:
            _add_absent_chapters_tests(gb, row, Path(tmp) / "all-tests", chapters)
            data = gradescope_results(gb, row, universe(gb, quiz_maxima=maxima))
        notes += json.loads(row["problems"])
    notes += [n for n in summary.notes if not n.startswith("no quiz bank")]
    if memory_note:
        notes.append(memory_note)
    if isolation == "weak":
        notes.append("isolation: weak (no sandbox could be made on this machine)")
    head: list[str] = []
    if meta is not None:
        line, extra = lateness(meta)
        data["extra_data"] = extra
        who = ", ".join(meta.names) or meta.student
        head.append(f"Graded for {clean_line(who, 200)}." + (f" {line}" if line else ""))
    # for the instructor: how the code was isolated (the log, and extra_data, which students do not see)
    print("isolation: " + ", ".join(summary.isolation), flush=True)
    data.setdefault("extra_data", {})["isolation"] = list(summary.isolation)
    first = [n for n in notes if n.startswith("Your submission could not")]
    rest = [n for n in notes if n not in first]
    data["output"] = "\n".join([*head, *first, data["output"], *(clean_line(n, 500) for n in rest)]).strip()
    return data


def main(argv: list[str] | None = None) -> int:
    """run_autograder's Python side: always writes results.json; exits 1 when the
    submission could not be graded at all (no sandbox, too little memory, a crash), so
    Gradescope shows an autograder failure instead of a 0."""
    parser = argparse.ArgumentParser(prog="run_autograder", description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=Path("/autograder"))
    parser.add_argument("--config", type=Path, required=True)
    args = parser.parse_args(argv)
    started = time.monotonic()
    from grader.grading.runner import PACKAGE_ROOT
    from grader.util.version import VERSION

    print(f"dl-grade {VERSION} from {PACKAGE_ROOT}", flush=True)  # the log (not shown to students)
    results = args.root / "results" / "results.json"
    results.parent.mkdir(parents=True, exist_ok=True)
    try:
        config = json.loads(args.config.read_text(encoding="utf-8"))
        data = grade_submission(args.root, config)
    except Exception as exc:  # noqa: BLE001 - Gradescope must get a results.json whatever happens
        data = _failure(f"The autograder failed ({type(exc).__name__}: {clean_line(exc, 500)}). "
                        "Tell your instructor; your submission is kept.")
    code = 1 if (data.get("extra_data") or {}).get("autograder_failure") else 0
    data["execution_time"] = round(time.monotonic() - started, 3)
    results.write_text(json.dumps(data, indent=2, ensure_ascii=False), encoding="utf-8")
    print(data["output"])
    return code


if __name__ == "__main__":
    sys.exit(main())
