"""One sitting of a quiz: seeded option order, asking, timing, scoring, the attempt record.

The session does not know how a question is asked: an ``Asker`` (plain lettered prompt,
arrow-key prompt, answers file) returns the chosen option ids, ``SKIP`` (no answer: nothing
is recorded for it) or ``STOP`` (end of input: nothing is recorded for the rest).
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import random
import re
import string
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from grader.quiz.bank import Bank, Option, Question
from grader.quiz.scoring import score_question

LETTERS = string.ascii_uppercase


class _Sentinel:
    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


SKIP = _Sentinel("SKIP")
STOP = _Sentinel("STOP")
Reply = list[str] | _Sentinel


@dataclass(frozen=True)
class Presented:
    """A question as the student sees it: options in the seeded display order."""

    question: Question
    options: tuple[Option, ...]  # display order; letter i is options[i]
    number: int  # 1-based position in the session
    total: int

    @property
    def letters(self) -> str:
        return LETTERS[: len(self.options)]

    def ids_for(self, indexes: list[int]) -> list[str]:
        return [self.options[i].id for i in indexes]

    def letter_of(self, option_id: str) -> str:
        for i, o in enumerate(self.options):
            if o.id == option_id:
                return LETTERS[i]
        return "?"


class Asker(Protocol):
    def ask(self, presented: Presented, lang: str) -> Reply: ...


def derive_seed(student: str | None, chapter: str, attempt_number: int) -> int:
    """A seed that differs per student and per attempt, and is the same when recomputed."""
    key = f"{student or '-'}|{chapter}|{attempt_number}".encode()
    return int.from_bytes(hashlib.sha256(key).digest()[:4], "big")


def option_order(question: Question, seed: int) -> tuple[Option, ...]:
    """The display order of a question's options for a seed (true/false keeps True, False)."""
    options = list(question.options)
    if question.type != "truefalse":
        random.Random(f"{seed}:{question.id}").shuffle(options)
    return tuple(options)


def present(questions: list[Question] | tuple[Question, ...], seed: int) -> list[Presented]:
    total = len(questions)
    return [Presented(q, option_order(q, seed), i, total) for i, q in enumerate(questions, 1)]


_SPLIT = re.compile(r"[\s,，、;；/]+")


def parse_letters(text: str, presented: Presented) -> tuple[list[int] | None, str]:
    """Parse 'A', 'a', 'A,C', 'AC', 'A，C', 'a c' into option indexes. Returns (indexes, error)."""
    raw = _SPLIT.sub("", text.strip()).upper()
    if not raw:
        return None, "Type a letter" + ("s" if presented.question.type == "multiple" else "") + "."
    allowed = presented.letters
    bad = [ch for ch in raw if ch not in allowed]
    if bad:
        return None, f"'{''.join(dict.fromkeys(bad))}' is not one of the letters {', '.join(allowed)}."
    picks = sorted({allowed.index(ch) for ch in raw})
    if presented.question.type != "multiple" and len(picks) != 1:
        return None, "Pick exactly one letter for this question."
    return picks, ""


@dataclass
class QuestionResult:
    presented: Presented
    selected: list[str]  # option ids
    time_s: float
    score: float | None  # None in graded mode


@dataclass
class SessionResult:
    attempt: dict[str, Any]  # the record stored in quiz_responses.json
    results: list[QuestionResult] = field(default_factory=list)
    unanswered: list[Presented] = field(default_factory=list)
    stopped: bool = False  # input ended before the last question

    @property
    def missed(self) -> list[Presented]:
        wrong = [r.presented for r in self.results if r.score is not None and r.score < r.presented.question.points - 1e-9]
        return wrong + self.unanswered


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).astimezone().isoformat(timespec="seconds")


def run_session(
    bank: Bank,
    presented: list[Presented],
    asker: Asker,
    *,
    seed: int,
    student: str | None,
    lang: str = "en",
    on_answer: Callable[[QuestionResult], None] | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> SessionResult:
    """Ask every presented question; practice mode (bank has keys) scores as it goes."""
    practice = bank.has_keys
    started = _now()
    result = SessionResult(attempt={})
    for i, p in enumerate(presented):
        t0 = clock()
        reply = asker.ask(p, lang)
        elapsed = round(clock() - t0, 3)
        if reply is STOP:
            result.stopped = True
            result.unanswered.extend(presented[i:])
            break
        if reply is SKIP or not isinstance(reply, list):
            result.unanswered.append(p)
            continue
        chosen = set(reply)
        selected = [o.id for o in p.question.options if o.id in chosen]  # bank order, not display order
        score = score_question(p.question, selected) if practice else None
        qr = QuestionResult(p, selected, elapsed, score)
        result.results.append(qr)
        if on_answer is not None:
            on_answer(qr)
    attempt: dict[str, Any] = {
        "chapter": bank.chapter,
        "student": student,
        "mode": "practice" if practice else "graded",
        "seed": seed,
        "started": started,
        "finished": _now(),
        "answers": [{"question": r.presented.question.id, "selected": r.selected, "time_s": r.time_s} for r in result.results],
        "score": None,
        "max_score": None,
    }
    if len(presented) != len(bank.questions):
        attempt["questions"] = [p.question.id for p in presented]  # a retry: only these were asked
    if practice:
        from grader.quiz.scoring import score_attempt

        attempt["score"], attempt["max_score"] = score_attempt(bank, attempt)
    result.attempt = attempt
    return result


# --- askers that need no terminal -----------------------------------------------------


class LineAsker:
    """The plain lettered prompt: reads lines from ``readline`` ('' means end of input)."""

    def __init__(self, readline: Callable[[], str], show: Callable[[Presented, str], None], say: Callable[[str], None]) -> None:
        self.readline = readline
        self.show = show
        self.say = say

    def ask(self, presented: Presented, lang: str) -> Reply:
        self.show(presented, lang)
        while True:
            line = self.readline()
            if line == "":
                return STOP
            picks, error = parse_letters(line, presented)
            if picks is not None:
                return presented.ids_for(picks)
            self.say(error)


class FileAsker:
    """Answers from a file: ``{question id: [option ids] or "letters"}``. A question the file
    does not answer is left unanswered (never defaulted)."""

    def __init__(self, answers: dict[str, Any]) -> None:
        self.answers = answers
        self.problems: list[str] = []

    def ask(self, presented: Presented, lang: str) -> Reply:
        q = presented.question
        value = self.answers.get(q.id)
        if value is None:
            return SKIP
        ids = {o.id for o in q.options}
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            if all(v in ids for v in value) and value:
                if q.type != "multiple" and len(set(value)) != 1:
                    self.problems.append(f"{q.id}: one option expected, got {len(value)}")
                    return SKIP
                return list(dict.fromkeys(value))
            self.problems.append(f"{q.id}: unknown option id(s) {', '.join(v for v in value if v not in ids) or '(none given)'}")
            return SKIP
        if isinstance(value, str):
            if value in ids:
                return [value]
            picks, error = parse_letters(value, presented)
            if picks is not None:
                return presented.ids_for(picks)
            self.problems.append(f"{q.id}: {error}")
            return SKIP
        self.problems.append(f"{q.id}: answer must be a list of option ids or a string of letters")
        return SKIP
