"""Reading one submission (a zip from ``grade submit`` or a folder) safely.

Nothing in a submission is trusted: member names are checked before anything is read
(absolute paths, ``..``, links: zip-slip), sizes are counted while decompressing (a zip
bomb stops at the cap whatever its header claims), and only what grading needs is kept
in memory: ``exercises/chapterN/*.py`` and ``.grade/quiz_responses.json``. Each file is
checked for UTF-8 and syntax; such problems are recorded but the submission is still
graded (the other chapters keep their points). A submission that cannot be read at all
raises ``BadSubmission`` with the reason the gradebook records.
"""

from __future__ import annotations

import hashlib
import json
import re
import stat
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

MAX_MEMBERS = 2000  # entries in one zip
MAX_FILE_BYTES = 1_000_000  # one extracted file
MAX_TOTAL_BYTES = 20_000_000  # everything extracted from one submission
MAX_RATIO = 200  # compression ratio above which a big member is a bomb
RESPONSES = ".grade/quiz_responses.json"
MANIFEST = "manifest.json"
_STUDENT_RE = re.compile(r"[A-Za-z0-9_.@+-]{1,64}")
_CHAPTER_RE = re.compile(r"chapter\d+")


class BadSubmission(Exception):
    """The submission cannot be graded; the message is the reason recorded."""


def submission_key(student: str, content_sha256: str) -> str:
    """The gradebook key: the same work from the same student is one submission; two
    students handing in identical files (untouched stubs, say) are two."""
    return hashlib.sha256(f"{student}\0{content_sha256}".encode()).hexdigest()


@dataclass
class Submission:
    hash: str  # submission_key(student, content_sha256)
    student: str
    source: str  # where it was read from
    kind: str  # "zip" | "folder"
    files: dict[str, bytes] = field(default_factory=dict)  # "chapter3/activations.py" -> source
    responses: dict[str, Any] | None = None  # the quiz responses, unscored
    manifest: dict[str, Any] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)  # per-file problems (still graded)
    content_sha256: str = ""  # sha256 of the zip, or of the folder's graded files

    def chapters(self) -> set[str]:
        return {name.split("/", 1)[0] for name in self.files}


def student_from_name(path: Path) -> str:
    stem = path.name[:-4] if path.name.lower().endswith(".zip") else path.name
    stem = stem.removeprefix("submission-")
    clean = re.sub(r"[^A-Za-z0-9_.@+-]", "_", stem)[:64]
    return clean or "unknown"


def read_submission(path: Path) -> Submission:
    path = Path(path)
    if path.is_dir():
        return _read_folder(path)
    if not path.is_file():
        raise BadSubmission(f"{path} does not exist")
    if not zipfile.is_zipfile(path):
        raise BadSubmission("not a zip file (expected the zip made by 'grade submit')")
    return _read_zip(path)


# -- zips ------------------------------------------------------------------------------


def _safe_member(name: str) -> PurePosixPath:
    if "\\" in name or name.startswith("/") or re.match(r"^[A-Za-z]:", name) or "\x00" in name:
        raise BadSubmission(f"unsafe path in zip: {name!r} (absolute or with backslashes; zip-slip)")
    pure = PurePosixPath(name)
    if any(part == ".." for part in pure.parts):
        raise BadSubmission(f"unsafe path in zip: {name!r} (climbs out with '..'; zip-slip)")
    return pure


def _read_zip(path: Path) -> Submission:
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise BadSubmission(f"not a readable zip file ({exc})") from None
    with zf:
        infos = zf.infolist()
        if len(infos) > MAX_MEMBERS:
            raise BadSubmission(f"zip has {len(infos)} entries (more than {MAX_MEMBERS}): refused as a zip bomb")
        for info in infos:
            _safe_member(info.filename)
            mode = info.external_attr >> 16
            if mode and stat.S_ISLNK(mode):
                raise BadSubmission(f"zip contains a symbolic link: {info.filename!r} (refused)")
        names = [i.filename for i in infos if not i.is_dir()]
        prefix = _find_prefix(names)
        if prefix is None:
            raise BadSubmission("missing folder: the zip has no exercises/ folder")
        total = 0
        wanted: dict[str, bytes] = {}
        for info in infos:
            if info.is_dir():
                continue
            rel = info.filename[len(prefix):]
            if not _wanted(rel):
                continue
            if info.compress_size and info.file_size > 1_000_000 and info.file_size / info.compress_size > MAX_RATIO:
                raise BadSubmission(f"{info.filename} expands {info.file_size // info.compress_size}x: refused as a zip bomb")
            data = _read_capped(zf, info, MAX_FILE_BYTES)
            total += len(data)
            if total > MAX_TOTAL_BYTES:
                raise BadSubmission(f"the zip expands beyond {MAX_TOTAL_BYTES // 1_000_000} MB: refused as a zip bomb")
            wanted[rel] = data
        manifest: dict[str, Any] = {}
        manifest_name = prefix + MANIFEST
        if manifest_name in names:
            try:
                loaded = json.loads(_read_capped(zf, zf.getinfo(manifest_name), 1_000_000))
                manifest = loaded if isinstance(loaded, dict) else {}
            except (ValueError, BadSubmission):
                manifest = {}
    sub = Submission(hash="", student=_student(manifest, path), source=str(path), kind="zip", manifest=manifest)
    sub.content_sha256 = digest
    sub.hash = submission_key(sub.student, digest)
    _fill(sub, wanted)
    return sub


