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
