"""`grade quiz` through the CLI (typer's CliRunner): the plain lettered prompt, answers files,
EOF handling, graded mode, retrying missed questions, export and import."""

from __future__ import annotations

import json

import pytest
from quizfixtures import make_workspace, small_bank
from typer.testing import CliRunner

from grader.cli import app
from grader.quiz import load_bank, load_bank_file
from grader.quiz.session import present

SEED = 11


@pytest.fixture
def workspace(tmp_path, monkeypatch):
    make_workspace(tmp_path)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COLUMNS", "100")
    return tmp_path


def letters(option_ids, presented):
    return ",".join(presented.letter_of(i) for i in option_ids)


def key_letters(seed=SEED):
    """The letters of the correct answers, as a student sees them with this seed."""
    return [letters(p.question.correct_ids, p) for p in present(small_bank().questions, seed)]


def stored(ws):
    return json.loads((ws / ".grade" / "quiz_responses.json").read_text(encoding="utf-8"))["attempts"]


def run(*args, input=None):
    return CliRunner().invoke(app, ["quiz", *args], input=input)


def test_plain_quiz_all_right_records_option_ids_seed_and_score(workspace):
    answers = key_letters()
    result = run("chapter3", "--plain", "--seed", str(SEED), "--lang", "en", "--student", "ann", input="\n".join(answers) + "\n")
    assert result.exit_code == 0, result.output
    assert "score 3/3" in result.output and "Every question right" in result.output
    (attempt,) = stored(workspace)
    assert attempt["seed"] == SEED and attempt["student"] == "ann" and attempt["mode"] == "practice"
    assert attempt["score"] == 3.0 and attempt["max_score"] == 3.0
    assert [a["selected"] for a in attempt["answers"]] == [["o2"], ["o1", "o3"], ["true"]]
    assert all(isinstance(a["time_s"], float) for a in attempt["answers"])
    assert attempt["started"] <= attempt["finished"]


def test_practice_mode_shows_verdict_feedback_and_explanation(workspace):
    wrong = next(letters([o.id], p) for p in present(small_bank().questions, SEED)[:1] for o in p.options if o.id == "o1")
    result = run("3", "--plain", "--seed", str(SEED), "--lang", "en", input=wrong + "\n")
    assert "✗ wrong" in result.output and "too small" in result.output and "3 > 2 > 1" in result.output


def test_chinese_and_fullwidth_comma(workspace):
    k = key_letters()
    multi = k[1].replace(",", "，")
    result = run("chapter3", "--plain", "--seed", str(SEED), "--lang", "zh", input=f"{k[0]}\n{multi}\n{k[2]}\n")
    assert "选最大的" in result.output and "得分 3/3" in result.output
    assert stored(workspace)[0]["score"] == 3.0


def test_invalid_input_asks_again(workspace):
    k = key_letters()
    result = run("chapter3", "--plain", "--seed", str(SEED), "--lang", "en", input=f"Z\n{k[0]}{k[0] and 'X'}\n\n{k[0]}\n{k[1]}\n{k[2]}\n")
    assert result.output.count("is not one of the letters") == 2 and "Type a letter" in result.output
    assert stored(workspace)[0]["score"] == 3.0


def test_eof_saves_the_attempt_unfinished_not_as_missed_answers(workspace):
    k = key_letters()
    result = run("chapter3", "--plain", "--seed", str(SEED), "--lang", "en", input=f"{k[0]}\n")
    assert result.exit_code == 0
    assert "Quiz paused with 2 question(s) left" in result.output and "grade quiz chapter3" in result.output
    assert "so far 1/1 on the 1 question(s) answered" in result.output
    assert "score 1/3" not in result.output and "Retry the" not in result.output  # nothing counted as missed
    (attempt,) = stored(workspace)
    assert [a["question"] for a in attempt["answers"]] == ["chapter3.q01"]
    assert attempt["unfinished"] is True and attempt["finished"] is None
    assert attempt["score"] is None and attempt["max_score"] is None


def test_eof_message_in_chinese(workspace):
    k = key_letters()
    result = run("chapter3", "--plain", "--seed", str(SEED), "--lang", "zh", input=f"{k[0]}\n")
    assert "测验已暂停，还剩 2 道题" in result.output and "目前已答 1 道题，得分 1/1" in result.output


