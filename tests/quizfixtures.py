"""A small bank for the quiz tests (independent of the shipped banks' content)."""

from __future__ import annotations

from pathlib import Path

from grader.quiz.bank import Bank, Option, Question, dumps_bank


def small_bank() -> Bank:
    return Bank(
        chapter="chapter3",
        title="Test quiz",
        title_zh="测试",
        questions=(
            Question(
                "chapter3.q01", "single", "Pick the largest: {x = 1} ~ #3: is it?", "选最大的",
                (
                    Option("o1", "one", "一", False, "too small", "太小"),
                    Option("o2", "three", "三", True, "yes", "对"),
                    Option("o3", "two", "二", False, "not quite", "差一点"),
                ),
                "3 > 2 > 1 = {obviously}", "三最大", "004_0ae09dde4e086bda.txt", "3.2.1、sigmoid函数",
            ),
            Question(
                "chapter3.q02", "multiple", "Which are even?", "哪些是偶数？",
                (
                    Option("o1", "2", "2", True, "even", "偶数"),
                    Option("o2", "3", "3", False, "odd", "奇数"),
                    Option("o3", "4", "4", True, "even", "偶数"),
                    Option("o4", "5", "5", False, "odd", "奇数"),
                ),
                "2 and 4", "2 和 4", "004_0ae09dde4e086bda.txt", "3.2.1、sigmoid函数",
            ),
            Question(
                "chapter3.q03", "truefalse", "1 + 1 = 2", "1 + 1 = 2",
                (Option("true", "True", "对", True, "right", "对"), Option("false", "False", "错", False, "wrong", "错")),
                "arithmetic", "算术", "004_0ae09dde4e086bda.txt", "3.2.1、sigmoid函数",
            ),
        ),
    )


def make_workspace(root: Path, bank: Bank | None = None, *, keys: bool = True) -> Path:
    """A student workspace: exercises/chapter2 (how find_workspace recognises it) and quizzes/."""
    (root / "exercises" / "chapter2").mkdir(parents=True)
    (root / "quizzes").mkdir()
    bank = bank or small_bank()
    (root / "quizzes" / f"{bank.chapter}.toml").write_text(dumps_bank(bank, keys=keys), encoding="utf-8")
    return root
