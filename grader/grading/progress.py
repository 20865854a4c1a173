"""Progress across chapters, kept in a small local state file the student may delete.

``.grade/state.json`` (next to ``exercises/``) remembers the last ``grade check`` of each chapter,
exercise by exercise. It is advisory: it only feeds ``grade status``, ``grade watch`` and the
welcome screen; official scores come from collection. Deleting it loses nothing but the summary,
and an unreadable file is ignored (with a note) and rebuilt at the next check. Quiz best scores
come from ``.grade/quiz_responses.json``, written by the quiz command. Stdlib only.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal

from grader.grading.catalog import Catalog, Chapter
from grader.util.fsutil import locked as _locked
from grader.util.fsutil import write_text_atomic

STATE_DIR = ".grade"
STATE_NAME = "state.json"
QUIZ_NAME = "quiz_responses.json"
FORMAT_VERSION = 1

ExerciseState = Literal["passed", "attempted", "not_started"]
Note = tuple[str, dict[str, str]]  # (message id, fields): rendered in the student's language


@dataclass(frozen=True)
class ExerciseProgress:
    id: str  # catalog id, e.g. "chapter2.XOR"
    state: ExerciseState  # from the last check: all tests passed / something tried / untouched
    score: float  # points at the last check (0 when never checked)
    max_score: float  # points the last check could give (catalog points when never checked)


@dataclass(frozen=True)
class QuizProgress:
    attempts: int  # practice and graded attempts recorded for the chapter
    best_score: float | None  # best practice score (None: no scored attempt)
    best_max: float | None  # the max_score of that best attempt
    submitted: int  # graded attempts (scored at collection, so no score here)


@dataclass(frozen=True)
class ChapterProgress:
    chapter: Chapter
    checked: str | None  # ISO time of the last check; None: never checked
    exercises: tuple[ExerciseProgress, ...]
    quiz: QuizProgress | None  # None: no attempt recorded
    has_quiz: bool  # a question bank for this chapter is in the workspace

    def count(self, state: ExerciseState) -> int:
        return sum(e.state == state for e in self.exercises)

    @property
    def fraction(self) -> float:
        return self.count("passed") / len(self.exercises) if self.exercises else (1.0 if self.quiz else 0.0)

    @property
    def exercises_done(self) -> bool:
        return all(e.state == "passed" for e in self.exercises)


@dataclass(frozen=True)
class NextStep:
    kind: Literal["check", "fix", "start", "quiz", "done"]
    chapter: str | None
    exercise: str | None
    command: str  # what to type, e.g. "grade hint chapter2.XOR"


@dataclass(frozen=True)
class Status:
    workspace: Path
    chapters: tuple[ChapterProgress, ...]
    next: NextStep
    checked_any: bool  # False: no check recorded yet (new workspace or state file deleted)
    notes: tuple[Note, ...]  # e.g. "the state file was unreadable and is ignored"


def state_path(workspace: Path) -> Path:
    return workspace / STATE_DIR / STATE_NAME


def quiz_path(workspace: Path) -> Path:
    return workspace / STATE_DIR / QUIZ_NAME


def _now() -> str:
    return datetime.now(timezone.utc).astimezone().isoformat(timespec="seconds")


def load_state(workspace: Path) -> tuple[dict[str, Any], Note | None]:
    """The state file's content, or an empty state and a note saying why it was ignored."""
    path = state_path(workspace)
    empty: dict[str, Any] = {"format_version": FORMAT_VERSION, "chapters": {}}
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return empty, None
    except OSError:
        return empty, ("progress.note.unreadable", {"file": _rel(path, workspace)})
    try:
        data = json.loads(text)
        if not isinstance(data, dict) or data.get("format_version") != FORMAT_VERSION:
            raise ValueError("unknown format")
        chapters = data.get("chapters")
        if not isinstance(chapters, dict) or not all(isinstance(c, dict) for c in chapters.values()):
            raise ValueError("bad chapters")
    except ValueError:
        return empty, ("progress.note.corrupt", {"file": _rel(path, workspace)})
    return data, None


def _rel(path: Path, workspace: Path) -> str:
    try:
        return str(path.relative_to(workspace))
    except ValueError:
        return str(path)


def write_json_atomic(path: Path, data: dict[str, Any]) -> None:
    write_text_atomic(path, json.dumps(data, ensure_ascii=False, indent=1) + "\n")


def _exercise_state(statuses: list[str]) -> ExerciseState:
    if statuses and all(s == "passed" for s in statuses):
        return "passed"
    if not statuses or all(s == "not_attempted" for s in statuses):
        return "not_started"
    return "attempted"


