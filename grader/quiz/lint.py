"""Lint for question banks: no key guessable from the wording alone.

``lint_bank`` lists what in a bank's wording points at the key (longest options keyed,
true/false skew, "all of the above", numbers that differ between English and Chinese);
``guess_scores`` scores wording-only strategies with the real scoring. Apart from the bank
so that the bank does not import the scoring (which imports the bank).
"""

from __future__ import annotations

import re

from grader.quiz.bank import Bank, Option, Question
from grader.quiz.scoring import score_question

GUESS_MARGIN = 10.0  # percentage points above chance that a wording-only strategy may score
REVERSE_MARGIN = 15.0  # points below chance that a length strategy may score (else "never pick it" leaks)
REVERSIBLE = ("longest (en)", "longest (zh)", "shortest (en)")
_ALL_NONE = re.compile(r"\b(all|none|both|neither) of the (above|others)\b|以上(都|全|皆|均)|以上各项|都不(对|是|正确)", re.IGNORECASE)
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


def _strictly_longest(q: Question, lang: str) -> Option | None:
    lengths = [len(o.label(lang).strip()) for o in q.options]
    top = max(lengths)
    return q.options[lengths.index(top)] if lengths.count(top) == 1 else None


def _longest(q: Question, lang: str) -> Option:
    lengths = [len(o.label(lang).strip()) for o in q.options]
    return q.options[lengths.index(max(lengths))]


def _shortest(q: Question, lang: str) -> Option:
    lengths = [len(o.label(lang).strip()) for o in q.options]
    return q.options[lengths.index(min(lengths))]


def _true_option(q: Question) -> Option:
    return next((o for o in q.options if o.id == "true" or o.text.strip().lower() == "true"), q.options[0])


def guess_scores(bank: Bank) -> dict[str, tuple[float, float, int]]:
    """Strategy -> (score %, chance %, questions) for answering from the wording alone, scored
    with the real scoring function. Chance is the expected score of a uniformly random answer:
    one random option for single and true/false (and for a one-tick strategy on a multiple-answer
    question: 1/n either way), a uniformly random non-empty set of options for "tick all"."""
    from itertools import combinations

    def run(questions: list[Question], pick) -> tuple[float, float, int]:
        if not questions:
            return (0.0, 0.0, 0)
        got = sum(score_question(q, pick(q)) / q.points for q in questions)
        chance = sum(1 / len(q.options) for q in questions)
        return (100 * got / len(questions), 100 * chance / len(questions), len(questions))

    choosers = [q for q in bank.questions if q.type in ("single", "multiple")]
    tf = [q for q in bank.questions if q.type == "truefalse"]
    multi = [q for q in bank.questions if q.type == "multiple"]
    out = {
        "longest (en)": run(choosers, lambda q: [_longest(q, "en").id]),
        "longest (zh)": run(choosers, lambda q: [_longest(q, "zh").id]),
        "shortest (en)": run(choosers, lambda q: [_shortest(q, "en").id]),
        "always True": run(tf, lambda q: [_true_option(q).id]),
        "first option": run(list(bank.questions), lambda q: [q.options[0].id]),
        "longest, else True": run(
            list(bank.questions), lambda q: [_true_option(q).id] if q.type == "truefalse" else [_longest(q, "en").id]
        ),
    }
    if multi:
        got = sum(score_question(q, [o.id for o in q.options]) / q.points for q in multi)
        chance = 0.0
        for q in multi:
            ids = [o.id for o in q.options]
            subsets = [c for r in range(1, len(ids) + 1) for c in combinations(ids, r)]
            chance += sum(score_question(q, list(c)) / q.points for c in subsets) / len(subsets)
        out["tick all"] = (100 * got / len(multi), 100 * chance / len(multi), len(multi))
    else:
        out["tick all"] = (0.0, 0.0, 0)
    return out


def lint_bank(bank: Bank) -> list[str]:
    """What in a bank's wording points at the key, as sentences (empty: nothing found).

    - the key is the strictly longest option (by characters, English and Chinese each) in at
      most 30 % of the single-answer questions;
    - 40-60 % of the true/false questions are keyed False;
    - multiple-answer questions have 1 to 4 right options, at least three different counts
      in the bank (and not one count for all questions with the same number of options),
      and ticking every option scores 0 (real scoring);
    - no "all/none of the above";
    - an option says the same numbers in English and Chinese (the two texts are one option);
    - no wording-only strategy (``guess_scores``) beats chance by more than GUESS_MARGIN points,
      and no length strategy falls more than REVERSE_MARGIN below it (its opposite would leak).
    """
    problems: list[str] = []
    singles = [q for q in bank.questions if q.type == "single"]
    for lang in ("en", "zh"):
        keyed_longest = [q.id for q in singles if (o := _strictly_longest(q, lang)) is not None and o.correct]
        if singles and len(keyed_longest) > 0.30 * len(singles):
            problems.append(
                f"the key is the strictly longest option ({lang}) in {len(keyed_longest)} of {len(singles)} "
                f"single-answer questions (at most 30 %): {', '.join(keyed_longest)}"
            )
    tf = [q for q in bank.questions if q.type == "truefalse"]
    if tf:
        false_keyed = sum(1 for q in tf if not _true_option(q).correct)
        if not 0.40 <= false_keyed / len(tf) <= 0.60:
            problems.append(f"{false_keyed} of {len(tf)} true/false questions are keyed False (40-60 % wanted)")
    multi = [q for q in bank.questions if q.type == "multiple"]
    counts = {q.id: sum(bool(o.correct) for o in q.options) for q in multi}
    for qid, k in counts.items():
        if not 1 <= k <= 4:
            problems.append(f"{qid}: {k} right options (1 to 4 wanted)")
    if multi and len(set(counts.values())) < 3:
        problems.append(f"multiple-answer questions have only {sorted(set(counts.values()))} right options (three different counts wanted)")
    by_size: dict[int, set[int]] = {}
    for q in multi:
        by_size.setdefault(len(q.options), set()).add(counts[q.id])
    for size, ks in by_size.items():
        same_size = [q for q in multi if len(q.options) == size]
        if len(same_size) >= 2 and len(ks) == 1:
            problems.append(f"every multiple-answer question with {size} options has {ks.pop()} right: the option count gives the key count away")
    for q in multi:
        tick_all = score_question(q, [o.id for o in q.options])
        if tick_all > 0:
            problems.append(f"{q.id}: ticking every option scores {tick_all:g} (0 wanted: at most half the options right)")
    for q in bank.questions:
        for o in q.options:
            if _ALL_NONE.search(o.text) or _ALL_NONE.search(o.text_zh):
                problems.append(f"{q.id}: option {o.id} is an all/none-of-the-above option")
            if sorted(_NUMBER.findall(o.text)) != sorted(_NUMBER.findall(o.text_zh)):
                problems.append(f"{q.id}: option {o.id} has different numbers in English and Chinese")
        if sorted(_NUMBER.findall(q.text)) != sorted(_NUMBER.findall(q.text_zh)):
            problems.append(f"{q.id}: the question has different numbers in English and Chinese")
    for name, (score, chance, n) in guess_scores(bank).items():
        if n and score > chance + GUESS_MARGIN:
            problems.append(f"answering by '{name}' scores {score:.0f} % on {n} questions (chance {chance:.0f} %)")
        if n and name in REVERSIBLE and score < chance - REVERSE_MARGIN:
            problems.append(f"answering by '{name}' scores only {score:.0f} % on {n} questions (chance {chance:.0f} %): never picking it would pay")
    return problems
