"""Scoring, always recomputed from the bank's keys (a recorded score is never trusted).

Single and true/false: full points for the correct option, else 0.
Multiple: (right picks - wrong picks) / number of correct options, floored at 0, times the
points. Ticking every option therefore scores (k - (n - k)) / k, which is 0 whenever at
least half the options are wrong, and never more than picking only the right ones.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from grader.quiz.bank import Bank, Question


def score_question(question: Question, selected: Iterable[str]) -> float:
    """Points earned for one question; unknown option ids are ignored."""
    known = {o.id: o for o in question.options}
    picked = {s for s in selected if s in known}
    correct = {o.id for o in question.options if o.correct}
    if not correct or not picked:
        return 0.0
    if question.type == "multiple":
        right = len(picked & correct)
        wrong = len(picked - correct)
        return question.points * max(0.0, (right - wrong) / len(correct))
    if len(picked) != 1:
        return 0.0
    return question.points if picked <= correct else 0.0


def points(value: float) -> float:
    """A score as shown to a person: 2 decimals everywhere (0.333333 shows as 0.33, next to
    3.33/22), so a partial score, a total and a status line agree."""
    return round(float(value), 2) + 0.0  # + 0.0: never "-0"


def is_right(question: Question, selected: Iterable[str]) -> bool:
    return score_question(question, selected) >= question.points - 1e-9


def score_attempt(bank: Bank, attempt: dict[str, Any]) -> tuple[float, float]:
    """(score, max_score) of an attempt dict (the stored response format) from the bank's keys.

    The maximum counts every question of the bank that the attempt asked about, plus the
    bank's other questions unless the attempt names only a subset ("questions" key, as a
    retry session writes it). Answers to unknown question ids are ignored.
    """
    by_id = bank.by_id()
    asked = attempt.get("questions")
    if isinstance(asked, list):
        # each question once, whatever the list repeats: a question is worth its points
        ids = list(dict.fromkeys(q for q in asked if isinstance(q, str) and q in by_id))
    else:
        ids = list(by_id)
    answers: dict[str, list[str]] = {}
    for answer in attempt.get("answers", []) or []:
        if not isinstance(answer, dict):
            continue
        qid = answer.get("question")
        selected = answer.get("selected", [])
        if isinstance(qid, str) and qid in by_id and qid not in answers and isinstance(selected, list):
            answers[qid] = [str(s) for s in selected]  # the first answer counts; repeats count nothing
    score = sum(score_question(by_id[qid], answers.get(qid, [])) for qid in ids)
    max_score = sum(by_id[qid].points for qid in ids)
    return round(score, 6), round(max_score, 6)