def record_check(report: Any, workspace: Path | None = None) -> Path | None:
    """Remember ``report`` (a ``CheckReport``) in the workspace's state file.

    Only checks of the workspace's own ``exercises/`` count (not ``--solutions`` or ``--path``).
    Returns the state file written, or None when the check was not of the student's work."""
    from grader.grading.runner import find_workspace

    workspace = workspace or find_workspace()
    if Path(report.target).resolve() != (workspace / "exercises").resolve():
        return None
    path = state_path(workspace)
    with _locked(path):  # a watch in one terminal and a check in another: neither loses the other's chapter
        state, _ = load_state(workspace)
        _update(state, report)
        write_json_atomic(path, state)
    return path


def _update(state: dict[str, Any], report: Any) -> None:
    exercises: dict[str, dict[str, Any]] = {}
    for ex_id, tests in report.by_exercise().items():
        exercises[ex_id] = {
            "state": _exercise_state([t.status for t in tests]),
            "statuses": [t.status for t in tests],
            "score": sum(t.score for t in tests),
            "max_score": sum(t.max_score for t in tests),
        }
    state["chapters"][report.chapter] = {
        "checked": _now(),
        "score": report.score,
        "max_score": report.max_score,
        "hidden_run": any(t.visibility == "hidden" for t in report.tests),
        "exercises": exercises,
    }
    state["format_version"] = FORMAT_VERSION
    state["updated"] = _now()


def record_check_quietly(report: Any) -> Path | None:
    """``record_check`` for the CLI: a problem with the state file must never break a check."""
    try:
        return record_check(report)
    except Exception as exc:  # noqa: BLE001 - advisory file; say why only when debugging
        if os.environ.get("GRADER_DEBUG"):
            import sys

            sys.stderr.write(f"progress not recorded: {type(exc).__name__}: {exc}\n")
        return None


def load_quiz_attempts(workspace: Path) -> tuple[list[dict[str, Any]], Note | None]:
    path = quiz_path(workspace)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        attempts = data["attempts"] if isinstance(data, dict) else None
        if not isinstance(attempts, list):
            raise TypeError("no attempts list")
    except FileNotFoundError:
        return [], None
    except (OSError, ValueError, KeyError, TypeError):
        return [], ("progress.note.quiz_unreadable", {"file": _rel(path, workspace)})
    return [a for a in attempts if isinstance(a, dict)], None


def quiz_progress(attempts: list[dict[str, Any]], chapter: str) -> QuizProgress | None:
    mine = [a for a in attempts if a.get("chapter") == chapter]
    if not mine:
        return None
    best: tuple[float, float] | None = None
    for a in mine:
        score, max_score = a.get("score"), a.get("max_score")
        if a.get("mode") == "graded" or not isinstance(score, (int, float)) or not isinstance(max_score, (int, float)):
            continue
        ratio = score / max_score if max_score else 0.0
        if best is None or ratio > (best[0] / best[1] if best[1] else 0.0):
            best = (float(score), float(max_score))
    return QuizProgress(
        attempts=len(mine),
        best_score=best[0] if best else None,
        best_max=best[1] if best else None,
        submitted=sum(a.get("mode") == "graded" for a in mine),
    )


def _has_quiz(workspace: Path, chapter: str) -> bool:
    folder = workspace / "quizzes"
    return folder.is_dir() and any(folder.glob(f"{chapter}.*"))


def quiz_only_chapters(catalog: Catalog, workspace: Path) -> list[Chapter]:
    """Chapters that have a question bank in ``quizzes/`` but no exercises in the catalog (chapter1)."""
    import re

    from grader.util.tomlcompat import tomllib

    folder = workspace / "quizzes"
    found = []
    for path in sorted(folder.glob("chapter*.toml")) if folder.is_dir() else []:
        match = re.fullmatch(r"chapter(\d+)", path.stem)
        if not match or path.stem in catalog.chapters:
            continue
        try:
            text = path.read_text(encoding="utf-8").split("\n[[question]]", 1)[0]  # the header is enough
            head = tomllib.loads(text).get("chapter", {})
        except (OSError, ValueError):
            head = {}
        found.append(
            Chapter(
                id=path.stem,
                number=int(match.group(1)),
                title=str(head.get("title", path.stem)),
                title_zh=str(head.get("title_zh", "")),
                source="",
                modules=(),
                exercises=(),
                test_timeout_s=0.0,
                memory_mb=None,
                needs=(),
            )
        )
    return found


