"""Adapter to the quiz package (``grader.quiz``), imported lazily.

Collection re-scores every recorded attempt from the instructor's keyed bank with
``score_attempt``; the ``score`` a student's workspace wrote is ignored, and so is the
attempt's own list of questions: the questions and the maximum are the bank's. Per-question
scores (for item analysis) come from scoring one answer at a time. When the quiz
package is missing, quiz scoring is skipped with a note instead of failing collection.
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grader.instructor.submission import clean_text


@dataclass
class QuizScore:
    chapter: str
    mode: str  # "graded" | "practice"
    score: float
    max_score: float
    items: dict[str, float] = field(default_factory=dict)  # question id -> fraction of its points earned
    note: str = ""


def quiz_module() -> Any | None:
    try:
        return importlib.import_module("grader.quiz")
    except ImportError:
        return None


class QuizScorer:
    """Loads each chapter's keyed bank once and scores attempts against it."""

    def __init__(self, root: Path | None = None, module: Any | None = None) -> None:
        self.module = module if module is not None else quiz_module()
        self.root = root
        self._banks: dict[str, Any] = {}
        self.notes: list[str] = []
        # filed-under id -> the id template questions are keyed by (``roster_identity``)
        self.identity: Callable[[str], str] | None = None
        if self.module is None:
            self.notes.append("quiz package (grader.quiz) not installed: quizzes were not scored")

    def _bank(self, chapter: str, quiet: bool = False) -> Any | None:
        if chapter not in self._banks:
            assert self.module is not None
            try:
                self._banks[chapter] = self.module.load_bank(chapter, root=self.root)
            except Exception as exc:  # noqa: BLE001 - a missing bank must not stop collection
                self._banks[chapter] = None
                if not quiet:
                    self.notes.append(f"no quiz bank for {chapter} ({type(exc).__name__})")
        return self._banks[chapter]

    def score(self, responses: dict[str, Any] | None,
              only: Iterable[str] | None = None, student: str | None = None) -> tuple[list[QuizScore], list[str]]:
        """The counted attempt per chapter (the last graded one, else the last practice one),
        scored from the keyed bank only: the questions and the maximum are the bank's, an
        answer counts once (the first for its question), unknown ids count nothing. Chapter
        names are normalised first (``3``, ``ch3``, ``Chapter3`` are ``chapter3``); an
        attempt for a chapter without a bank is a problem, never a column; so is one for a
        chapter outside ``only`` (``grade collect --chapter``), when given.

        ``student`` is the id the submission is filed under (from the instructor's side): a
        template question is scored against that student's instance, derived again here from
        the id, the chapter and the bank. What the attempt records (its ``student``, ``seed``,
        ``variants``) takes no part; a claim that disagrees is a note."""
        if self.module is None or not responses:
            return [], []
        notes: list[str] = []
        chosen: dict[str, dict[str, Any]] = {}
        no_bank: dict[str, int] = {}  # chapter named -> attempts (one note for all: a flood stays one line)
        allowed = set(only) if only is not None else None
        outside: set[str] = set()
        attempts = responses.get("attempts", []) if isinstance(responses, dict) else []
        for attempt in attempts if isinstance(attempts, list) else []:
            if not isinstance(attempt, dict) or not isinstance(attempt.get("chapter"), (str, int)):
                continue
            raw = str(attempt["chapter"])[:40]
            chapter = canonical_chapter(raw)
            if chapter is None or self._bank(chapter, quiet=True) is None:
                no_bank[raw] = no_bank.get(raw, 0) + 1
                continue
            if allowed is not None and chapter not in allowed:
                outside.add(chapter)
                continue
            mode = "graded" if attempt.get("mode") == "graded" else "practice"
            previous = chosen.get(chapter)
            if previous is None or mode == "graded" or previous.get("mode") != "graded":
                chosen[chapter] = attempt
        if no_bank:
            shown = ", ".join(repr(clean_text(raw, 40)) for raw in list(no_bank)[:5])
            more = f" and {len(no_bank) - 5} more" if len(no_bank) > 5 else ""
            n = sum(no_bank.values())
            notes.append(f"quiz attempt{'s' if n > 1 else ''} for {shown}{more}: there is no such quiz bank "
                         "(not scored)")
        if outside:
            notes.append(f"quiz {', '.join(sorted(outside))}: not scored (not among the chapters collected)")
        scores = []
        for chapter, attempt in sorted(chosen.items()):
            bank = self._bank(chapter)
            ids = _bank_ids(bank)
            if not ids:
                notes.append(f"{chapter} quiz: the bank has no questions (not scored)")
                continue
            if getattr(bank, "has_templates", False):
                key = self.identity(student) if self.identity is not None and student else student
                try:
                    bank = bank.for_student(key)
                except Exception as exc:  # noqa: BLE001 - a broken template is a note, not the end of grading
                    notes.append(f"{chapter} quiz: its template questions could not be instantiated ({type(exc).__name__})")
                    continue
                notes.extend(_variant_notes(chapter, attempt, bank, key))
            clean, dropped = _clean_attempt(attempt, chapter, ids)
            if dropped:
                notes.append(f"{chapter} quiz: {dropped} answers ignored (repeated or unknown questions)")
            try:
                score, max_score = self.module.score_attempt(bank, clean)
            except Exception as exc:  # noqa: BLE001 - malformed responses are the student's
                notes.append(f"{chapter} quiz: responses could not be scored ({type(exc).__name__})")
                continue
            items: dict[str, float] = {}
            for qid in ids:
                # One question at a time: (points earned, points possible) for item analysis.
                try:
                    earned, possible = self.module.score_attempt(bank, dict(clean, questions=[qid]))
                except Exception:  # noqa: BLE001
                    continue
                if possible:
                    items[qid] = float(earned) / float(possible)
            mode = "graded" if attempt.get("mode") == "graded" else "practice"
            scores.append(QuizScore(chapter, mode, float(score), float(max_score), items))
        return scores, notes


    def maxima(self, chapters: list[str]) -> dict[str, float]:
        """Each chapter's quiz maximum from its keyed bank (an untaken quiz is 0 of it):
        scored as an attempt with no answers, so the maximum is exactly what a taken quiz
        is scored out of. Chapters without a bank are left out (with a note)."""
        out: dict[str, float] = {}
        if self.module is None:
            return out
        for chapter in chapters:
            bank = self._bank(chapter)
            ids = _bank_ids(bank)
            if not ids:
                continue
            clean, _ = _clean_attempt({"answers": []}, chapter, ids)
            try:
                out[chapter] = float(self.module.score_attempt(bank, clean)[1])
            except Exception as exc:  # noqa: BLE001 - a broken bank is a note, not the end of grading
                self.notes.append(f"{chapter} quiz: its maximum could not be computed ({type(exc).__name__})")
        return out


