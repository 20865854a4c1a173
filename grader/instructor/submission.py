"""Reading one submission (a zip from ``grade submit`` or a folder) safely.

Nothing in a submission is trusted: member names are checked before anything is read
(absolute paths, ``..``, links: zip-slip), sizes are counted while decompressing (a zip
bomb stops at the cap whatever its header claims), and only what grading needs is kept
in memory: ``exercises/chapterN/*.py`` and ``.grade/quiz_responses.json``. Each file is
checked for UTF-8 and syntax; such problems are recorded but the submission is still
graded (the other chapters keep their points). A submission that cannot be read at all
raises ``BadSubmission`` with the reason the gradebook records.

Identity and time are the instructor's (``Origin``): the student id comes from the file
or folder name (or the LMS's naming), the time from the file system; ``manifest.json`` is
only checked against them (its id, its sha256 of every file) and disagreements become
problems. Folders are read through file descriptors, one component at a time with
O_NOFOLLOW, so a symbolic link at any path component is refused, also one swapped in
while the folder is being read. JSON is parsed
with its size and nesting bounded.
"""

from __future__ import annotations

import errno
import hashlib
import os
import re
import stat
import struct
import zipfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath
from typing import Any

from grader.notebook.sources import MAX_CHECKED_BYTES, MAX_CHECKED_FILE_BYTES
from grader.util import jsonbound
from grader.util.jsonbound import MAX_JSON_DEPTH
from grader.util.textclean import clean_line as clean_text  # text from a submission: one safe line
from grader.util.textclean import normalise_student  # noqa: F401 - re-exported: the instructor side's id form

MAX_MEMBERS = 2000  # entries in one zip
MAX_FILE_BYTES = 1_000_000  # one extracted file
MAX_TOTAL_BYTES = 20_000_000  # everything extracted from one submission
MAX_RATIO = 200  # compression ratio above which a big member is a bomb
MAX_ZIP_BYTES = 100_000_000  # the zip file itself
MAX_MANIFEST_BYTES = 1_000_000
MAX_CENTRAL_DIRECTORY_BYTES = 2_000_000  # the zip's list of entries (MAX_MEMBERS names of ~1 KB)
RESPONSES = ".grade/quiz_responses.json"
MANIFEST = "manifest.json"
_CHAPTER_RE = re.compile(r"chapter\d+")


class BadSubmission(Exception):
    """The submission cannot be graded; the message is the reason recorded."""


def submission_key(student: str, content_sha256: str) -> str:
    """The gradebook key: the same work from the same student is one submission; two
    students handing in identical files (untouched stubs, say) are two."""
    return hashlib.sha256(f"{student}\0{content_sha256}".encode()).hexdigest()


# Canvas "Download submissions": <name>_[late_]<user id>_<attachment id>_<original file name>
# The name part is the student's name with spaces and punctuation dropped: letters of any
# script (a Chinese or accented name stays as written), hyphens, or nothing at all.
_CANVAS_RE = re.compile(r"(?P<name>(?:[^\W\d_][^\W_]*(?:-[^\W_]+)*)?)_(?P<late>late_)?(?P<user>\d+)_(?P<attachment>\d+)_(?P<file>.+)")


@dataclass(frozen=True)
class Origin:
    """What the instructor's side knows about a submission: who (from the file or folder
    name, or the LMS's naming) and when (the LMS's time where the layout has one, else
    the file's modification time), never what the student wrote inside it."""

    student: str
    submitted_at: str | None  # ISO time, UTC
    time_source: str  # "lms" | "mtime" | "order"
    order: int = 0  # tie-break: the LMS attachment id, else the position on the command line
    layout: str = "plain"  # "plain" | "canvas" | "gradescope"
    # The LMS's other names for the same student (Gradescope: every group member's email,
    # student id, user id): a manifest naming one of them is no disagreement.
    aliases: tuple[str, ...] = ()
    id_source: str = "the file name"  # where ``student`` came from, for the manifest note
    lms_late: bool | None = None  # the LMS's verdict: Canvas's late_ flag in the name, Gradescope's lateness
    lms_due: str | None = None  # the LMS's due date for this submission (Gradescope), ISO UTC


