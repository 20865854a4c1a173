"""Quiz variants per student: template questions, their formulas, their lint, and the real
commands: `grade quiz` shows each student's own numbers, `grade submit` packs them, and
collection scores every template question against the instance of the student the
submission is filed under (never the one a responses file claims)."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
from instructor_helpers import REPO, make_folder_submission
from quizfixtures import make_workspace
from typer.testing import CliRunner

from grader.cli import app
from grader.instructor.collect import collect
from grader.instructor.gradebook import Gradebook
from grader.quiz import BankError, check_bank, load_bank
from grader.quiz.bank import bank_from_dict, dumps_bank
from grader.quiz.lint import lint_bank
from grader.quiz.template import TemplateError, check_template, compile_formula, instance_count, show_number
from grader.util.tomlcompat import tomllib

CHAPTERS = [f"chapter{n}" for n in range(1, 9)]


def banks():
    return {c: load_bank(c, root=REPO) for c in CHAPTERS}


# --- formulas ---------------------------------------------------------------------------


@pytest.mark.parametrize("source", [
    "__import__('os').system('true')", "(1).__class__", "open('x')", "[1, 2][0]", "lambda: 1", "x.y",
    "'text'", "True", "exit()", "f(1)", "sqrt(x=1)", "a := 1", "{1: 2}", "x if y",
])
def test_formulas_outside_the_allow_list_are_refused(source):
    with pytest.raises(TemplateError):
        compile_formula(source)(dict(x=1, y=2))


def test_formulas_compute_with_the_allowed_operators_and_functions():
    env = {"H": 7, "P": 1, "F": 3, "S": 2, "n": 50}
    assert compile_formula("(H + 2*P - F) // S + 1")(env) == 4
    assert compile_formula("sqrt(2 / n)")(env) == pytest.approx(0.2)
    assert compile_formula("max(0, H - 10) if S == 2 else -1")(env) == 0
    assert compile_formula("distinct(H, P, F) and not (S > 3)")(env) == 1
    with pytest.raises(TemplateError, match="division by zero"):
        compile_formula("H / (P - 1)")(env)
    with pytest.raises(TemplateError, match="exponent"):
        compile_formula("H ** 1000")(env)
    with pytest.raises(TemplateError, match="sensible size"):
        compile_formula("exp(H * 100)")(env)


def test_numbers_are_shown_without_float_noise():
    assert [show_number(v, 3) for v in (0.5 - 0.2, 4.0, 12, -0.0001, 0.14142, 102.5)] == ["0.3", "4", "12", "0", "0.141", "102.5"]


# --- the shipped banks -----------------------------------------------------------------------


def test_at_least_ten_calculation_questions_are_templates_and_every_instance_passes_the_lint():
    templates = [(c, q) for c, b in banks().items() for q in b.questions if q.template is not None]
    assert len(templates) >= 10
    assert all(q.kind == "calculation" for _, q in templates)
    for _, q in templates:
        assert check_template(q) == [], q.id  # every instance: distinct options, one key, numbers shown sensibly
        assert instance_count(q.template) >= 8, q.id


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_guessing_lint_holds_for_the_instances_many_students_get(chapter):
    """lint_bank (wording strategies, key lengths, numbers in both languages) on the bank as
    40 students see it: every one of their instances, not only the template's text."""
    bank = load_bank(chapter, root=REPO)
    seen: dict[str, set[int]] = {}
    for i in range(40):
        mine = bank.for_student(f"student{i}")
        assert lint_bank(mine) == [], f"student{i}"
        assert check_bank(mine) == []
        for q in mine.questions:
            if q.variant is not None:
                seen.setdefault(q.id, set()).add(q.variant)
    for qid, variants in seen.items():
        assert len(variants) >= 5, qid  # 40 students spread over the instances


def test_two_students_get_different_numbers_and_one_student_always_the_same():
    bank = load_bank("chapter7", root=REPO)
    ann, bob = bank.for_student("ann"), bank.for_student("bob")
    templates = [q.id for q in bank.questions if q.template is not None]
    differ = [qid for qid in templates if ann.question(qid).text != bob.question(qid).text]
    assert len(differ) >= 2
    assert bank.for_student("Ann").question(templates[0]) == ann.question(templates[0])  # ids are case-insensitive
    for qid in differ:
        # an option id names what the option shows: the same id only where the same text is shown
        theirs = {o.id: o.text for o in bob.question(qid).options}
        assert all(theirs.get(o.id, o.text) == o.text for o in ann.question(qid).options)
        a_key, b_key = ann.question(qid).correct_ids, bob.question(qid).correct_ids
        if ann.question(qid).option(a_key[0]).text != bob.question(qid).option(b_key[0]).text:
            assert a_key != b_key


