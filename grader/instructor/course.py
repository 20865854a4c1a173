"""The course file (``course.toml``): due dates, the late policy and extensions.

It lives beside the gradebook (``gradebook.sqlite`` -> ``course.toml`` in the same folder)
or is named with ``--course``. Without one, nothing is late and ``grade export`` writes the
newest submission's scores as before. With one, ``grade export`` applies the late penalties
(``--raw`` leaves them out; the gradebook always keeps the raw scores) and ``grade report``
shows days late, extensions and penalties.

    timezone = "Europe/Berlin"      # for due dates written without an offset

    [due]                           # chapters and quizzes ("quiz chapter2")
    chapter2 = "2026-09-21 23:59"
    "quiz chapter2" = 2026-09-21T23:59:00+02:00

    [late]
    grace_minutes = 15              # up to this late counts as on time
    percent_per_day = 10            # per day late, each started day counts
    max_percent = 50                # the deduction never exceeds this (a cap)
    zero_after_days = 7             # later than this many days: 0
    later_submission = "ignored"    # or "replaces": does a late submission replace an on-time one?

    [extensions]                    # days, by the gradebook's (or roster's) student id
    alice = 2                       # every chapter and quiz
    bob = { chapter3 = 3 }          # only these

A plain roster may also carry an ``extension_days`` column (every chapter and quiz); the
course file's value for a student wins over it.

Everything is checked when the file is read; a mistake is a ``UsageError`` naming the key,
the value and the fix (the closest known chapter for a misspelt one), never a traceback.
"""

from __future__ import annotations

import difflib
import math
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, tzinfo
from pathlib import Path
from typing import Any

from grader.instructor.submission import clean_text, normalise_student
from grader.util.errors import UsageError

COURSE_FILE = "course.toml"
MAX_COURSE_BYTES = 1_000_000
TOP_KEYS = ("timezone", "due", "late", "extensions")
LATE_KEYS = ("grace_minutes", "percent_per_day", "max_percent", "zero_after_days", "later_submission")
LATER = ("ignored", "replaces")
_DATE_RE = re.compile(r"(\d{4}-\d{2}-\d{2})(?:[T ](\d{1,2}:\d{2}(?::\d{2})?))?\s*(Z|[+-]\d{2}:?\d{2})?")


@dataclass(frozen=True)
class Policy:
    grace_minutes: float = 0.0
    percent_per_day: float = 0.0
    max_percent: float = 100.0
    zero_after_days: float | None = None
    later_submission: str = "ignored"

    def percent(self, days: int) -> float:
        """The deduction (percent of the score) for ``days`` days late."""
        if days <= 0:
            return 0.0
        if self.zero_after_days is not None and days > self.zero_after_days:
            return 100.0
        return min(self.max_percent, self.percent_per_day * days, 100.0)

    def describe(self) -> str:
        parts = [f"{_num(self.percent_per_day)}% per day late (each started day counts)"]
        if self.grace_minutes:
            parts.insert(0, f"{_num(self.grace_minutes)} min grace")
        if self.max_percent < 100:
            parts.append(f"at most {_num(self.max_percent)}%")
        if self.zero_after_days is not None:
            parts.append(f"0 after {_num(self.zero_after_days)} days")
        which = ("the newest submission counts, late or not" if self.later_submission == "replaces" else
                 "the newest submission before the (extended) due date counts; a later one only when there is "
                 "none before")
        return "Late policy: " + ", ".join(parts) + f"; {which}."


@dataclass
class Course:
    path: str
    due: dict[str, datetime]  # item ("chapter2", "quiz chapter2") -> due date (aware)
    policy: Policy
    extensions: dict[str, dict[str, float]] = field(default_factory=dict)  # student -> {item or "*": days}


def _num(x: float) -> str:
    return f"{x:g}"


def _where(path: str, key: str) -> str:
    return f"{path}: {key}"