def origin_of(path: Path, position: int = 0) -> Origin:
    name = Path(path).name
    stem = name[:-4] if name.lower().endswith(".zip") else name
    layout = "plain"
    order = position
    late: bool | None = None
    m = _CANVAS_RE.fullmatch(stem.lower())
    if m:
        student, layout, order = m.group("user"), "canvas", int(m.group("attachment")[:18])
        late = bool(m.group("late"))  # Canvas writes late_ into the names of late submissions
    else:
        student = stem.removeprefix("submission-").removeprefix("Submission-")
    try:
        mtime = os.lstat(path).st_mtime
        when: str | None = datetime.fromtimestamp(mtime, timezone.utc).isoformat(timespec="seconds")
        source = "mtime"
    except (OSError, OverflowError, ValueError):
        when, source = None, "order"
    return Origin(normalise_student(student), when, source, order, layout, lms_late=late)


def student_from_name(path: Path) -> str:
    return origin_of(path).student


@dataclass
class Submission:
    hash: str  # submission_key(student, content_sha256)
    student: str  # from the instructor's side (Origin), never from the manifest
    source: str  # where it was read from
    kind: str  # "zip" | "folder"
    files: dict[str, bytes] = field(default_factory=dict)  # "chapter3/activations.py" -> source
    responses: dict[str, Any] | None = None  # the quiz responses, unscored
    manifest: dict[str, Any] = field(default_factory=dict)  # cleaned: student, created, grader_version
    problems: list[str] = field(default_factory=list)  # per-file problems (still graded)
    content_sha256: str = ""  # sha256 of the zip, or of the folder's graded files
    origin: Origin | None = None

    def chapters(self) -> set[str]:
        return {name.split("/", 1)[0] for name in self.files}


# -- bounded JSON ------------------------------------------------------------------------

