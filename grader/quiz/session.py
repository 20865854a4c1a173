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


def parse_letters(text: str, presented: Presented, lang: str = "en") -> tuple[list[int] | None, str]:
    """Parse 'A', 'a', 'A,C', 'AC', 'A，C', 'a c' into option indexes. Returns (indexes, error)."""
    from grader.util.i18n import t

    raw = _SPLIT.sub("", text.strip()).upper()
    if not raw:
        return None, t("quiz.type_letters" if presented.question.type == "multiple" else "quiz.type_letter", lang)
    allowed = presented.letters
    bad = [ch for ch in raw if ch not in allowed]
    if bad:
        return None, t("quiz.not_a_letter", lang, bad="".join(dict.fromkeys(bad)), letters=", ".join(allowed))
    picks = sorted({allowed.index(ch) for ch in raw})
    if presented.question.type != "multiple" and len(picks) != 1:
        return None, t("quiz.one_letter", lang)
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
    stopped: bool = False  # input ended before the last question: the attempt is saved unfinished
    earlier: int = 0  # answers carried over from the interrupted attempt this one resumes

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
    resume: dict[str, Any] | None = None,
) -> SessionResult:
    """Ask every presented question; practice mode (bank has keys) scores as it goes.

    When input ends early (``STOP``: Ctrl-D, Ctrl-C, end of piped input) the attempt is
    recorded as unfinished (``"finished": None, "unfinished": True``, no score): the answers so
    far are kept and the unanswered questions are not counted as missed. ``resume`` is such an
    interrupted attempt: its answers come first, its start time and question list are kept, and
    ``presented`` holds only the questions it had left.
    """
    practice = bank.has_keys
    started = str(resume.get("started")) if resume and resume.get("started") else _now()
    earlier: list[dict[str, Any]] = []
    if resume:
        known = bank.by_id()
        for a in resume.get("answers", []) or []:
            if isinstance(a, dict) and a.get("question") in known and isinstance(a.get("selected"), list):
                earlier.append({"question": a["question"], "selected": [str(x) for x in a["selected"]],
                                "time_s": a.get("time_s", 0.0)})
    result = SessionResult(attempt={}, earlier=len(earlier))
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
    asked = _asked(resume, bank) if resume else [p.question.id for p in presented]
    attempt: dict[str, Any] = {
        "chapter": bank.chapter,
        "student": student,
        "mode": "practice" if practice else "graded",
        "seed": seed,
        "started": started,
        "finished": None if result.stopped else _now(),
        "answers": earlier + [{"question": r.presented.question.id, "selected": r.selected, "time_s": r.time_s}
                              for r in result.results],
        "score": None,
        "max_score": None,
    }
    if result.stopped:
        attempt["unfinished"] = True
    variants = {q.id: q.variant for q in bank.questions if q.variant is not None}
    if variants:
        attempt["variants"] = variants  # for the record only: collection re-derives them from the student's id
    if asked != [q.id for q in bank.questions]:
        attempt["questions"] = asked  # a retry: only these were asked
    if practice and not result.stopped:
        from grader.quiz.scoring import score_attempt

        attempt["score"], attempt["max_score"] = score_attempt(bank, attempt)
    result.attempt = attempt
    return result


def _asked(attempt: dict[str, Any], bank: Bank) -> list[str]:
    """The question ids an attempt asks, in order (all of the bank's unless it names them)."""
    recorded = attempt.get("questions")
    known = bank.by_id()
    if isinstance(recorded, list):
        return [q for q in dict.fromkeys(str(x) for x in recorded) if q in known]
    return [q.id for q in bank.questions]


def resumable(attempts: list[dict[str, Any]], bank: Bank) -> dict[str, Any] | None:
    """The interrupted attempt a new sitting can carry on: the student's last attempt at this
    chapter, when it was left unfinished in this bank's mode and still has questions left."""
    if not attempts:
        return None
    last = attempts[-1]
    mode = "practice" if bank.has_keys else "graded"
    if not last.get("unfinished") or last.get("mode") != mode or not isinstance(last.get("seed"), int):
        return None
    return last if remaining(last, bank) else None


def remaining(attempt: dict[str, Any], bank: Bank) -> list[Presented]:
    """The questions an interrupted attempt has left, presented as they were (same seed, same
    numbers out of the same total)."""
    by_id = bank.by_id()
    answered = {a.get("question") for a in attempt.get("answers", []) or [] if isinstance(a, dict)}
    everything = present([by_id[q] for q in _asked(attempt, bank)], int(attempt.get("seed", 0)))
    return [p for p in everything if p.question.id not in answered]


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
            picks, error = parse_letters(line, presented, lang)
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
        from grader.util.i18n import t

        q = presented.question
        value = self.answers.get(q.id)
        if value is None:
            return SKIP
        ids = {o.id for o in q.options}
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            if all(v in ids for v in value) and value:
                if q.type != "multiple" and len(set(value)) != 1:
                    self.problems.append(t("quiz.file.one_expected", lang, id=q.id, n=len(value)))
                    return SKIP
                return list(dict.fromkeys(value))
            unknown = ", ".join(v for v in value if v not in ids) or t("quiz.file.none_given", lang)
            self.problems.append(t("quiz.file.unknown_ids", lang, id=q.id, ids=unknown))
            return SKIP
        if isinstance(value, str):
            if value in ids:
                return [value]
            picks, error = parse_letters(value, presented, lang)
            if picks is not None:
                return presented.ids_for(picks)
            self.problems.append(f"{q.id}: {error}")
            return SKIP
        self.problems.append(t("quiz.file.bad_value", lang, id=q.id))
        return SKIP