def known_items() -> list[str]:
    """The chapters (the catalog's) and the quizzes (the instructor's banks, and one per chapter)."""
    from grader.grading.catalog import load_catalog
    from grader.grading.runner import PACKAGE_ROOT
    from grader.quiz.bank import available_banks

    chapters = list(load_catalog().chapters)
    banks = available_banks(PACKAGE_ROOT) if (PACKAGE_ROOT / "quizzes").is_dir() else []
    quizzes = sorted(set(chapters) | set(banks), key=lambda c: (len(c), c))
    return chapters + [f"quiz {c}" for c in quizzes]


def _item(raw: str, path: str, section: str, known: list[str]) -> str:
    from grader.grading.catalog import normalize_chapter

    text = " ".join(clean_text(raw, 60).lower().split())
    quiz = text.startswith("quiz ")
    name = ("quiz " if quiz else "") + normalize_chapter(text[5:] if quiz else text)
    if name in known:
        return name
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    raise UsageError(f"{path}: [{section}] names {clean_text(raw, 60)!r}, which is not a chapter or quiz.{hint} "
                     f"Write chapter ids (chapter2) or quizzes (\"quiz chapter2\").")


def _zone(value: object, path: str) -> tzinfo:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    if not isinstance(value, str) or not value.strip():
        raise UsageError(f"{path}: timezone must be a time zone name such as \"Europe/Berlin\" or \"UTC\".")
    try:
        return ZoneInfo(value.strip())
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise UsageError(f"{path}: timezone {clean_text(value, 60)!r} is not a known time zone (write one such as "
                         "\"Europe/Berlin\", \"America/New_York\" or \"UTC\").") from None


def parse_due(value: object, zone: tzinfo | None, where: str) -> datetime:
    """A due date: a TOML date-time (with or without offset), a TOML date (the end of that
    day), or text ``YYYY-MM-DD[ HH:MM[:SS]][Z|+HH:MM]``. Without an offset the course's
    ``timezone`` applies; without either it is an error (a deadline needs a time zone)."""
    fix = ("Write it as \"2026-09-21 23:59\" with timezone = \"Europe/Berlin\" at the top of the file, "
           "or with an offset: 2026-09-21T23:59:00+02:00.")
    when: datetime
    if isinstance(value, datetime):
        when = value
    elif isinstance(value, date):
        when = datetime.combine(value, time(23, 59, 59))
    elif isinstance(value, str):
        m = _DATE_RE.fullmatch(value.strip())
        if not m:
            raise UsageError(f"{where} = {clean_text(value, 60)!r} is not a date. {fix}")
        clock = m.group(2) or "23:59:59"
        if clock.count(":") == 1:
            clock += ":00"
        offset = m.group(3) or ""
        if offset and offset != "Z" and ":" not in offset:
            offset = offset[:3] + ":" + offset[3:]
        try:
            when = datetime.fromisoformat(f"{m.group(1)}T{clock.zfill(8)}{'+00:00' if offset == 'Z' else offset}")
        except ValueError as exc:
            raise UsageError(f"{where} = {clean_text(value, 60)!r} is not a date ({exc}). {fix}") from None
    else:
        raise UsageError(f"{where} must be a date, e.g. \"2026-09-21 23:59\". {fix}")
    if when.tzinfo is None:
        if zone is None:
            raise UsageError(f"{where} = {clean_text(str(value), 60)!r} has no time zone. {fix}")
        when = when.replace(tzinfo=zone)
    return when


def _number(value: object, where: str, minimum: float = 0.0, maximum: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise UsageError(f"{where} must be a number, not {clean_text(repr(value), 40)}.")
    if value < minimum or (maximum is not None and value > maximum):
        top = f" and {_num(maximum)}" if maximum is not None else ""
        raise UsageError(f"{where} = {_num(value)} is out of range (between {_num(minimum)}{top}).")
    return float(value)


def _unknown(keys: list[str], allowed: tuple[str, ...], path: str, section: str) -> None:
    for key in keys:
        if key not in allowed:
            close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.5)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise UsageError(f"{path}: unknown key {clean_text(key, 40)!r}{section}.{hint} "
                             f"Known: {', '.join(allowed)}.")


