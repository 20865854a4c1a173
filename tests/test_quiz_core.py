"""Scoring, keyless banks, letter parsing, seeded option order and the responses file."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st
from quizfixtures import make_workspace, small_bank

from grader.quiz import load_bank, load_bank_file, score_attempt, score_question, strip_keys
from grader.quiz.bank import bank_from_dict
from grader.quiz.session import FileAsker, derive_seed, option_order, parse_letters, present
from grader.quiz.store import append_attempt, load_attempts


def test_single_and_truefalse_scoring():
    q1, _, q3 = small_bank().questions
    assert score_question(q1, ["o2"]) == 1.0
    assert score_question(q1, ["o1"]) == 0.0
    assert score_question(q1, ["o1", "o2"]) == 0.0  # two picks on a single-answer question
    assert score_question(q1, []) == 0.0
    assert score_question(q3, ["true"]) == 1.0 and score_question(q3, ["false"]) == 0.0


def test_multiple_partial_credit():
    q2 = small_bank().questions[1]
    assert score_question(q2, ["o1", "o3"]) == 1.0
    assert score_question(q2, ["o1"]) == 0.5
    assert score_question(q2, ["o1", "o2"]) == 0.0  # one right, one wrong
    assert score_question(q2, ["o1", "o3", "o2"]) == 0.5


def test_ticking_everything_is_worth_nothing_here():
    q2 = small_bank().questions[1]
    assert score_question(q2, [o.id for o in q2.options]) == 0.0


@given(st.lists(st.booleans(), min_size=3, max_size=5).filter(lambda ks: any(ks)), st.data())
def test_multiple_scoring_cannot_be_gamed(keys, data):
    """No selection beats the exact key, and adding a wrong pick never raises the score."""
    from grader.quiz.bank import Option, Question

    q = Question("x.q1", "multiple", "?", "?", tuple(Option(f"o{i}", str(i), str(i), k) for i, k in enumerate(keys)))
    picks = data.draw(st.sets(st.sampled_from([o.id for o in q.options])))
    s = score_question(q, picks)
    assert 0.0 <= s <= score_question(q, q.correct_ids) == 1.0
    wrong = [o.id for o in q.options if not o.correct and o.id not in picks]
    if wrong:
        assert score_question(q, picks | {wrong[0]}) <= s
    everything = score_question(q, [o.id for o in q.options])
    assert everything <= max(0.0, (2 * sum(keys) - len(keys)) / sum(keys)) + 1e-9


def test_score_attempt_rescores_from_keys_and_ignores_unknown_ids():
    bank = small_bank()
    attempt = {
        "chapter": "chapter3", "score": 99.0, "max_score": 99.0,  # forged: never trusted
        "answers": [
            {"question": "chapter3.q01", "selected": ["o2"]},
            {"question": "chapter3.q02", "selected": ["o1", "nope"]},
            {"question": "chapter9.q77", "selected": ["o1"]},
            {"question": "chapter3.q03", "selected": "true"},  # malformed: ignored
            "garbage",
        ],
    }
    assert score_attempt(bank, attempt) == (1.5, 3.0)
    assert score_attempt(bank, {"answers": []}) == (0.0, 3.0)


def test_strip_keys_gives_a_graded_bank_without_answers(tmp_path):
    text = strip_keys(small_bank())
    for leak in ("correct", "feedback", "explanation", "obviously"):
        assert leak not in text
    path = tmp_path / "chapter3.toml"
    path.write_text(text, encoding="utf-8")
    graded = load_bank_file(path)
    assert graded.graded and not graded.has_keys
    assert [q.id for q in graded.questions] == [q.id for q in small_bank().questions]
    assert [o.id for o in graded.questions[1].options] == ["o1", "o2", "o3", "o4"]
    assert score_attempt(graded, {"answers": [{"question": "chapter3.q01", "selected": ["o2"]}]})[0] == 0.0


def test_load_bank_uses_the_root_and_reports_bad_files(tmp_path):
    make_workspace(tmp_path)
    assert load_bank("3", root=tmp_path).chapter == "chapter3"
    (tmp_path / "quizzes" / "chapter4.toml").write_text("format_version = 1\n[chapter\n", encoding="utf-8")
    from grader.quiz import BankError

    with pytest.raises(BankError, match="chapter4.toml"):
        load_bank("chapter4", root=tmp_path)
    with pytest.raises(Exception, match="chapter3"):
        load_bank("chapter9", root=tmp_path)


def test_bank_from_dict_rejects_wrong_version():
    with pytest.raises(ValueError):
        bank_from_dict({"format_version": 2, "chapter": {"id": "c"}})


@pytest.mark.parametrize(
    "text, expected",
    [("A", [0]), ("a", [0]), ("A,C", [0, 2]), ("AC", [0, 2]), ("A，C", [0, 2]), ("c a", [0, 2]), ("C、A", [0, 2]), ("AA", [0])],
)
def test_parse_letters_accepts_the_usual_spellings(text, expected):
    p = present([small_bank().questions[1]], seed=1)[0]
    assert parse_letters(text, p) == (expected, "")


@pytest.mark.parametrize("text", ["", "  ", "E", "A,Z", "1"])
def test_parse_letters_rejects_bad_input(text):
    p = present([small_bank().questions[1]], seed=1)[0]
    picks, error = parse_letters(text, p)
    assert picks is None and error


def test_single_answer_questions_take_one_letter():
    p = present([small_bank().questions[0]], seed=1)[0]
    assert parse_letters("AB", p)[0] is None


def test_option_order_is_seeded_and_varies():
    q = small_bank().questions[1]
    assert option_order(q, 5) == option_order(q, 5)
    orders = {tuple(o.id for o in option_order(q, s)) for s in range(40)}
    assert len(orders) > 5
    tf = small_bank().questions[2]
    assert [o.id for o in option_order(tf, 3)] == ["true", "false"]


def test_seed_depends_on_student_and_attempt():
    seeds = {derive_seed(s, "chapter3", n) for s in ("ann", "bob", None) for n in (1, 2)}
    assert len(seeds) == 6
    assert derive_seed("ann", "chapter3", 1) == derive_seed("ann", "chapter3", 1)


def test_file_asker_never_defaults():
    bank = small_bank()
    ps = present(bank.questions, seed=2)
    asker = FileAsker({"chapter3.q01": ["o9"], "chapter3.q02": ["o1", "o3"]})
    replies = [asker.ask(p, "en") for p in ps]
    assert repr(replies[0]) == "SKIP" and replies[1] == ["o1", "o3"] and repr(replies[2]) == "SKIP"
    assert "o9" in asker.problems[0]


def test_store_appends_atomically_and_keeps_a_corrupt_file(tmp_path):
    path = tmp_path / ".grade" / "quiz_responses.json"
    attempt = {"chapter": "chapter3", "student": None, "answers": []}
    append_attempt(path, attempt)
    append_attempt(path, dict(attempt, student="bob"))
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["format_version"] == 1 and [a["student"] for a in data["attempts"]] == [None, "bob"]
    assert sorted(p.name for p in path.parent.iterdir() if not p.name.endswith(".lock")) == ["quiz_responses.json"]  # no temp files

    path.write_text("{not json", encoding="utf-8")
    result = append_attempt(path, attempt)
    assert result.moved_aside is not None and result.moved_aside.read_text(encoding="utf-8") == "{not json"
    assert len(load_attempts(path).attempts) == 1


def test_concurrent_appends_lose_nothing(tmp_path):
    import threading

    path = tmp_path / ".grade" / "quiz_responses.json"

    def worker(n):
        for i in range(5):
            append_attempt(path, {"chapter": "chapter3", "student": f"s{n}", "answers": [], "i": i})

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(load_attempts(path).attempts) == 30