def _variant_notes(chapter: str, attempt: dict[str, Any], bank: Any, student: str | None) -> list[str]:
    """What an attempt claims about its numbers that the student's own instances contradict
    (a responses file from another student, or edited): said, never used."""
    from grader.instructor.submission import normalise_student

    notes = []
    claimed = attempt.get("student")
    if isinstance(claimed, str) and student and normalise_student(claimed) != normalise_student(student):
        notes.append(f"{chapter} quiz: answered as {clean_text(claimed, 64)!r}; template questions scored with "
                     f"the numbers of {clean_text(student, 64)!r}, this submission's student")
    variants = attempt.get("variants")
    if isinstance(variants, dict):
        own = {q.id: q.variant for q in bank.questions if getattr(q, "variant", None) is not None}
        differ = sum(1 for qid, v in list(variants.items())[:500] if qid in own and v != own[qid])
        if differ:
            notes.append(f"{chapter} quiz: the responses claim other numbers for {differ} template question"
                         f"{'s' if differ > 1 else ''} (ignored: scored with the student's own)")
    return notes


def roster_identity(roster: Any | None) -> Callable[[str], str]:
    """The id a student's template numbers are keyed by, from the instructor's side: for a
    submission that belongs to a roster row, the row's SIS login (else its email, else its
    id), the names a student knows and types as ``grade quiz --student``; otherwise the id
    the submission is filed under (its file or folder name, Gradescope's metadata). One id
    per student: nothing a student writes picks among them."""
    from grader.instructor.submission import normalise_student

    if roster is None:
        return lambda student: student
    from grader.instructor.roster import match

    def identity(student: str) -> str:
        matching = match(roster, [student])
        entry = matching.by_student.get(student.casefold()) if matching is not None else None
        if entry is None:
            return student
        chosen = next((v for v in (entry.sis_login_id, entry.email, entry.id) if v), student)
        return normalise_student(chosen)

    return identity


