"""Bank lint (issue 14): no key guessable from the wording, evidence in the cited section,
enough questions of every kind. Runs over every shipped bank, one test per bank; the second
half checks that the lint itself catches what it should."""

from __future__ import annotations

import pytest
from test_quiz_banks import NOTES

from grader.quiz import load_bank
from grader.quiz.bank import PACKAGE_ROOT, bank_from_dict, check_sources
from grader.quiz.lint import GUESS_MARGIN, REVERSE_MARGIN, REVERSIBLE, guess_scores, lint_bank
from grader.quiz.scoring import score_question

CHAPTERS = [f"chapter{n}" for n in range(1, 9)]
STRATEGIES = ["longest (en)", "longest (zh)", "shortest (en)", "always True", "first option", "tick all"]


STUDENTS = [f"student{i}" for i in range(25)]  # template questions: the instances 25 students get


def _bank(chapter, student=None):
    return load_bank(chapter, root=PACKAGE_ROOT).for_student(student)


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_lint_finds_nothing(chapter):
    for student in [None, *STUDENTS]:
        assert lint_bank(_bank(chapter, student)) == [], student


@pytest.mark.parametrize("student", [None, *STUDENTS[:8]])
@pytest.mark.parametrize("chapter", CHAPTERS)
def test_wording_only_strategies_score_at_most_chance_plus_10(chapter, student):
    scores = guess_scores(_bank(chapter, student))
    for name in STRATEGIES:
        score, chance, n = scores[name]
        assert n > 0, name
        assert score <= chance + GUESS_MARGIN, (name, round(score), round(chance))
        if name in REVERSIBLE:
            assert score >= chance - REVERSE_MARGIN, (name, round(score), round(chance))


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_enough_questions_of_every_kind(chapter):
    bank = _bank(chapter)
    kinds = [q.kind for q in bank.questions]
    assert len(bank.questions) >= 20
    if chapter == "chapter1":
        assert kinds.count("scenario") >= 4
    else:
        assert kinds.count("calculation") >= 4
        assert kinds.count("code") >= 2


@pytest.mark.skipif(not NOTES.is_dir(), reason=f"course notes not found at {NOTES}")
@pytest.mark.parametrize("chapter", CHAPTERS)
def test_every_evidence_is_in_its_cited_section(chapter):
    bank = _bank(chapter)
    assert all(q.source_evidence.strip() for q in bank.questions)
    assert check_sources(bank, NOTES) == []


def test_no_bank_quotes_an_exercise_solution():
    """Code-reading questions show buggy variants or calls, never a solution line: practice banks
    ship in the student release, whose audit refuses any line of solutions/ (grader.instructor.release)."""
    from grader.instructor.release import secret_markers

    solution_lines = secret_markers(PACKAGE_ROOT)["solution line"]
    assert solution_lines
    for path in sorted((PACKAGE_ROOT / "quizzes").glob("chapter*.toml")):
        text = path.read_text(encoding="utf-8")
        assert [line for line in solution_lines if line in text] == [], path.name


# --- the lint itself catches what it should -------------------------------------------


def _q(qid, qtype, options, text="t", text_zh="题"):
    return {
        "id": qid, "type": qtype, "text": text, "text_zh": text_zh,
        "option": [{"id": oid, "text": t, "text_zh": z, "correct": c} for oid, t, z, c in options],
    }


def _tf(qid, key):
    return _q(qid, "truefalse", [("true", "True", "对", key), ("false", "False", "错", not key)])


def _make(questions):
    return bank_from_dict({"format_version": 1, "chapter": {"id": "chapterX", "title": "x"}, "question": questions})


def test_lint_flags_a_key_that_is_the_longest_option():
    qs = [_q(f"x.q{i}", "single", [("o1", "a", "甲", False), ("o2", "b", "乙", False), ("o3", "the long right one", "长长的正确答案", True)]) for i in range(4)]
    problems = " | ".join(lint_bank(_make(qs)))
    assert "strictly longest option (en) in 4 of 4" in problems and "strictly longest option (zh)" in problems
    assert "answering by 'longest (en)' scores 100 %" in problems


def test_lint_flags_a_key_that_is_never_the_longest():
    qs = [_q(f"x.q{i}", "single", [("o1", "a much longer wrong option", "很长很长的错误选项", False), ("o2", "b", "乙", False), ("o3", "ok", "对的", True)]) for i in range(4)]
    assert "answering by 'longest (en)' scores only 0 %" in " | ".join(lint_bank(_make(qs)))


def test_lint_flags_true_false_skew_and_passes_a_balanced_set():
    assert "5 true/false questions are keyed False" in " ".join(lint_bank(_make([_tf(f"x.q{i}", i == 0) for i in range(5)])))
    assert lint_bank(_make([_tf(f"x.q{i}", i % 2 == 0) for i in range(4)])) == []


def test_lint_flags_tick_all_credit_and_a_fixed_number_of_right_options():
    three_of_five = [("o1", "a", "甲", True), ("o2", "b", "乙", True), ("o3", "c", "丙", True), ("o4", "d", "丁", False), ("o5", "e", "戊", False)]
    problems = " | ".join(lint_bank(_make([_q("x.q1", "multiple", three_of_five), _q("x.q2", "multiple", three_of_five)])))
    assert "x.q1: ticking every option scores 0.333333" in problems
    assert "only [3] right options" in problems


def test_lint_flags_an_option_count_that_gives_the_key_count_away():
    six = [("o1", "a", "甲", True), ("o2", "b", "乙", True), ("o3", "c", "丙", True), ("o4", "d", "丁", False), ("o5", "e", "戊", False), ("o6", "f", "己", False)]
    problems = " | ".join(lint_bank(_make([_q("x.q1", "multiple", six), _q("x.q2", "multiple", six)])))
    assert "every multiple-answer question with 6 options has 3 right" in problems


def test_tick_all_uses_the_real_scoring():
    bank = _make([_q("x.q1", "multiple", [("o1", "a", "甲", True), ("o2", "b", "乙", True), ("o3", "c", "丙", False), ("o4", "d", "丁", False)])])
    q = bank.questions[0]
    assert guess_scores(bank)["tick all"][0] == 100 * score_question(q, ["o1", "o2", "o3", "o4"]) == 0


def test_lint_flags_all_of_the_above_and_languages_that_disagree():
    qs = [_q("x.q1", "single", [("o1", "1 and 2", "1 和 3", True), ("o2", "None of the above", "以上都不对", False), ("o3", "c", "丙", False)])]
    problems = " | ".join(lint_bank(_make(qs)))
    assert "x.q1: option o1 has different numbers" in problems
    assert "x.q1: option o2 is an all/none-of-the-above option" in problems


def test_evidence_must_be_in_the_cited_section_not_elsewhere(tmp_path):
    (tmp_path / "n.txt").write_text("# A\n\nthe material about softmax\n\n## B\n\n## C\nother text\n", encoding="utf-8")
    def q(qid, heading, evidence):
        d = _tf(qid, True)
        d["source"] = {"note": "n.txt", "heading": heading, "evidence": evidence}
        return d
    bank = _make([q("x.q1", "A", "material  about\nsoftmax"), q("x.q2", "B", "material about softmax"), q("x.q3", "C", "other text")])
    problems = check_sources(bank, tmp_path)
    assert [p.split(":")[0] for p in problems] == ["x.q2"]
