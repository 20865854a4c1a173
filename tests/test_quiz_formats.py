"""Moodle interchange: GIFT round trip (every shipped bank, both languages), escaping,
foreign GIFT and Aiken files."""

from __future__ import annotations

import pytest
from quizfixtures import small_bank

from grader.quiz import load_bank
from grader.quiz.bank import PACKAGE_ROOT, Bank, Option, Question
from grader.quiz.formats import (
    expand_templates,
    export_aiken,
    export_gift,
    gift_escape,
    gift_unescape,
    import_aiken,
    import_gift,
)


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("chapter", [f"chapter{n}" for n in range(1, 9)])
def test_gift_round_trip_gives_the_same_bank(chapter, lang):
    bank = load_bank(chapter, root=PACKAGE_ROOT)
    result = import_gift(export_gift(bank, lang).text)
    assert result.skipped == [] and result.notes == []
    # a template question travels as its instances (ordinary questions in a category of their own)
    assert result.bank == expand_templates(bank)[0]


def test_gift_escapes_the_special_characters():
    text = export_gift(small_bank()).text
    assert r"::chapter3.q01::Pick the largest\: \{x \= 1\} \~ \#3\: is it? {" in text
    assert r"####3 > 2 > 1 \= \{obviously\}" in text
    back = import_gift(text).bank
    assert back.questions[0].text == "Pick the largest: {x = 1} ~ #3: is it?"
    assert back == small_bank()


@pytest.mark.parametrize("s", ["a{b}c", "x = ~y", "#:\\", "line\nbreak", "plain"])
def test_escape_unescape_inverse(s):
    assert gift_unescape(gift_escape(s)) == s
    assert all(ch not in gift_escape(s).replace("\\" + ch, "") for ch in "{}=~#")


def test_multiple_answer_weights_match_the_scoring():
    text = export_gift(small_bank()).text
    assert "~%50%2#even" in text and "~%-50%3#odd" in text


def test_import_foreign_gift_without_metadata():
    src = """// a comment
$CATEGORY: $course$/Deep learning

::Q1::[html]What is 2 \\+ 2 \\= ?
{
  =4#yes
  ~3#no
  ~5
  ####Because arithmetic.
}

::Q2:: Pick the primes {~%50%2 ~%50%3 ~%-100%4}

::Q3:: Water is wet {TRUE#It is!#Correct}

Just a description, no answers.

::Q4:: Explain. {}
"""
    result = import_gift(src, "moodle")
    qs = result.bank.questions
    assert [q.id for q in qs] == ["Q1", "Q2", "Q3"]
    assert qs[0].type == "single" and qs[0].text == "What is 2 + 2 = ?"
    assert qs[0].explanation == "Because arithmetic." and qs[0].options[0].feedback == "yes"
    assert [o.correct for o in qs[0].options] == [True, False, False]
    assert qs[1].type == "multiple" and [o.correct for o in qs[1].options] == [True, True, False]
    assert qs[2].type == "truefalse" and qs[2].correct_ids == ("true",)
    assert any("no answer block" in s for s in result.skipped) and any("essay" in s for s in result.skipped)
    assert result.notes  # no Chinese text


def test_aiken_export_skips_multiple_and_round_trips_the_rest():
    bank = small_bank()
    result = export_aiken(bank)
    assert [s.split(":")[0] for s in result.skipped] == ["chapter3.q02"]
    back = import_aiken(result.text, "chapter3").bank
    assert [q.text for q in back.questions] == [bank.questions[0].text, bank.questions[2].text]
    # the key is the same option, wherever the export placed it
    assert [[o.text for o in q.options if o.correct] for q in back.questions] == [["three"], ["True"]]


def test_aiken_import_reports_broken_questions():
    src = "Q one?\nA. yes\nB. no\nANSWER: A\n\nQ two?\nA. x\nB. y\nANSWER: C\n\nQ three?\nA. x\nB. y\n\nQ four?\nA) p\nB) q\nANSWER: B\n"
    result = import_aiken(src, "imp")
    assert [q.text for q in result.bank.questions] == ["Q one?", "Q four?"]
    assert len(result.skipped) == 2 and "ANSWER C" in result.skipped[0] and "no ANSWER" in result.skipped[1]


def test_keyless_banks_cannot_be_exported():
    keyless = Bank("chapter3", "t", "t", small_bank().questions, graded=True)
    with pytest.raises(ValueError, match="no answer keys"):
        export_gift(keyless)
    with pytest.raises(ValueError):
        export_aiken(keyless)


def _aiken_key_positions(text):
    """The key's position in each exported question with more than two options (true/false
    keeps True, False)."""
    import re

    out = []
    for block in text.strip().split("\n\n"):
        letters = re.findall(r"^([A-Z])\. ", block, flags=re.M)
        key = re.search(r"^ANSWER: ([A-Z])$", block, flags=re.M)
        if len(letters) > 2 and key:
            out.append(ord(key.group(1)) - ord("A"))
    return out


def test_exported_keys_are_spread_over_the_positions_in_every_bank():
    from collections import Counter

    everywhere: Counter = Counter()
    for n in range(1, 9):
        bank = load_bank(f"chapter{n}", root=PACKAGE_ROOT)
        positions = _aiken_key_positions(export_aiken(bank).text)
        count = Counter(positions)
        width = max(len(q.options) for q in bank.questions if q.type == "single")
        # within a bank: no position holds the key more than once above an even share
        assert max(count.values()) <= -(-len(positions) // width) + 1, (bank.chapter, count)
        everywhere.update(positions)
    total = sum(everywhere.values())
    assert total > 100 and all(abs(v / total - 0.25) < 0.04 for v in everywhere.values()), everywhere


def test_a_bank_written_with_every_key_third_exports_balanced_and_round_trips():
    from collections import Counter

    questions = tuple(
        Question(f"chapter9.q{i:02d}", "single", f"question {i}", f"第 {i} 题",
                 tuple(Option(f"o{j}", f"option {j}", f"选项 {j}", j == 3) for j in range(1, 5)))
        for i in range(1, 41)
    )
    bank = Bank("chapter9", "t", "t", questions)
    text = export_aiken(bank).text
    assert text == export_aiken(bank).text  # deterministic
    assert sorted(Counter(_aiken_key_positions(text)).values()) == [10, 10, 10, 10]
    gift = export_gift(bank).text
    assert import_gift(gift).bank == bank  # the bank's own option order comes back
    # GIFT too: the "=" line is not always the third
    import re

    blocks = re.findall(r"\{\n((?:\t.*\n)+)\}", gift)
    assert len({[line.startswith("\t=") for line in b.splitlines()].index(True) for b in blocks}) == 4
