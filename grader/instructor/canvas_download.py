"""Canvas's "Download Submissions" zip, given to ``grade collect`` as it is.

Canvas packs every student's upload as one entry named ``name_[late_]userid_attachmentid_file``
and gives each entry the time of the submission. ``grade collect download.zip`` unpacks the
entries (bounded, into a private temporary folder, under their own names, which the Canvas
pattern makes safe) and grades each one with its identity from the name, Canvas's ``late_``
verdict, and its time from the entry: the zip's extended-timestamp field (UTC) where the
entry has one, else its DOS time read as this machine's local time, as ``unzip`` reads it.
"""

from __future__ import annotations

import os
import shutil
import struct
import zipfile
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

from grader.instructor.submission import _CANVAS_RE, MAX_ZIP_BYTES, Origin, origin_of

MAX_ENTRIES = 5000  # students in one download
MAX_DOWNLOAD_BYTES = 4_000_000_000  # everything unpacked from one download
_UT = 0x5455  # the extended-timestamp extra field (Info-ZIP): flags, then the UTC mtime


def is_download(path: Path) -> bool:
    """A zip (not a ``grade submit`` one) whose every entry is a top-level file named the Canvas way."""
    try:
        if not path.is_file() or path.is_symlink() or not zipfile.is_zipfile(path):
            return False
        with zipfile.ZipFile(path) as zf:
            names = [i.filename for i in zf.infolist() if not i.is_dir()]
    except Exception:  # noqa: BLE001 - not a readable zip: grade collect says why as for any submission
        return False
    return bool(names) and len(names) <= MAX_ENTRIES and all(
        "/" not in n and "\\" not in n and _CANVAS_RE.fullmatch(n.lower()) for n in names)


def entry_time(info: zipfile.ZipInfo) -> datetime | None:
    extra = info.extra
    i = 0
    while i + 4 <= len(extra):
        kind, size = struct.unpack("<HH", extra[i:i + 4])
        body = extra[i + 4:i + 4 + size]
        if kind == _UT and len(body) >= 5 and body[0] & 1:
            try:
                return datetime.fromtimestamp(struct.unpack("<i", body[1:5])[0], timezone.utc)
            except (OverflowError, OSError, ValueError):
                return None
        i += 4 + size
    try:
        return datetime(*info.date_time).astimezone(timezone.utc)  # naive: this machine's local time
    except (ValueError, OverflowError, OSError):
        return None


def unpack(path: Path, dest: Path, first: int = 0) -> dict[Path, Origin]:
    """Each entry of the download ``path`` written to ``dest`` (a private folder), with who and
    when from Canvas; entries larger than a submission may be are left out (collect would refuse them)."""
    origins: dict[Path, Origin] = {}
    total = 0
    with zipfile.ZipFile(path) as zf:
        for position, info in enumerate(i for i in zf.infolist() if not i.is_dir()):
            if info.file_size > MAX_ZIP_BYTES or total + info.file_size > MAX_DOWNLOAD_BYTES:
                continue
            target = dest / info.filename
            written = 0
            with zf.open(info) as src, open(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as out:
                while chunk := src.read(1 << 20):
                    written += len(chunk)
                    if written > MAX_ZIP_BYTES:  # the header lied
                        break
                    out.write(chunk)
            total += written
            when = entry_time(info)
            base = origin_of(target, first + position)
            origins[target] = replace(base, submitted_at=when.isoformat(timespec="seconds") if when else None,
                                      time_source="lms" if when else "order")
    return origins


def expand(paths: list[Path], dest: Path) -> tuple[list[Path], dict[Path, Origin], dict[Path, str]]:
    """``paths`` with every Canvas download replaced by its entries (unpacked under ``dest``):
    (paths, their Canvas origins, the name each unpacked entry is recorded under)."""
    out: list[Path] = []
    origins: dict[Path, Origin] = {}
    shown: dict[Path, str] = {}
    for path in paths:
        if not is_download(path):
            out.append(path)
            continue
        folder = dest / f"d{len(shown)}-{len(out)}"
        folder.mkdir(mode=0o700)
        got = unpack(path, folder, len(out))
        for entry in got:
            shown[entry] = f"{path}!{entry.name}"
        out.extend(got)
        origins.update(got)
    return out, origins, shown


def cleanup(dest: Path) -> None:
    shutil.rmtree(dest, ignore_errors=True)
