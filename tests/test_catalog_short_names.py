"""Short exercise names: `grade hint softmax` finds chapter3.softmax; exact case breaks ties."""

from __future__ import annotations

import pytest

from grader.grading.catalog import Catalog, Chapter, Exercise, load_catalog
from grader.util.errors import UsageError


def _exercise(chapter: str, name: str) -> Exercise:
    return Exercise(f"{chapter}.{name}", chapter, "m", name, 1, "", "", ())


def _catalog(*exercises: Exercise) -> Catalog:
    chapters = {}
    for e in exercises:
        chapters.setdefault(e.chapter, []).append(e)
    return Catalog(
        [
            Chapter(c, int(c.removeprefix("chapter")), c, "", "", ("m",), tuple(es), 10.0, None, ())
            for c, es in chapters.items()
        ]
    )


def test_exact_case_decides_between_sigmoid_and_Sigmoid():
    cat = _catalog(_exercise("chapter3", "sigmoid"), _exercise("chapter5", "Sigmoid"))
    assert cat.exercise("sigmoid").id == "chapter3.sigmoid"
    assert cat.exercise("Sigmoid").id == "chapter5.Sigmoid"
    with pytest.raises(UsageError):
        cat.exercise("SIGMOID")


def test_same_name_in_two_chapters_needs_the_full_id():
    cat = _catalog(_exercise("chapter4", "TwoLayerNet"), _exercise("chapter5", "TwoLayerNet"))
    with pytest.raises(UsageError, match="chapter4.TwoLayerNet"):
        cat.exercise("TwoLayerNet")
    assert cat.exercise("chapter4.TwoLayerNet").chapter == "chapter4"


@pytest.mark.parametrize(
    "short, full",
    [
        ("softmax", "chapter3.softmax"),
        ("forward", "chapter3.forward"),
        ("cross_entropy_error", "chapter4.cross_entropy_error"),
        ("numerical_gradient", "chapter4.numerical_gradient"),
        ("gradient_descent", "chapter4.gradient_descent"),
    ],
)
def test_chapter3_and_4_short_names(short, full):
    assert load_catalog().exercise(short).id == full