def test_the_right_option_is_shown_in_full_after_a_wrong_answer(workspace):
    p = present(small_bank().questions, SEED)
    wrong = letters(["o1"], p[0])
    result = run("chapter3", "--plain", "--seed", str(SEED), "--lang", "en", input=wrong + "\n")
    assert f"right answer: {p[0].letter_of('o2')}. three" in result.output
    result = run("chapter3", "--plain", "--seed", str(SEED), "--lang", "zh", input=wrong + "\n")
    assert f"正确答案：{p[0].letter_of('o2')}. 三" in result.output


def test_a_partial_multiple_answer_lists_every_right_option_and_marks_the_missed_one(workspace):
    k = key_letters()
    p = present(small_bank().questions, SEED)
    one_right = letters(["o1"], p[1])
    result = run("chapter3", "--plain", "--seed", str(SEED), "--lang", "en", input=f"{k[0]}\n{one_right}\n")
    out = result.output
    assert "◐ partly right (0.5/1)" in out and "right answers:" in out
    lines = out[out.index("right answers:"):].splitlines()
    two = next(line for line in lines if line.strip().startswith(f"{p[1].letter_of('o1')}. 2"))
    four = next(line for line in lines if line.strip().startswith(f"{p[1].letter_of('o3')}. 4"))
    assert "missed" not in two and "(you missed this one)" in four


def test_partial_scores_are_rounded_to_two_decimals_everywhere(tmp_path, monkeypatch):
    from grader.quiz.bank import Bank, Option, Question

    bank = small_bank()
    three = Question(
        "chapter3.q02", "multiple", "Which are even?", "哪些是偶数？",
        (Option("o1", "2", "2", True), Option("o2", "3", "3", False), Option("o3", "4", "4", True),
         Option("o4", "6", "6", True)),
        "2, 4 and 6", "2、4 和 6", "004_0ae09dde4e086bda.txt", "3.2.1、sigmoid函数",
    )
    bank = Bank(bank.chapter, bank.title, bank.title_zh, (bank.questions[0], three, bank.questions[2]))
    make_workspace(tmp_path, bank)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COLUMNS", "100")
    p = present(bank.questions, SEED)
    k0 = letters(["o2"], p[0])
    result = run("chapter3", "--plain", "--seed", str(SEED), "--lang", "en",
                 input=f"{k0}\n{letters(['o1'], p[1])}\n{letters(['false'], p[2])}\n")
    assert "(0.33/1)" in result.output and "0.33/1" in result.output and "score 1.33/3" in result.output
    assert "0.333333" not in result.output and "1.33333" not in result.output
    status = CliRunner().invoke(app, ["status", "--lang", "en"])
    assert "0.333" not in status.output and "1.33333" not in status.output


def test_plain_messages_are_chinese_in_zh(workspace):
    k = key_letters()
    result = run("chapter3", "--plain", "--seed", str(SEED), "--lang", "zh", input=f"Z\n\n{k[0]}\n")
    assert "“Z”不是可选的字母" in result.output and "请输入一个字母。" in result.output
    assert "is not one of" not in result.output and "Type a letter" not in result.output


def test_eof_before_any_answer_writes_nothing(workspace):
    result = run("chapter3", "--plain", "--seed", str(SEED), input="")
    assert "nothing was recorded" in result.output.lower() or "nothing was recorded" in result.output
    assert not (workspace / ".grade" / "quiz_responses.json").exists()


def test_answers_file_by_option_id(workspace):
    path = workspace / "answers.json"
    path.write_text(json.dumps({"chapter3.q01": ["o2"], "chapter3.q02": ["o1"], "chapter3.q99": ["o1"]}), encoding="utf-8")
    result = run("chapter3", "--answers", str(path), "--lang", "en")
    assert result.exit_code == 0, result.output
    (attempt,) = stored(workspace)
    assert attempt["score"] == 1.5 and [a["question"] for a in attempt["answers"]] == ["chapter3.q01", "chapter3.q02"]
    assert "unanswered" in result.output


def test_seed_differs_between_attempts(workspace):
    for _ in range(2):
        run("chapter3", "--plain", "--student", "bob", input="A\n")
    seeds = [a["seed"] for a in stored(workspace)]
    assert len(set(seeds)) == 2


def test_retry_missed_asks_only_the_missed_questions(workspace):
    k = key_letters()
    wrong_tf = "B" if k[2] == "A" else "A"
    run("chapter3", "--plain", "--seed", str(SEED), "--student", "cy", input=f"{k[0]}\n{k[1]}\n{wrong_tf}\n")
    result = run("chapter3", "--plain", "--retry-missed", "--student", "cy", "--lang", "en", input="A\n")
    assert result.exit_code == 0, result.output
    assert "[1/1] 1 + 1 = 2" in result.output and "Pick the largest" not in result.output
    retry = stored(workspace)[-1]
    assert retry["questions"] == ["chapter3.q03"] and retry["max_score"] == 1.0