def load_json_bounded(raw: bytes, what: str, max_bytes: int = MAX_FILE_BYTES, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """``json.loads`` for bytes from a submission, size and nesting checked first."""
    return jsonbound.load_json_bounded(raw, what, max_bytes, max_depth)


def read_submission(path: Path, origin: Origin | None = None) -> Submission:
    path = Path(path)
    origin = origin or origin_of(path)
    if path.is_symlink():
        raise BadSubmission("the submission is a symbolic link (refused: it could point at a classmate's work)")
    if path.is_dir():
        return _read_folder(path, origin)
    if not path.is_file():
        raise BadSubmission(f"{path} does not exist")
    try:
        is_zip = zipfile.is_zipfile(path)
    except Exception as exc:  # noqa: BLE001 - BadZipFile from a ZIP64 record (multi-disk, ...)
        raise BadSubmission(f"not a readable zip file ({clean_text(exc)})") from None
    if not is_zip:
        raise BadSubmission("not a zip file (expected the zip made by 'grade submit')")
    return _read_zip(path, origin)


# -- zips ------------------------------------------------------------------------------


def _safe_member(name: str) -> PurePosixPath:
    if "\\" in name or name.startswith("/") or re.match(r"^[A-Za-z]:", name) or "\x00" in name:
        raise BadSubmission(f"unsafe path in zip: {name!r} (absolute or with backslashes; zip-slip)")
    pure = PurePosixPath(name)
    if any(part == ".." for part in pure.parts):
        raise BadSubmission(f"unsafe path in zip: {name!r} (climbs out with '..'; zip-slip)")
    return pure


def _read_zip(path: Path, origin: Origin) -> Submission:
    if path.stat().st_size > MAX_ZIP_BYTES:
        raise BadSubmission(f"the zip is larger than {MAX_ZIP_BYTES // 1_000_000} MB (refused)")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    _check_central_directory(path)
    try:
        zf = zipfile.ZipFile(path)
    except Exception as exc:  # noqa: BLE001 - BadZipFile, NotImplementedError (version), struct.error, ...
        raise BadSubmission(f"not a readable zip file ({clean_text(exc)})") from None
    with zf:
        infos = zf.infolist()
        if len(infos) > MAX_MEMBERS:
            raise BadSubmission(f"zip has {len(infos)} entries (more than {MAX_MEMBERS}): refused as a zip bomb")
        for info in infos:
            _safe_member(info.filename)
            mode = info.external_attr >> 16
            if mode and stat.S_ISLNK(mode):
                raise BadSubmission(f"zip contains a symbolic link: {clean_text(info.filename)!r} (refused)")
        names = [i.filename for i in infos if not i.is_dir()]
        prefix = _find_prefix(names)
        if prefix is None:
            raise BadSubmission("missing folder: the zip has no exercises/ folder")
        total = 0
        wanted: dict[str, bytes] = {}
        times: dict[str, float] = {}
        for info in infos:
            if info.is_dir() or not info.filename.startswith(prefix):
                continue
            rel = info.filename[len(prefix):]
            if not _wanted(rel):
                continue
            if info.compress_size and info.file_size > 1_000_000 and info.file_size / info.compress_size > MAX_RATIO:
                raise BadSubmission(f"{clean_text(info.filename)} expands {info.file_size // info.compress_size}x: "
                                    "refused as a zip bomb")
            data = _read_capped(zf, info, _cap(rel))
            times[rel] = _zip_time(info)
            total += len(data)
            if total > MAX_TOTAL_BYTES:
                raise BadSubmission(f"the zip expands beyond {MAX_TOTAL_BYTES // 1_000_000} MB: refused as a zip bomb")
            if rel in wanted:
                raise BadSubmission(f"zip lists {clean_text(info.filename)!r} twice (refused: which one is graded?)")
            wanted[rel] = data
        raw_manifest: bytes | None = None
        manifest_name = prefix + MANIFEST
        if manifest_name in names:
            raw_manifest = _read_capped(zf, zf.getinfo(manifest_name), MAX_MANIFEST_BYTES)
    sub = Submission(hash="", student=origin.student, source=str(path), kind="zip", origin=origin)
    sub.content_sha256 = digest
    sub.hash = submission_key(sub.student, digest)
    _check_manifest(sub, raw_manifest, wanted, expected=True)
    _resolve_notebooks(sub, wanted, times)
    _fill(sub, wanted)
    return sub


def _check_central_directory(path: Path) -> None:
    """Refuse a zip whose end record announces more entries, or a larger central directory,
    than a submission can have, before ``zipfile`` builds an object per entry: a 100 MB zip
    of bare directory entries is 2 million of them (0.8 GB and 12 s) however few it may keep."""
    try:
        with open(path, "rb") as f:
            end = zipfile._EndRecData(f)  # type: ignore[attr-defined]  # the record ZipFile itself reads first
    except (AttributeError, OSError, ValueError, struct.error, zipfile.BadZipFile):
        return  # ZipFile will say what is wrong
    if not end:
        return
    entries, size = end[zipfile._ECD_ENTRIES_TOTAL], end[zipfile._ECD_SIZE]  # type: ignore[attr-defined]
    if entries > MAX_MEMBERS:
        raise BadSubmission(f"zip has {entries} entries (more than {MAX_MEMBERS}): refused as a zip bomb")
    if size > MAX_CENTRAL_DIRECTORY_BYTES:
        raise BadSubmission(f"the zip's central directory is {size // 1000} KB (more than "
                            f"{MAX_CENTRAL_DIRECTORY_BYTES // 1000} KB for at most {MAX_MEMBERS} entries): refused "
                            "as a zip bomb")


def _zip_time(info: zipfile.ZipInfo) -> float:
    try:
        return datetime(*info.date_time).timestamp()
    except (ValueError, OverflowError):
        return 0.0


def _cap(rel: str) -> int:
    from grader.notebook.sources import MAX_NOTEBOOK_BYTES

    return MAX_NOTEBOOK_BYTES if rel.endswith(".ipynb") else MAX_FILE_BYTES


def _read_capped(zf: zipfile.ZipFile, info: zipfile.ZipInfo, cap: int) -> bytes:
    try:
        with zf.open(info) as f:
            data = f.read(cap + 1)
    except Exception as exc:  # noqa: BLE001 - BadZipFile, zlib.error, encrypted (RuntimeError), ...
        raise BadSubmission(f"{clean_text(info.filename)} could not be read from the zip "
                            f"({type(exc).__name__}: {clean_text(exc, 120)})") from None
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
    if len(parts) == 2 and parts[0] == "exercises" and parts[1].endswith(".ipynb"):
        return bool(_CHAPTER_RE.fullmatch(parts[1][: -len(".ipynb")]))  # exercises/chapter3.ipynb
    return (
        len(parts) == 3 and parts[0] == "exercises" and bool(_CHAPTER_RE.fullmatch(parts[1]))
        and parts[2].endswith(".py") and parts[2][:-3].isidentifier()
    )


# -- folders ---------------------------------------------------------------------------
#
# A folder is read through file descriptors only: the folder itself is opened once, and
# every folder and file below it is opened relative to its parent's descriptor with
# O_NOFOLLOW, one name at a time. A student who can still write to the folder while it is
# collected may swap a folder for a symbolic link at any moment; what was opened stays
# what it was, and a link met on the way is refused, so nothing outside is ever read.

_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_DIR_FLAGS = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | _NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
_FILE_FLAGS = (os.O_RDONLY | _NOFOLLOW | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
               | getattr(os, "O_CLOEXEC", 0))


def _refuse_link(rel: str) -> BadSubmission:
    return BadSubmission(f"symbolic link in the submission: {clean_text(rel)!r} (refused)")


class _Dir:
    """An open folder of the submission and its path relative to the submission."""

    def __init__(self, fd: int, rel: str) -> None:
        self.fd = fd
        self.rel = rel

    def __enter__(self) -> _Dir:
        return self

    def __exit__(self, *exc: object) -> None:
        os.close(self.fd)

    def _rel(self, name: str) -> str:
        return f"{self.rel}/{name}" if self.rel else name

    def lstat(self, name: str) -> os.stat_result | None:
        """lstat of an entry (no link followed); a symbolic link is refused."""
        try:
            st = os.stat(name, dir_fd=self.fd, follow_symlinks=False)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise BadSubmission(f"{clean_text(self._rel(name))} cannot be read ({exc.strerror})") from None
        if stat.S_ISLNK(st.st_mode):
            raise _refuse_link(self._rel(name))
        return st

    def listdir(self) -> list[str]:
        return sorted(os.listdir(self.fd))

    def open_dir(self, name: str) -> _Dir | None:
        """The sub-folder ``name``, opened without following a link; None when it is
        missing or not a folder."""
        if self.lstat(name) is None:
            return None
        try:
            fd = os.open(name, _DIR_FLAGS, dir_fd=self.fd)
        except FileNotFoundError:
            return None
        except NotADirectoryError:
            return None
        except OSError as exc:
            if exc.errno == errno.ELOOP:  # swapped for a link since the lstat above
                raise _refuse_link(self._rel(name)) from None
            raise BadSubmission(f"{clean_text(self._rel(name))} cannot be read ({exc.strerror})") from None
        return _Dir(fd, self._rel(name))

    def read(self, name: str, cap: int) -> tuple[bytes, float] | None:
        """(content, modification time) of the regular file ``name``, at most ``cap``
        bytes; None when it is missing or not a regular file."""
        if self.lstat(name) is None:
            return None
        rel = self._rel(name)
        try:
            fd = os.open(name, _FILE_FLAGS, dir_fd=self.fd)
        except FileNotFoundError:
            return None
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise _refuse_link(rel) from None
            raise BadSubmission(f"{clean_text(rel)} cannot be read ({exc.strerror})") from None
        with os.fdopen(fd, "rb") as f:
            st = os.fstat(f.fileno())
            if not stat.S_ISREG(st.st_mode):
                return None
            if st.st_size > cap:
                raise BadSubmission(f"{clean_text(rel)} is larger than {cap // 1000} KB")
            data = f.read(cap + 1)
        if len(data) > cap:
            raise BadSubmission(f"{clean_text(rel)} is larger than {cap // 1000} KB")
        return data, st.st_mtime


def _open_root(path: Path) -> _Dir:
    try:
        return _Dir(os.open(path, _DIR_FLAGS), "")
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise BadSubmission("the submission is a symbolic link (refused: it could point at a classmate's work)") from None
        raise BadSubmission(f"{path} cannot be read ({exc.strerror})") from None


def _read_in(folder: _Dir, parts: list[str], cap: int) -> tuple[bytes, float] | None:
    """Read ``parts`` (folders, then a file) below ``folder``, one descriptor at a time."""
    if len(parts) == 1:
        return folder.read(parts[0], cap)
    sub = folder.open_dir(parts[0])
    if sub is None:
        return None
    with sub:
        return _read_in(sub, parts[1:], cap)


def _read_folder(path: Path, origin: Origin) -> Submission:
    wanted: dict[str, bytes] = {}
    times: dict[str, float] = {}
    total = 0
    with _open_root(path.absolute()) as root:
        exercises = root.open_dir("exercises")
        if exercises is None:
            raise BadSubmission("missing folder: no exercises/ folder in the submission")
        with exercises:
            chapters = exercises.listdir()
            if len(chapters) > MAX_MEMBERS:
                raise BadSubmission(f"exercises/ has {len(chapters)} entries (more than {MAX_MEMBERS})")
            for chapter in chapters:
                rel = f"exercises/{chapter}"
                if _wanted(rel):  # a notebook: exercises/chapterN.ipynb
                    found = exercises.read(chapter, _cap(rel))
                    if found is not None:
                        wanted[rel], times[rel] = found
                        total += len(found[0])
                    continue
                if not _CHAPTER_RE.fullmatch(chapter):
                    exercises.lstat(chapter)  # a link is refused even where it is not read
                    continue
                folder = exercises.open_dir(chapter)
                if folder is None:
                    continue
                with folder:
                    names = folder.listdir()
                    if len(names) > MAX_MEMBERS:
                        raise BadSubmission(f"exercises/{chapter}/ has {len(names)} entries (more than {MAX_MEMBERS})")
                    for name in names:
                        rel = f"exercises/{chapter}/{name}"
                        if not _wanted(rel):
                            folder.lstat(name)  # a link is refused even where it is not read
                            continue
                        found = folder.read(name, MAX_FILE_BYTES)
                        if found is None:
                            continue
                        data, times[rel] = found
                        total += len(data)
                        if total > MAX_TOTAL_BYTES:
                            raise BadSubmission(f"the submission is larger than {MAX_TOTAL_BYTES // 1_000_000} MB")
                        wanted[rel] = data
        responses = _read_in(root, RESPONSES.split("/"), MAX_FILE_BYTES)
        if responses is not None:
            wanted[RESPONSES] = responses[0]
        manifest = root.read(MANIFEST, MAX_MANIFEST_BYTES)
        raw_manifest = manifest[0] if manifest is not None else None
    h = hashlib.sha256()
    for rel in sorted(wanted):
        h.update(rel.encode() + b"\0" + hashlib.sha256(wanted[rel]).digest())
    sub = Submission(hash="", student=origin.student, source=str(path), kind="folder", origin=origin)
    sub.content_sha256 = h.hexdigest()
    sub.hash = submission_key(sub.student, sub.content_sha256)
    _check_manifest(sub, raw_manifest, wanted, expected=False)
    _resolve_notebooks(sub, wanted, times)
    _fill(sub, wanted)
    return sub


# -- common ----------------------------------------------------------------------------

MAX_LISTED_PROBLEMS = 12


def _check_manifest(sub: Submission, raw: bytes | None, wanted: dict[str, bytes], expected: bool) -> None:
    """Keep the manifest's few fields (cleaned), check its student id against the
    instructor's and its sha256 of every file against the files themselves."""
    if raw is None:
        if expected:
            sub.problems.append("no manifest.json (this zip was not made by 'grade submit'); file hashes not checked")
        return
    try:
        loaded = load_json_bounded(raw, MANIFEST, MAX_MANIFEST_BYTES)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadSubmission(f"manifest.json cannot be read ({clean_text(exc, 120)}); a manifest that is not "
                            "the one 'grade submit' wrote is refused") from None
    if not isinstance(loaded, dict):
        raise BadSubmission("manifest.json is not a JSON object (refused: not the one 'grade submit' wrote)")
    for key in ("student", "created", "grader_version"):
        if isinstance(loaded.get(key), (str, int, float)):
            sub.manifest[key] = clean_text(loaded[key], 80)
    claimed = loaded.get("student")
    origin = sub.origin
    known = {sub.student, *(normalise_student(a) for a in (origin.aliases if origin else ()))}
    if claimed is not None and normalise_student(str(claimed)) not in known:
        sub.problems.append(f"manifest says {clean_text(claimed, 64)!r}; graded as {sub.student} "
                            f"(the id comes from {origin.id_source if origin else 'the file name'})")
    listed = loaded.get("files")
    if not isinstance(listed, dict):
        sub.problems.append("manifest.json has no file hashes; they were not checked")
        return
    sub.manifest["files"] = len(listed)
    found: list[str] = []
    for rel, data in sorted(wanted.items()):
        digest = listed.get(rel)
        if digest is None:
            found.append(f"{rel}: not listed in manifest.json")
        elif not isinstance(digest, str) or digest.lower() != hashlib.sha256(data).hexdigest():
            found.append(f"{rel}: sha256 differs from manifest.json (changed after 'grade submit')")
    for rel in sorted(k for k in listed if isinstance(k, str) and _wanted(k) and k not in wanted):
        found.append(f"{clean_text(rel, 120)}: listed in manifest.json but missing")
    if found:
        sub.manifest["hash_mismatches"] = len(found)
        sub.problems.extend(f"manifest hash check: {p}" for p in found[:MAX_LISTED_PROBLEMS])
        if len(found) > MAX_LISTED_PROBLEMS:
            sub.problems.append(f"manifest hash check: … and {len(found) - MAX_LISTED_PROBLEMS} more")


def _resolve_notebooks(sub: Submission, wanted: dict[str, bytes], times: dict[str, float]) -> None:
    """Replace every ``exercises/chapterN.ipynb`` by the module files graded for chapter N:
    the notebook's tagged cells (text only, nothing executed) when the notebook is the
    chapter's only source or was changed after its ``.py`` files, else the ``.py`` files.
    Which one was graded, dropped magics and an unreadable notebook are noted."""
    from grader.grading.catalog import load_catalog
    from grader.notebook.sources import choose

    catalog = load_catalog()
    for rel in sorted(k for k in wanted if k.endswith(".ipynb")):
        raw = wanted.pop(rel)
        chapter_id = rel.split("/")[1][: -len(".ipynb")]
        prefix = f"exercises/{chapter_id}/"
        py = {k[len(prefix):-3]: v for k, v in wanted.items() if k.startswith(prefix)}
        py_times = [times.get(k, 0.0) for k in wanted if k.startswith(prefix)]
        modules = catalog.chapters[chapter_id].modules if chapter_id in catalog.chapters else tuple(py)
        choice = choose(modules, py, max(py_times) if py_times else None, raw, times.get(rel),
                        rel, f"{prefix}*.py")
        if choice.problem:
            sub.problems.append(f"{rel}: {clean_text(choice.problem, 200)}")
        elif choice.note and (choice.source == "notebook" or py):
            sub.problems.append(f"note: {chapter_id} {clean_text(choice.note, 200)}")
        sub.problems.extend(f"note: {clean_text(n, 200)}" for n in choice.notes[:MAX_LISTED_PROBLEMS])
        if choice.source == "notebook":
            for k in [k for k in wanted if k.startswith(prefix)]:
                del wanted[k]
            for module, data in choice.files.items():
                wanted[f"{prefix}{module}.py"] = data


def _fill(sub: Submission, wanted: dict[str, bytes]) -> None:
    raw = wanted.pop(RESPONSES, None)
    if raw is not None:
        try:
            data = load_json_bounded(raw, RESPONSES)
            if not isinstance(data, dict) or not isinstance(data.get("attempts"), list):
                raise ValueError("no attempts list")
            sub.responses = data
        except (UnicodeDecodeError, ValueError) as exc:
            sub.problems.append(f"{RESPONSES}: not valid quiz responses ({clean_text(exc, 120)}); quizzes not scored")
    checked = 0  # bytes parsed here: Python's parser is quadratic on some inputs (one f-string
    # with 300,000 fields: 76 s for 900 KB), and this process cannot interrupt it
    unchecked: list[str] = []
    for rel, data in sorted(wanted.items()):
        short = rel.removeprefix("exercises/")
        sub.files[short] = data
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            sub.problems.append(f"{rel}: not UTF-8 text (byte {exc.start}); it cannot be imported")
            continue
        if len(data) > MAX_CHECKED_FILE_BYTES or checked + len(data) > MAX_CHECKED_BYTES:
            unchecked.append(rel)  # graded all the same: the sandboxed worker, with its time limits, says
            continue
        checked += len(data)
        try:
            compile(text, rel, "exec", dont_inherit=True)
        except SyntaxError as exc:
            sub.problems.append(f"{rel}: syntax error on line {exc.lineno}: {clean_text(exc.msg, 120)}")
        except (ValueError, RecursionError, MemoryError) as exc:
            sub.problems.append(f"{rel}: cannot be compiled ({type(exc).__name__})")
    if unchecked:
        more = f" and {len(unchecked) - 3} more" if len(unchecked) > 3 else ""
        sub.problems.append(f"note: {', '.join(unchecked[:3])}{more}: too large to check for syntax errors at "
                            "collection (graded all the same)")
    if not sub.files:
        sub.problems.append("exercises/ holds no chapterN/*.py files (nor chapterN.ipynb notebooks)")


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
