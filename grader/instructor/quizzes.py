"""Adapter to the quiz package (``grader.quiz``), imported lazily.

Collection re-scores every recorded attempt from the instructor's keyed bank with
``score_attempt``; the ``score`` a student's workspace wrote is ignored. Per-question
scores (for item analysis) come from scoring one answer at a time. When the quiz
package is missing, quiz scoring is skipped with a note instead of failing collection.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


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
        if self.module is None:
            self.notes.append("quiz package (grader.quiz) not installed: quizzes were not scored")

    def _bank(self, chapter: str) -> Any | None:
        if chapter not in self._banks:
            assert self.module is not None
            try:
                self._banks[chapter] = self.module.load_bank(chapter, root=self.root)
            except Exception as exc:  # noqa: BLE001 - a missing bank must not stop collection
                self._banks[chapter] = None
                self.notes.append(f"no quiz bank for {chapter} ({type(exc).__name__}: {exc})")
        return self._banks[chapter]

    def score(self, responses: dict[str, Any] | None) -> tuple[list[QuizScore], list[str]]:
        """The counted attempt per chapter (the last graded one, else the last practice one)."""
        if self.module is None or not responses:
            return [], []
        notes: list[str] = []
        chosen: dict[str, dict[str, Any]] = {}
        for attempt in responses.get("attempts", []):
            if not isinstance(attempt, dict) or not isinstance(attempt.get("chapter"), str):
                continue
            chapter = attempt["chapter"]
            mode = "graded" if attempt.get("mode") == "graded" else "practice"
            previous = chosen.get(chapter)
            if previous is None or mode == "graded" or previous.get("mode") != "graded":
                chosen[chapter] = attempt
        scores = []
        for chapter, attempt in sorted(chosen.items()):
            bank = self._bank(chapter)
            if bank is None:
                notes.append(f"{chapter} quiz: no bank to score it with")
                continue
            clean = _clean_attempt(attempt)
            try:
                score, max_score = self.module.score_attempt(bank, clean)
            except Exception as exc:  # noqa: BLE001 - malformed responses are the student's
                notes.append(f"{chapter} quiz: responses could not be scored ({type(exc).__name__})")
                continue
            items: dict[str, float] = {}
            asked = clean.get("questions") or _bank_ids(bank) or [a["question"] for a in clean["answers"]]
            for qid in asked:
                # One question at a time: (points earned, points possible) for item analysis.
                single = dict(clean, questions=[qid])
                try:
                    earned, possible = self.module.score_attempt(bank, single)
                except Exception:  # noqa: BLE001
                    continue
                if possible:
                    items[str(qid)] = float(earned) / float(possible)
            mode = "graded" if attempt.get("mode") == "graded" else "practice"
            scores.append(QuizScore(chapter, mode, float(score), float(max_score), items))
        return scores, notes


def _bank_ids(bank: Any) -> list[str]:
    by_id = getattr(bank, "by_id", None)
    try:
        return [str(q) for q in by_id()] if callable(by_id) else []
    except Exception:  # noqa: BLE001
        return []


def _clean_attempt(attempt: dict[str, Any]) -> dict[str, Any]:
    """Only the fields scoring needs; recorded scores are dropped so nothing can rely on them."""
    answers = []
    for a in attempt.get("answers", []) if isinstance(attempt.get("answers"), list) else []:
        if isinstance(a, dict) and isinstance(a.get("question"), str) and isinstance(a.get("selected"), list):
            answers.append({
                "question": a["question"],
                "selected": [s for s in a["selected"] if isinstance(s, str)][:50],
                "time_s": float(a["time_s"]) if isinstance(a.get("time_s"), (int, float)) else 0.0,
            })
    clean: dict[str, Any] = {
        "chapter": attempt.get("chapter"),
        "student": attempt.get("student"),
        "mode": attempt.get("mode"),
        "seed": attempt.get("seed") if isinstance(attempt.get("seed"), int) else 0,
        "started": attempt.get("started"),
        "finished": attempt.get("finished"),
        "answers": answers,
        "score": None,
        "max_score": None,
    }
    asked = attempt.get("questions")
    if isinstance(asked, list):
        clean["questions"] = [q for q in asked if isinstance(q, str)][:500]
    return clean


def keyless_text(chapter: str, root: Path, module: Any | None = None) -> str | None:
    """The bank of ``chapter`` as a graded release ships it (no keys), or None without
    the quiz package. ``strip_keys(bank) -> str`` is the quiz package's function."""
    module = module if module is not None else quiz_module()
    if module is None or not callable(getattr(module, "strip_keys", None)):
        return None
    return str(module.strip_keys(module.load_bank(chapter, root=root)))