def test_a_keyless_bank_ships_rendered_instances_not_formulas_and_gives_the_same_ids():
    bank = load_bank("chapter7", root=REPO)
    text = dumps_bank(bank, keys=False)
    assert "value =" not in text and "[question.let]" not in text and "correct" not in text
    keyless = bank_from_dict(tomllib.loads(text))
    for who in ("ann", "bob", "zoë"):
        for q, k in zip(bank.for_student(who).questions, keyless.for_student(who).questions, strict=True):
            assert (q.id, q.text, q.text_zh, [o.id for o in q.options], [o.text for o in q.options]) == (
                k.id, k.text, k.text_zh, [o.id for o in k.options], [o.text for o in k.options])


def _template_toml(value_o2: str, where: str = "") -> str:
    return f"""format_version = 1
[chapter]
id = "chapter9"
title = "t"
title_zh = "t"
[[question]]
id = "chapter9.q01"
type = "single"
kind = "calculation"
text = "{{a}} / {{b}} = ?"
text_zh = "{{a}} / {{b}} = ？"
explanation = "e"
explanation_zh = "e"
source = {{ note = "n.txt", heading = "h", evidence = "evidence quote" }}
{where}
[question.params]
a = "1..9"
b = [3, 7]
[[question.option]]
id = "o1"
text = "{{value}}"
text_zh = "{{value}}"
value = "a / b"
correct = true
feedback = "f"
feedback_zh = "f"
[[question.option]]
id = "o2"
text = "{{value}}"
text_zh = "{{value}}"
value = "{value_o2}"
correct = false
feedback = "f"
feedback_zh = "f"
[[question.option]]
id = "o3"
text = "{{value}}"
text_zh = "{{value}}"
value = "a * b"
correct = false
feedback = "f"
feedback_zh = "f"
"""


def test_the_lint_finds_a_distractor_equal_to_the_key_after_rounding_and_a_number_lost_to_rounding(tmp_path):
    path = tmp_path / "chapter9.toml"
    path.write_text(_template_toml("a / b + 0.001"), encoding="utf-8")
    bank = bank_from_dict(tomllib.loads(path.read_text(encoding="utf-8")))
    problems = check_template(bank.questions[0])
    assert any("shows the key's number" in p or "same number" in p for p in problems)
    path.write_text(_template_toml("a / b / 1000"), encoding="utf-8")
    problems = check_template(bank_from_dict(tomllib.loads(path.read_text(encoding="utf-8"))).questions[0])
    assert any("is shown as 0" in p for p in problems)
    path.write_text(_template_toml("a - b", where='where = ["a == 99"]'), encoding="utf-8")
    assert any("no parameter combination" in p for p in check_template(
        bank_from_dict(tomllib.loads(path.read_text(encoding="utf-8"))).questions[0]))


def test_a_bad_formula_in_a_bank_is_a_clear_error_naming_the_question(tmp_path):
    path = tmp_path / "chapter9.toml"
    path.write_text(_template_toml("__import__('os').getcwd()"), encoding="utf-8")
    with pytest.raises(BankError, match=r"chapter9.q01: formula .* may be called"):
        from grader.quiz import load_bank_file

        load_bank_file(path)


# --- the real commands ------------------------------------------------------------------------


def _quiz(ws: Path, monkeypatch, *args: str, input: str | None = None):
    monkeypatch.chdir(ws)
    return CliRunner().invoke(app, ["quiz", *args], input=input)


def _right_answers(student: str) -> dict[str, list[str]]:
    mine = load_bank("chapter7", root=REPO).for_student(student)
    return {q.id: list(q.correct_ids) for q in mine.questions}


def test_grade_quiz_shows_each_student_their_own_numbers(tmp_path, monkeypatch):
    bank = load_bank("chapter7", root=REPO)
    ws = make_workspace(tmp_path / "ws", bank)  # a keyed (practice) workspace
    monkeypatch.setenv("COLUMNS", "100")
    templates = [q.id for q in bank.questions if q.template is not None]
    mine = {who: bank.for_student(who) for who in ("ann", "bob")}
    shown = {}
    for who in ("ann", "bob"):
        result = _quiz(ws, monkeypatch, "chapter7", "--plain", "--student", who, "--lang", "en",
                       input="A\n" * len(bank.questions))
        assert result.exit_code == 0, result.output
        shown[who] = " ".join(result.output.split())
        assert "numbers of their own for " + who in shown[who]
    for qid in templates:
        ann_text, bob_text = mine["ann"].question(qid).text, mine["bob"].question(qid).text
        assert ann_text != bob_text
        assert ann_text in shown["ann"] and ann_text not in shown["bob"] and bob_text in shown["bob"]
    recorded = json.loads((ws / ".grade" / "quiz_responses.json").read_text(encoding="utf-8"))["attempts"]
    assert recorded[0]["variants"] == {q: mine["ann"].question(q).variant for q in templates}
    zh = _quiz(ws, monkeypatch, "chapter7", "--plain", "--student", "ann", "--lang", "zh", input="A\n")
    assert mine["ann"].question(templates[0]).text_zh in " ".join(zh.output.split())