def parse_course(data: dict[str, Any], path: str, known: list[str] | None = None) -> Course:
    known = known if known is not None else known_items()
    _unknown(list(data), TOP_KEYS, path, "")
    zone = _zone(data["timezone"], path) if "timezone" in data else None
    due: dict[str, datetime] = {}
    raw_due = data.get("due", {})
    if not isinstance(raw_due, dict):
        raise UsageError(f"{path}: due must be a table: [due] then chapter2 = \"2026-09-21 23:59\".")
    for key, value in raw_due.items():
        if isinstance(value, dict) and key.strip().lower() in ("quiz", "quizzes"):  # [due.quiz] chapter2 = ...
            for sub, v in value.items():
                item = _item(f"quiz {sub}", path, "due.quiz", known)
                due[item] = parse_due(v, zone, _where(path, f"due.quiz.{sub}"))
            continue
        item = _item(key, path, "due", known)
        due[item] = parse_due(value, zone, _where(path, f"due.{key}"))
    late = data.get("late", {})
    if not isinstance(late, dict):
        raise UsageError(f"{path}: late must be a table: [late] then percent_per_day = 10.")
    _unknown(list(late), LATE_KEYS, path, " in [late]")
    later = late.get("later_submission", "ignored")
    if later not in LATER:
        raise UsageError(f"{path}: late.later_submission must be \"ignored\" (the newest submission before the due "
                         f"date counts) or \"replaces\" (the newest counts, with its penalty), not "
                         f"{clean_text(repr(later), 40)}.")
    policy = Policy(
        grace_minutes=_number(late.get("grace_minutes", 0), _where(path, "late.grace_minutes")),
        percent_per_day=_number(late.get("percent_per_day", 0), _where(path, "late.percent_per_day"), 0, 100),
        max_percent=_number(late.get("max_percent", 100), _where(path, "late.max_percent"), 0, 100),
        zero_after_days=(_number(late["zero_after_days"], _where(path, "late.zero_after_days"))
                         if "zero_after_days" in late else None),
        later_submission=str(later),
    )
    extensions: dict[str, dict[str, float]] = {}
    raw_ext = data.get("extensions", {})
    if not isinstance(raw_ext, dict):
        raise UsageError(f"{path}: extensions must be a table: [extensions] then alice = 2 (days).")
    for student, value in raw_ext.items():
        sid = normalise_student(student)
        where = _where(path, f"extensions.{clean_text(student, 40)}")
        if isinstance(value, dict):
            extensions[sid] = {_item(k, path, f"extensions.{clean_text(student, 40)}", known):
                               _number(v, f"{where}.{clean_text(k, 40)}", 0, 3650) for k, v in value.items()}
        else:
            extensions[sid] = {"*": _number(value, where, 0, 3650)}
    return Course(path, due, policy, extensions)


def read_course(path: Path) -> Course:
    from grader.util.tomlcompat import tomllib

    path = Path(path)
    try:
        if not path.is_file():
            raise UsageError(f"No course file at {path}.")
        if path.stat().st_size > MAX_COURSE_BYTES:
            raise UsageError(f"{path} is larger than 1 MB: not a course file.")
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"Cannot read {path}: {exc.strerror or exc}.") from None
    except UnicodeDecodeError:
        raise UsageError(f"{path} is not UTF-8 text.") from None
    try:
        data = tomllib.loads(text)
    except ValueError as exc:
        raise UsageError(f"{path} is not valid TOML ({clean_text(exc, 200)}).") from None
    return parse_course(data, clean_text(path, 1000))


def find_course(db: Path, given: Path | None) -> Course | None:
    """``--course PATH`` (must exist), else ``course.toml`` beside the gradebook, else None."""
    if given is not None:
        return read_course(given)
    beside = Path(db).parent / COURSE_FILE
    return read_course(beside) if beside.is_file() else None
