"""The arrow-key path: prompt_toolkit driven in-process (pipe input + DummyOutput), and one
end-to-end run of `grade quiz` in a real pseudo-terminal with pexpect."""

from __future__ import annotations

import json
import os
import sys

import pytest
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput
from quizfixtures import make_workspace, small_bank

from grader.quiz.session import STOP, present, run_session
from grader.quiz.tty import TtyAsker, choose

DOWN, UP, ENTER, SPACE, CTRL_D = "\x1b[B", "\x1b[A", "\r", " ", "\x04"


def pick(keys, labels=("a", "b", "c", "d"), multi=False):
    with create_pipe_input() as inp:
        inp.send_text(keys)
        return choose("title", list(labels), multi=multi, hint="", input=inp, output=DummyOutput())


def test_single_select_moves_with_arrows():
    assert pick(ENTER) == [0]
    assert pick(DOWN + DOWN + ENTER) == [2]
    assert pick(UP + ENTER) == [3]  # wraps around
    assert pick(DOWN + DOWN + UP + ENTER) == [1]


def test_letter_keys_jump():
    assert pick("c" + ENTER) == [2]


def test_checkbox_multi_select():
    assert pick(SPACE + DOWN + DOWN + SPACE + ENTER, multi=True) == [0, 2]
    assert pick(SPACE + SPACE + DOWN + SPACE + ENTER, multi=True) == [1]  # untick
    # Enter with nothing ticked does not submit; the later ticks do
    assert pick(ENTER + DOWN + SPACE + ENTER, multi=True) == [1]


def test_ctrl_d_stops():
    assert pick(CTRL_D) is None
    assert pick(DOWN + CTRL_D, multi=True) is None


class ScriptedTty(TtyAsker):
    """Sends each question's keys just before asking it, through one pipe."""

    def __init__(self, inp, scripts):
        super().__init__(input=inp, output=DummyOutput())
        self.scripts = list(scripts)

    def ask(self, presented, lang):
        self.input.send_text(self.scripts.pop(0))
        return super().ask(presented, lang)


def keys_for(p):
    """Keys that answer a presented question correctly."""
    idx = [i for i, o in enumerate(p.options) if o.correct]
    if p.question.type != "multiple":
        return DOWN * idx[0] + ENTER
    keys, pos = "", 0
    for i in idx:
        keys += DOWN * (i - pos) + SPACE
        pos = i
    return keys + ENTER


def test_a_whole_session_through_the_arrow_key_asker():
    bank = small_bank()
    ps = present(bank.questions, seed=4)
    with create_pipe_input() as inp:
        result = run_session(bank, ps, ScriptedTty(inp, [keys_for(p) for p in ps]), seed=4, student="t")
    assert result.attempt["score"] == 3.0 and not result.stopped
    assert [a["selected"] for a in result.attempt["answers"]] == [["o2"], ["o1", "o3"], ["true"]]


def test_ctrl_d_in_a_session_records_nothing_more():
    bank = small_bank()
    ps = present(bank.questions, seed=4)
    with create_pipe_input() as inp:
        result = run_session(bank, ps, ScriptedTty(inp, [keys_for(ps[0]), CTRL_D]), seed=4, student="t")
    assert result.stopped and [p.question.id for p in result.unanswered] == ["chapter3.q02", "chapter3.q03"]
    assert len(result.attempt["answers"]) == 1
    assert STOP is not None


def test_end_to_end_in_a_pseudo_terminal(tmp_path):
    pexpect = pytest.importorskip("pexpect")
    make_workspace(tmp_path)
    seed = 11
    ps = present(small_bank().questions, seed)
    env = dict(os.environ, PROMPT_TOOLKIT_NO_CPR="1", TERM="xterm", COLUMNS="100", LINES="30")
    child = pexpect.spawn(
        sys.executable, ["-m", "grader", "quiz", "chapter3", "--seed", str(seed), "--lang", "en", "--student", "pty"],
        cwd=str(tmp_path), env=env, encoding="utf-8", timeout=20, dimensions=(30, 100),
    )
    try:
        child.expect("Pick the largest")
        child.send(keys_for(ps[0]))
        child.expect("Which are even")
        child.send(keys_for(ps[1]))
        child.expect("1 \\+ 1 = 2")
        child.send(keys_for(ps[2]))
        child.expect("score 3/3")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    assert child.exitstatus == 0
    data = json.loads((tmp_path / ".grade" / "quiz_responses.json").read_text(encoding="utf-8"))
    (attempt,) = data["attempts"]
    assert attempt["student"] == "pty" and attempt["score"] == 3.0
    assert [a["selected"] for a in attempt["answers"]] == [["o2"], ["o1", "o3"], ["true"]]


def test_pty_offers_to_retry_the_missed_questions(tmp_path):
    pexpect = pytest.importorskip("pexpect")
    make_workspace(tmp_path)
    seed = 11
    ps = present(small_bank().questions, seed)
    wrong_tf = DOWN + ENTER if ps[2].options[0].correct else ENTER
    env = dict(os.environ, PROMPT_TOOLKIT_NO_CPR="1", TERM="xterm", COLUMNS="100", LINES="30")
    child = pexpect.spawn(
        sys.executable, ["-m", "grader", "quiz", "chapter3", "--seed", str(seed), "--lang", "en"],
        cwd=str(tmp_path), env=env, encoding="utf-8", timeout=20, dimensions=(30, 100),
    )
    try:
        child.expect("Pick the largest")
        child.send(keys_for(ps[0]))
        child.expect("Which are even")
        child.send(keys_for(ps[1]))
        child.expect("1 \\+ 1 = 2")
        child.send(wrong_tf)
        child.expect("score 2/3")
        child.expect("Retry the 1 missed question")
        child.send(ENTER)  # "Yes" is first
        child.expect("1 \\+ 1 = 2")
        child.send(DOWN * [o.correct for o in ps[2].options].index(True) + ENTER)
        child.expect("score 1/1")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    assert child.exitstatus == 0
    attempts = json.loads((tmp_path / ".grade" / "quiz_responses.json").read_text(encoding="utf-8"))["attempts"]
    assert [(a["score"], a["max_score"]) for a in attempts] == [(2.0, 3.0), (1.0, 1.0)]
    assert attempts[1]["questions"] == ["chapter3.q03"] and attempts[1]["seed"] != attempts[0]["seed"]