def test_a_graded_quiz_with_templates_asks_for_the_student_id(tmp_path, monkeypatch):
    ws = make_workspace(tmp_path / "ws", load_bank("chapter7", root=REPO), keys=False)
    result = _quiz(ws, monkeypatch, "chapter7", "--plain", "--lang", "en", input="A\n")
    assert result.exit_code == 2
    assert "--student YOUR_ID" in result.output and "Traceback" not in result.output
    assert not (ws / ".grade" / "quiz_responses.json").exists()


def _student_hands_in(root: Path, who: str, answers: dict[str, list[str]], monkeypatch) -> dict:
    """A student takes the graded chapter 7 quiz in a keyless workspace with `grade quiz
    --answers`, then `grade submit`; returns the responses the zip holds."""
    ws = make_workspace(root / f"ws-{who}", load_bank("chapter7", root=REPO), keys=False)
    for f in (REPO / "solutions" / "chapter2").glob("*.py"):
        (ws / "exercises" / "chapter2" / f.name).write_text(f.read_text(encoding="utf-8"), encoding="utf-8")
    (ws / "answers.json").write_text(json.dumps(answers), encoding="utf-8")
    result = _quiz(ws, monkeypatch, "chapter7", "--student", who, "--answers", "answers.json", "--lang", "en")
    assert result.exit_code == 0, result.output
    result = CliRunner().invoke(app, ["submit", "--student", who])
    assert result.exit_code == 0, result.output
    with zipfile.ZipFile(ws / f"submission-{who}.zip") as zf:
        return json.loads(zf.read(".grade/quiz_responses.json"))


def _collect(subs: Path, db: Path) -> dict[str, tuple[float, float, list[str]]]:
    summary = collect([subs], db, workers=1, chapters=["chapter2"])
    assert summary.graded == len(list(subs.iterdir()))
    with Gradebook(db) as gb:
        quiz = gb.quiz_scores()
        problems = {r["student"]: json.loads(r["problems"]) for r in gb.submissions("graded")}
        return {r["student"]: (quiz[r["hash"]]["chapter7"]["score"], quiz[r["hash"]]["chapter7"]["max_score"],
                               problems[r["student"]]) for r in gb.latest()}


@pytest.fixture(autouse=True)
def _fast_subprocess(monkeypatch):
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")


def test_answers_scored_against_another_students_numbers_lose_points_in_collect(tmp_path, monkeypatch):
    bank = load_bank("chapter7", root=REPO)
    templates = [q.id for q in bank.questions if q.template is not None]
    ann_key, bob_key = _right_answers("ann"), _right_answers("bob")
    assert all(ann_key[q] != bob_key[q] for q in templates)  # their numbers differ on every template
    ann = _student_hands_in(tmp_path, "ann", ann_key, monkeypatch)
    bob = _student_hands_in(tmp_path, "bob", bob_key, monkeypatch)
    assert ann["attempts"][0]["variants"] != bob["attempts"][0]["variants"]

    honest = tmp_path / "honest"
    make_folder_submission(honest, "ann", responses=ann)
    make_folder_submission(honest, "bob", responses=bob)
    scores = _collect(honest, tmp_path / "honest.sqlite")
    full = sum(q.points for q in bank.questions)
    assert scores["ann"][:2] == (full, full) and scores["bob"][:2] == (full, full)
    assert scores["ann"][2] == [] and scores["bob"][2] == []

    # Each hands in the other's responses file: scored with the numbers of the id the
    # submission is filed under, every template question is lost, and the claim is a note.
    swapped = tmp_path / "swapped"
    make_folder_submission(swapped, "ann", responses=bob)
    make_folder_submission(swapped, "bob", responses=ann)
    scores = _collect(swapped, tmp_path / "swapped.sqlite")
    lost = sum(bank.question(q).points for q in templates)
    assert scores["ann"][:2] == (full - lost, full) and scores["bob"][:2] == (full - lost, full)
    assert any("answered as 'bob'" in p for p in scores["ann"][2])
    assert any("claim other numbers for 3 template questions" in p for p in scores["bob"][2])