def _read_capped(zf: zipfile.ZipFile, info: zipfile.ZipInfo, cap: int) -> bytes:
    try:
        with zf.open(info) as f:
            data = f.read(cap + 1)
    except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError, EOFError) as exc:
        raise BadSubmission(f"{info.filename} could not be read from the zip ({exc})") from None
    except RuntimeError as exc:  # encrypted member
        raise BadSubmission(f"{info.filename} could not be read from the zip ({exc})") from None
    if len(data) > cap:
        raise BadSubmission(f"{info.filename} expands beyond {cap // 1000} KB: refused as a zip bomb")
    return data


def _find_prefix(names: list[str]) -> str | None:
    """'' when exercises/ is at the top, 'alice/' when everything sits in one folder."""
    best: str | None = None
    for name in names:
        parts = name.split("/")
        if "exercises" in parts[:-1]:
            i = parts.index("exercises")
            prefix = "/".join(parts[:i]) + ("/" if i else "")
            if best is None or len(prefix) < len(best):
                best = prefix
    return best


def _wanted(rel: str) -> bool:
    if rel == RESPONSES:
        return True
    parts = rel.split("/")
    return (
        len(parts) == 3 and parts[0] == "exercises" and bool(_CHAPTER_RE.fullmatch(parts[1]))
        and parts[2].endswith(".py") and parts[2][:-3].isidentifier()
    )


# -- folders ---------------------------------------------------------------------------


def _read_folder(path: Path) -> Submission:
    root = path.resolve()
    if not (root / "exercises").is_dir() or (root / "exercises").is_symlink():
        raise BadSubmission("missing folder: no exercises/ folder in the submission")
    wanted: dict[str, bytes] = {}
    total = 0
    for chapter_dir in sorted((root / "exercises").iterdir()):
        if chapter_dir.is_symlink() or not chapter_dir.is_dir() or not _CHAPTER_RE.fullmatch(chapter_dir.name):
            continue
        for f in sorted(chapter_dir.glob("*.py")):
            rel = f"exercises/{chapter_dir.name}/{f.name}"
            if f.is_symlink() or not f.is_file() or not _wanted(rel):
                continue
            if f.stat().st_size > MAX_FILE_BYTES:
                raise BadSubmission(f"{rel} is larger than {MAX_FILE_BYTES // 1000} KB")
            data = f.read_bytes()
            total += len(data)
            if total > MAX_TOTAL_BYTES:
                raise BadSubmission(f"the submission is larger than {MAX_TOTAL_BYTES // 1_000_000} MB")
            wanted[rel] = data
    responses = root / RESPONSES
    if responses.is_file() and not responses.is_symlink() and responses.stat().st_size <= MAX_FILE_BYTES:
        wanted[RESPONSES] = responses.read_bytes()
    manifest: dict[str, Any] = {}
    if (root / MANIFEST).is_file() and (root / MANIFEST).stat().st_size <= MAX_FILE_BYTES:
        try:
            loaded = json.loads((root / MANIFEST).read_bytes())
            manifest = loaded if isinstance(loaded, dict) else {}
        except ValueError:
            manifest = {}
    h = hashlib.sha256()
    for rel in sorted(wanted):
        h.update(rel.encode() + b"\0" + hashlib.sha256(wanted[rel]).digest())
    sub = Submission(hash="", student=_student(manifest, path), source=str(path), kind="folder", manifest=manifest)
    sub.content_sha256 = h.hexdigest()
    sub.hash = submission_key(sub.student, sub.content_sha256)
    _fill(sub, wanted)
    return sub


# -- common ----------------------------------------------------------------------------


def _student(manifest: dict[str, Any], path: Path) -> str:
    claimed = manifest.get("student")
    if isinstance(claimed, str) and _STUDENT_RE.fullmatch(claimed):
        return claimed
    return student_from_name(path)


def _fill(sub: Submission, wanted: dict[str, bytes]) -> None:
    raw = wanted.pop(RESPONSES, None)
    if raw is not None:
        try:
            data = json.loads(raw.decode("utf-8"))
            if not isinstance(data, dict) or not isinstance(data.get("attempts"), list):
                raise ValueError("no attempts list")
            sub.responses = data
        except (UnicodeDecodeError, ValueError) as exc:
            sub.problems.append(f"{RESPONSES}: not valid quiz responses ({exc}); quizzes not scored")
    for rel, data in sorted(wanted.items()):
        short = rel.removeprefix("exercises/")
        sub.files[short] = data
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            sub.problems.append(f"{rel}: not UTF-8 text (byte {exc.start}); it cannot be imported")
            continue
        try:
            compile(text, rel, "exec", dont_inherit=True)
        except SyntaxError as exc:
            sub.problems.append(f"{rel}: syntax error on line {exc.lineno}: {exc.msg}")
        except (ValueError, RecursionError, MemoryError) as exc:
            sub.problems.append(f"{rel}: cannot be compiled ({type(exc).__name__})")
    if not sub.files:
        sub.problems.append("exercises/ holds no chapterN/*.py files")


def materialize(files: dict[str, bytes], root: Path) -> Path:
    """Write ``files`` as ``root/exercises/chapterN/x.py`` (names were checked on reading)."""
    target = root / "exercises"
    for rel, data in files.items():
        chapter, name = rel.split("/")
        if not _CHAPTER_RE.fullmatch(chapter) or not name[:-3].isidentifier() or not name.endswith(".py"):
            continue
        folder = target / chapter
        folder.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)
    target.mkdir(parents=True, exist_ok=True)
    return target