def canonical_chapter(raw: str) -> str | None:
    """The catalog's spelling of a chapter id (``3``, ``ch3``, ``Chapter3`` -> ``chapter3``),
    or None when ``raw`` names no chapter at all."""
    import re

    from grader.grading.catalog import normalize_chapter

    name = normalize_chapter(clean_text(raw, 40))
    return name if re.fullmatch(r"chapter[1-9]\d?", name) else None


def _bank_ids(bank: Any) -> list[str]:
    by_id = getattr(bank, "by_id", None)
    try:
        return [str(q) for q in by_id()] if callable(by_id) else []
    except Exception:  # noqa: BLE001
        return []


def _clean_attempt(attempt: dict[str, Any], chapter: str, bank_ids: list[str]) -> tuple[dict[str, Any], int]:
    """Only what scoring needs: the first answer to each of the bank's questions (option ids
    as short strings); recorded scores and the attempt's own question list are dropped.
    Returns the attempt and how many answers were ignored."""
    known = set(bank_ids)
    answers: dict[str, dict[str, Any]] = {}
    dropped = 0
    raw = attempt.get("answers")
    for a in raw[:5000] if isinstance(raw, list) else []:
        qid = a.get("question") if isinstance(a, dict) else None
        if not isinstance(qid, str) or qid not in known or qid in answers or not isinstance(a.get("selected"), list):
            dropped += 1
            continue
        answers[qid] = {
            "question": qid,
            "selected": list(dict.fromkeys(s for s in a["selected"][:50] if isinstance(s, str) and len(s) <= 64)),
            "time_s": _seconds(a.get("time_s")),
        }
    clean: dict[str, Any] = {
        "chapter": chapter,
        "mode": "graded" if attempt.get("mode") == "graded" else "practice",
        "seed": attempt.get("seed") if isinstance(attempt.get("seed"), int) else 0,
        "answers": list(answers.values()),
        "questions": list(bank_ids),  # the bank's, never the attempt's
        "score": None,
        "max_score": None,
    }
    return clean, dropped


def _seconds(value: Any) -> float:
    """An answer's recorded time, or 0.0 (a 400-digit int or an infinite float from a
    hand-edited file must not stop the scoring of the whole attempt)."""
    try:
        seconds = float(value) if isinstance(value, (int, float)) else 0.0
    except (OverflowError, ValueError):
        return 0.0
    return seconds if math.isfinite(seconds) else 0.0


def keyless_text(chapter: str, root: Path, module: Any | None = None) -> str | None:
    """The bank of ``chapter`` as a graded release ships it (no keys), or None without
    the quiz package. ``strip_keys(bank) -> str`` is the quiz package's function."""
    module = module if module is not None else quiz_module()
    if module is None or not callable(getattr(module, "strip_keys", None)):
        return None
    return str(module.strip_keys(module.load_bank(chapter, root=root)))