def test_a_responses_file_that_claims_another_variant_or_seed_is_ignored(tmp_path, monkeypatch):
    """Bob edits his file to say he is ann, with her variants, seed and option ids: collection
    still derives bob's instances from the id his submission is filed under."""
    ann = _student_hands_in(tmp_path, "ann", _right_answers("ann"), monkeypatch)
    forged = json.loads(json.dumps(ann))
    attempt = forged["attempts"][0]
    attempt["variants"] = dict(attempt["variants"])
    attempt["seed"] = 12345
    subs = tmp_path / "subs"
    make_folder_submission(subs, "bob", responses=forged)
    scores = _collect(subs, tmp_path / "gb.sqlite")
    bank = load_bank("chapter7", root=REPO)
    lost = sum(q.points for q in bank.questions if q.template is not None)
    assert scores["bob"][0] == sum(q.points for q in bank.questions) - lost


def test_in_a_pseudo_terminal_two_students_see_and_answer_their_own_numbers(tmp_path):
    """`grade quiz` at a real terminal (arrow keys): ann and bob see different numbers on the
    first template question, each picks their own key, and the record holds that option."""
    import os
    import re
    import sys
    from dataclasses import replace

    from grader.quiz.session import present

    pexpect = pytest.importorskip("pexpect")
    full = load_bank("chapter7", root=REPO)
    bank = replace(full, questions=tuple(q for q in full.questions if q.template is not None))
    env = dict(os.environ, PROMPT_TOOLKIT_NO_CPR="1", TERM="xterm", COLUMNS="200", LINES="30")
    texts = {}
    for who in ("ann", "bob"):
        ws = make_workspace(tmp_path / who, bank)
        first = present(bank.for_student(who).questions, 7)[0]
        (key,) = first.question.correct_ids
        texts[who] = first.question.text
        child = pexpect.spawn(sys.executable, ["-m", "grader", "quiz", "chapter7", "--seed", "7", "--lang", "en",
                                               "--student", who], cwd=str(ws), env=env, encoding="utf-8",
                              timeout=60, dimensions=(30, 200))
        try:
            child.expect(re.escape(first.question.text))
            child.send("\x1b[B" * [o.id for o in first.options].index(key) + "\r")
            child.expect("right")
            child.send("\x04")  # Ctrl-D: the rest stays unanswered
            child.expect(pexpect.EOF)
        finally:
            child.close(force=True)
        (attempt,) = json.loads((ws / ".grade" / "quiz_responses.json").read_text(encoding="utf-8"))["attempts"]
        assert attempt["student"] == who and attempt["answers"][0]["selected"] == [key]
    assert texts["ann"] != texts["bob"]


def test_with_a_roster_the_numbers_follow_the_login_a_student_knows_not_the_lms_number(tmp_path, monkeypatch):
    """Canvas files a download under its numeric user id; the roster row of that id has the
    student's login, which is what ann typed as `grade quiz --student`: her numbers are keyed
    by it. Without the roster the same submission is scored with the number's instances."""
    ann = _student_hands_in(tmp_path, "ann", _right_answers("ann"), monkeypatch)
    subs = tmp_path / "subs"
    make_folder_submission(subs, "12345", responses=ann)
    bank = load_bank("chapter7", root=REPO)
    full = sum(q.points for q in bank.questions)
    lost = sum(q.points for q in bank.questions if q.template is not None)

    bare = _collect(subs, tmp_path / "bare.sqlite")
    assert bare["12345"][0] == full - lost
    assert any("answered as 'ann'" in p and "'12345'" in p for p in bare["12345"][2])

    (tmp_path / "roster.csv").write_text("id,name,email,sis_user_id,sis_login_id\n12345,Ann A,ann@example.edu,S1,ann\n",
                                         encoding="utf-8")
    db = tmp_path / "roster.sqlite"
    result = CliRunner().invoke(app, ["roster", "import", str(tmp_path / "roster.csv"), "--db", str(db)])
    assert result.exit_code == 0, result.output
    with_roster = _collect(subs, db)
    assert with_roster["12345"][:2] == (full, full) and with_roster["12345"][2] == []


def test_the_bank_salt_deals_new_numbers_and_travels_with_a_keyless_bank():
    from dataclasses import replace

    bank = load_bank("chapter8", root=REPO)
    salted = replace(bank, variant_salt="2027-spring")
    students = [f"s{i}" for i in range(12)]
    before = [q.variant for s in students for q in bank.for_student(s).questions if q.variant is not None]
    after = [q.variant for s in students for q in salted.for_student(s).questions if q.variant is not None]
    assert before != after
    keyless = bank_from_dict(tomllib.loads(dumps_bank(salted, keys=False)))
    assert keyless.variant_salt == "2027-spring"
    assert [q.variant for q in keyless.for_student("s3").questions] == [q.variant for q in salted.for_student("s3").questions]
