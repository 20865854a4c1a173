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
    items: dict[str, float] = field(default_factory=dict)  # question id -> points earned
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
            for answer in clean["answers"]:
                single = dict(clean, answers=[answer])
                try:
                    items[str(answer["question"])] = float(self.module.score_attempt(bank, single)[0])
                except Exception:  # noqa: BLE001
                    continue
            mode = "graded" if attempt.get("mode") == "graded" else "practice"
            scores.append(QuizScore(chapter, mode, float(score), float(max_score), items))
        return scores, notes


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
    return {
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


KEYLESS_NAMES = ("keyless_bank_text", "keyless_text", "strip_keys", "release_text", "graded_release_text")


def keyless_function(module: Any | None = None) -> Any | None:
    """The quiz package's function that renders a bank without its keys (name varies)."""
    module = module if module is not None else quiz_module()
    if module is None:
        return None
    for name in KEYLESS_NAMES:
        fn = getattr(module, name, None)
        if callable(fn):
            return fn
    return None