def test_retry_missed_without_an_attempt_says_what_to_do(workspace):
    result = run("chapter3", "--plain", "--retry-missed")
    assert result.exit_code == 2 and "grade quiz chapter3" in result.output


def test_graded_bank_records_without_scoring(tmp_path, monkeypatch):
    make_workspace(tmp_path, keys=False)
    monkeypatch.chdir(tmp_path)
    result = run("chapter3", "--plain", "--seed", "3", "--lang", "en", input="A\nA,B\nA\n")
    assert result.exit_code == 0, result.output
    assert "not scored" in result.output and "✓" not in result.output and "score " not in result.output
    (attempt,) = stored(tmp_path)
    assert attempt["mode"] == "graded" and attempt["score"] is None and attempt["max_score"] is None
    assert len(attempt["answers"]) == 3


def test_corrupt_responses_file_is_kept_aside(workspace):
    (workspace / ".grade").mkdir()
    (workspace / ".grade" / "quiz_responses.json").write_text("[broken", encoding="utf-8")
    result = run("chapter3", "--plain", "--seed", str(SEED), "--lang", "en", input="A\n")
    assert "could not be read" in result.output
    kept = list((workspace / ".grade").glob("quiz_responses.corrupt-*.json"))
    assert len(kept) == 1 and kept[0].read_text(encoding="utf-8") == "[broken"
    assert len(stored(workspace)) == 1


def test_unknown_chapter_suggests(workspace):
    result = run("chapter33", "--plain")
    assert result.exit_code == 2 and "chapter3" in result.output


def test_export_gift_and_import_back(workspace):
    out = workspace / "c3.gift"
    result = run("chapter3", "--export", "gift", "-o", str(out))
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    assert r"\{x \= 1\} \~ \#3\: is it?" in text
    result = run("--import", str(out), "-o", str(workspace / "back.toml"))
    assert result.exit_code == 0, result.output
    assert "imported 3 question(s)" in result.output and "nothing skipped" in result.output
    assert load_bank_file(workspace / "back.toml") == load_bank("chapter3")


def test_export_aiken_says_what_it_skipped(workspace):
    result = run("chapter3", "--export", "aiken")
    assert result.exit_code == 0
    assert "ANSWER:" in result.output
    assert "skipped 1" in result.output and "chapter3.q02" in result.output and "multiple-answer" in result.output


def test_import_reports_skipped_questions_and_refuses_to_overwrite(workspace):
    src = workspace / "moodle.gift"
    src.write_text(
        "::Q1:: 2 + 2 \\= ? {=4 ~3 ~5}\n\n::Essay:: Explain backprop. {}\n\n::Match:: Pair {=a -> 1 =b -> 2}\n\n"
        "::Num:: pi? {#3.14:0.01}\n\n::TF:: The sky is green {F}\n",
        encoding="utf-8",
    )
    result = run("--import", str(src))
    assert result.exit_code == 0, result.output
    for word in ("skipped 3", "Essay: essay question", "Match: matching question", "Num: numerical question"):
        assert word in result.output
    bank = load_bank_file(workspace / "moodle.toml")
    assert [q.type for q in bank.questions] == ["single", "truefalse"]
    assert bank.questions[0].text == "2 + 2 = ?"
    again = run("--import", str(src))
    assert again.exit_code == 2 and "exists" in again.output


def test_quiz_without_chapter_lists_quizzes(workspace):
    result = run()
    assert result.exit_code == 2 and "chapter3" in result.output


@pytest.mark.parametrize(("lang", "word"), [("en", "partly right"), ("zh", "部分正确")])
def test_a_partly_right_multiple_answer_question_shows_as_partial(workspace, lang, word):
    from grader.quiz.scoring import score_question

    shown = present(small_bank().questions, SEED)
    k = key_letters()
    multi = shown[1]
    one_of_two = [multi.question.correct_ids[0]]
    partial = score_question(multi.question, one_of_two)
    assert 0 < partial < multi.question.points
    result = run("chapter3", "--plain", "--seed", str(SEED), "--lang", lang, input=f"{k[0]}\n{letters(one_of_two, multi)}\n{k[2]}\n")
    assert result.exit_code == 0, result.output
    assert f"◐ {word}" in result.output and f"{partial:g}/{multi.question.points:g}" in result.output
    assert "✗ wrong" not in result.output and "✗ 错误" not in result.output
    assert stored(workspace)[0]["score"] == pytest.approx(2 + partial)