def _spawn(tmp_path, seed, *extra):
    pexpect = pytest.importorskip("pexpect")
    env = dict(os.environ, PROMPT_TOOLKIT_NO_CPR="1", TERM="xterm", COLUMNS="100", LINES="30")
    args = ["-m", "grader", "quiz", "chapter3", "--lang", "en", "--student", "pty", *extra]
    if seed is not None:
        args += ["--seed", str(seed)]
    return pexpect, pexpect.spawn(sys.executable, args, cwd=str(tmp_path), env=env, encoding="utf-8", timeout=20,
                                  dimensions=(30, 100))


def test_pty_shows_the_right_options_text_and_resumes_an_interrupted_attempt(tmp_path):
    make_workspace(tmp_path)
    seed = 11
    ps = present(small_bank().questions, seed)
    wrong_first = DOWN * [o.id for o in ps[0].options].index("o1") + ENTER  # "one": wrong
    pexpect, child = _spawn(tmp_path, seed)
    try:
        child.expect("Pick the largest")
        child.send(wrong_first)
        child.expect(f"right answer: {ps[0].letter_of('o2')}\\. three")  # the option's text, not a bare letter
        child.expect("Which are even")
        child.send(CTRL_D)
        child.expect("Quiz paused with 2 question")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    (attempt,) = json.loads((tmp_path / ".grade" / "quiz_responses.json").read_text(encoding="utf-8"))["attempts"]
    assert attempt["unfinished"] is True and attempt["score"] is None and len(attempt["answers"]) == 1

    pexpect, child = _spawn(tmp_path, None)  # the next sitting: no seed given
    try:
        child.expect("after 1 of 3 question")
        child.expect("Carry on")
        child.send(ENTER)  # "Carry on" is first
        child.expect("question 2 of 3")
        child.expect("\\[2/3\\] Which are even")  # the same numbering, the same seed's option order
        child.send(keys_for(ps[1]))
        child.expect("\\[3/3\\] 1 \\+ 1 = 2")
        child.send(keys_for(ps[2]))
        child.expect("score 2/3")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    assert child.exitstatus == 0
    (attempt,) = json.loads((tmp_path / ".grade" / "quiz_responses.json").read_text(encoding="utf-8"))["attempts"]
    assert "unfinished" not in attempt and attempt["finished"] and attempt["seed"] == seed
    assert attempt["score"] == 2.0 and attempt["max_score"] == 3.0
    assert [a["question"] for a in attempt["answers"]] == ["chapter3.q01", "chapter3.q02", "chapter3.q03"]


def test_pty_declining_to_resume_starts_a_new_attempt(tmp_path):
    make_workspace(tmp_path)
    ps = present(small_bank().questions, 11)
    pexpect, child = _spawn(tmp_path, 11)
    try:
        child.expect("Pick the largest")
        child.send(keys_for(ps[0]))
        child.expect("Which are even")
        child.send(CTRL_D)
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    pexpect, child = _spawn(tmp_path, 11)
    try:
        child.expect("Carry on")
        child.send(DOWN + ENTER)  # "Start again"
        child.expect("\\[1/3\\] Pick the largest")
        child.send(CTRL_D)
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    attempts = json.loads((tmp_path / ".grade" / "quiz_responses.json").read_text(encoding="utf-8"))["attempts"]
    assert len(attempts) == 1  # the new sitting answered nothing: nothing new recorded, the old one kept
    assert attempts[0]["unfinished"] is True


def test_long_stems_wrap_at_word_boundaries():
    from grader.quiz.tty import wrap_cells

    stem = "Which statement about the softmax function holds when every input is a large number such as 1000?"
    lines = wrap_cells(stem, 30)
    assert all(len(line) <= 30 for line in lines) and " ".join(lines) == stem  # no word cut
    zh = "下面关于 softmax 函数的说法中，哪一个在每个输入都是很大的数时成立？"
    from prompt_toolkit.utils import get_cwidth

    assert all(get_cwidth(line) <= 20 for line in wrap_cells(zh, 20))
    assert "".join(wrap_cells(zh, 20)).replace(" ", "") == zh.replace(" ", "")
    assert any("softmax" in line for line in wrap_cells(zh, 20))  # the latin word stays whole


def test_pty_checkbox_reminder_is_chinese_in_zh(tmp_path):
    make_workspace(tmp_path)
    ps = present(small_bank().questions, 11)
    pexpect, child = _spawn(tmp_path, 11, "--lang", "zh")
    try:
        child.expect("选最大的")
        child.send(keys_for(ps[0]))
        child.expect("哪些是偶数")
        child.send(ENTER)  # nothing ticked
        child.expect("请先用空格勾选至少一个选项")
        child.send(CTRL_D)
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    assert "Tick at least one" not in (child.before or "")