def _number(value: object, default: float) -> float:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else default


def compute_status(catalog: Catalog, workspace: Path) -> Status:
    state, note = load_state(workspace)
    attempts, quiz_note = load_quiz_attempts(workspace)
    chapters = []
    every = sorted([*catalog.chapters.values(), *quiz_only_chapters(catalog, workspace)], key=lambda c: c.number)
    for chapter in every:
        record = state["chapters"].get(chapter.id) or {}
        found = record.get("exercises")
        recorded: dict[str, Any] = found if isinstance(found, dict) else {}
        exercises = []
        for ex in chapter.exercises:
            r = recorded.get(ex.id)
            if isinstance(r, dict) and r.get("state") in ("passed", "attempted", "not_started"):
                exercises.append(
                    ExerciseProgress(ex.id, r["state"], _number(r.get("score"), 0.0), _number(r.get("max_score"), float(ex.points)))
                )
            else:
                exercises.append(ExerciseProgress(ex.id, "not_started", 0.0, float(ex.points)))
        chapters.append(
            ChapterProgress(
                chapter=chapter,
                checked=record.get("checked") if isinstance(record.get("checked"), str) else None,
                exercises=tuple(exercises),
                quiz=quiz_progress(attempts, chapter.id),
                has_quiz=_has_quiz(workspace, chapter.id),
            )
        )
    notes = tuple(n for n in (note, quiz_note) if n)
    return Status(
        workspace=workspace,
        chapters=tuple(chapters),
        next=next_step(chapters),
        checked_any=any(c.checked for c in chapters),
        notes=notes,
    )


def next_step(chapters: list[ChapterProgress]) -> NextStep:
    """The first unfinished thing, in course order: check, fix, start, then the chapter's quiz."""
    for c in chapters:
        cid = c.chapter.id
        if c.exercises and not c.exercises_done:
            if c.checked is None:
                return NextStep("check", cid, None, f"grade check {cid}")
            for e in c.exercises:  # the first unfinished exercise, in the chapter's order
                if e.state == "attempted":
                    return NextStep("fix", cid, e.id, f"grade hint {e.id}")
                if e.state == "not_started":
                    return NextStep("start", cid, e.id, f"grade hint {e.id} 1")
        if c.has_quiz and c.quiz is None:
            return NextStep("quiz", cid, None, f"grade quiz {cid}")
    return NextStep("done", None, None, "grade status")


def describe_next(step: NextStep, catalog: Catalog, lang: str) -> tuple[str, str]:
    """The next step as (words, command) in ``lang``; command is '' when there is nothing to type."""
    from grader.util.i18n import t

    if step.kind == "check":
        return t("next.check", lang, chapter=step.chapter), step.command
    if step.kind == "fix":
        return t("next.fix", lang, id=step.exercise), step.command
    if step.kind == "start":
        ex = catalog.exercises[step.exercise or ""]
        where = f"exercises/{ex.chapter}/{ex.module}.py"
        return t("next.start", lang, id=ex.id, file=where, chapter=ex.chapter), step.command
    if step.kind == "quiz":
        return t("next.quiz", lang, chapter=step.chapter), step.command
    return t("next.done", lang), ""


# --- hints seen (``grade hint ID`` shows the next unseen one) ------------------------------


def hints_seen(workspace: Path, exercise: str) -> int:
    """How many of an exercise's hints the student has been shown (0 when unknown)."""
    state, _ = load_state(workspace)
    seen = state.get("hints")
    value = seen.get(exercise) if isinstance(seen, dict) else None
    return int(value) if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def record_hint_seen(workspace: Path, exercise: str, number: int) -> None:
    """Remember that hints 1..``number`` of ``exercise`` were shown (never lowers the count).
    Advisory like the rest of the file: a file that cannot be written is ignored."""
    record_hints_seen(workspace, {exercise: number})


def record_hints_seen(workspace: Path, numbers: dict[str, int]) -> None:
    """``record_hint_seen`` for several exercises at once, in one write of the file (a check
    of stubs shows the first hint of each exercise)."""
    if not numbers:
        return
    path = state_path(workspace)
    try:
        with _locked(path):
            state, _ = load_state(workspace)
            seen = state.get("hints") if isinstance(state.get("hints"), dict) else {}
            for exercise, number in numbers.items():
                old = seen.get(exercise, 0)
                seen[exercise] = max(number, old if isinstance(old, int) and not isinstance(old, bool) else 0)
            state["hints"] = seen
            write_json_atomic(path, state)
    except OSError:
        pass
