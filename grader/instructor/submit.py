"""``grade submit``: pack a student's work into one zip for the instructor.

The zip holds the sources of ``exercises/`` that collection grades (``chapterN/*.py`` and
``chapterN.ipynb``; nothing else kept there leaves the student's machine),
``.grade/quiz_responses.json`` when there is one, and ``manifest.json``: student id, time,
grader version and the sha256 of every file. Collection trusts none of it (it re-hashes and re-scores), but the manifest lets a
student and an instructor agree on exactly what was handed in.
"""

from __future__ import annotations

import hashlib
import json
import re
import zipfile
from datetime import datetime, timezone
from pathlib import Path

from grader.instructor.submission import _wanted as graded_path
from grader.util.errors import UsageError

RESPONSES = Path(".grade") / "quiz_responses.json"
SKIP_DIRS = {"__pycache__", ".ipynb_checkpoints", ".pytest_cache"}
MAX_FILE_BYTES = 1_000_000
_STUDENT_RE = re.compile(r"[A-Za-z0-9_.@+-]{1,64}")


def submission_files(workspace: Path) -> list[tuple[str, Path]]:
    exercises = workspace / "exercises"
    if not exercises.is_dir():
        raise UsageError(f"No exercises/ folder in {workspace}. Run grade submit from your course workspace.")
    files: list[tuple[str, Path]] = []
    for path in sorted(exercises.rglob("*")):
        rel = path.relative_to(workspace)
        if any(part in SKIP_DIRS or part.startswith(".") for part in rel.parts) or path.suffix == ".pyc":
            continue
        if path.is_symlink() or not path.is_file():
            continue
        if not graded_path(rel.as_posix()):
            # only what collection reads (chapterN/*.py, chapterN.ipynb): a kaggle.json, data
            # or notes kept beside the exercises stay on the student's machine
            continue
        if path.suffix == ".ipynb":
            from grader.notebook.sources import MAX_NOTEBOOK_BYTES

            if path.stat().st_size > MAX_NOTEBOOK_BYTES:
                raise UsageError(f"{rel} is larger than {MAX_NOTEBOOK_BYTES // 1_000_000} MB; clear its outputs "
                                 "(Kernel > Restart & Clear Output), save, and submit again.")
        elif path.stat().st_size > MAX_FILE_BYTES:
            raise UsageError(f"{rel} is larger than {MAX_FILE_BYTES // 1000} KB; remove data files from exercises/.")
        files.append((rel.as_posix(), path))
    responses = workspace / RESPONSES
    if responses.is_file() and not responses.is_symlink():
        files.append((RESPONSES.as_posix(), responses))
    return files


def make_submission(workspace: Path, student: str, out: Path | None = None) -> tuple[Path, dict[str, object]]:
    from grader.util.version import VERSION

    if not _STUDENT_RE.fullmatch(student):
        raise UsageError("A student id is 1-64 letters, digits or . _ @ + - (no spaces), e.g. --student s1234567.")
    files = submission_files(workspace)
    manifest: dict[str, object] = {
        "format_version": 1,
        "student": student,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "grader_version": VERSION,
        "files": {rel: hashlib.sha256(path.read_bytes()).hexdigest() for rel, path in files},
    }
    out = out or workspace / f"submission-{student}.zip"
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")
    with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for rel, path in files:
            zf.write(path, rel)
        zf.writestr("manifest.json", json.dumps(manifest, indent=2, ensure_ascii=False))
    partial.replace(out)
    return out, manifest
