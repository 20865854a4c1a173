"""Results of a check: plain frozen dataclasses, JSON and Gradescope forms."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from grader.boundary import ISOLATION_WEAK  # the boundary's word for a weak sandbox

Status = Literal["passed", "failed", "not_attempted", "error", "timeout", "resource", "not_run"]
# "not_run": the check was interrupted (Ctrl-C) before the test ran; such a report is never recorded
STATUSES: tuple[Status, ...] = ("passed", "failed", "not_attempted", "error", "timeout", "resource", "not_run")
Visibility = Literal["public", "hidden"]


@dataclass(frozen=True)
class TestResult:
    exercise: str  # catalog id, e.g. "chapter2.XOR"
    name: str  # the test's requirement-style name, e.g. "test_xor_truth_table"
    status: Status
    score: float  # points earned (max_score when passed, else 0)
    max_score: float  # points the test is worth
    visibility: Visibility  # public tests ship with the release; hidden ones do not
    message: str  # feedback for the student; never the hidden test's code or expected values
    duration: float = 0.0  # seconds

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TestResult:
        return cls(
            exercise=str(data["exercise"]),
            name=str(data["name"]),
            status=data["status"],
            score=float(data["score"]),
            max_score=float(data["max_score"]),
            visibility=data["visibility"],
            message=str(data.get("message", "")),
            duration=float(data.get("duration", 0.0)),
        )




@dataclass(frozen=True)
class CheckReport:
    chapter: str  # "chapter2"
    target: str  # the folder that was graded
    tests: tuple[TestResult, ...]
    execution_time: float  # wall seconds for the whole check
    isolation: tuple[str, ...] = field(default=())  # limits and sandbox the worker ran under
    artifacts: tuple[dict[str, Any], ...] = field(default=())  # plain data attached by suites (learning curves)
    source: str = ""  # which source was graded when it may be a notebook ("graded from exercises/chapter3.ipynb")
    interrupted: bool = False  # stopped by Ctrl-C: the tests it did not reach are "not_run"

    @property
    def score(self) -> float:
        return sum(t.score for t in self.tests)

    @property
    def max_score(self) -> float:
        return sum(t.max_score for t in self.tests)

    @property
    def weak_isolation(self) -> bool:
        return ISOLATION_WEAK in self.isolation

    @property
    def all_passed(self) -> bool:
        return bool(self.tests) and all(t.status == "passed" for t in self.tests)

    def by_exercise(self) -> dict[str, list[TestResult]]:
        grouped: dict[str, list[TestResult]] = {}
        for t in self.tests:
            grouped.setdefault(t.exercise, []).append(t)
        return grouped

    def to_dict(self) -> dict[str, Any]:
        return {
            "chapter": self.chapter,
            "score": self.score,
            "max_score": self.max_score,
            "execution_time": round(self.execution_time, 3),
            "isolation": list(self.isolation),
            "tests": [asdict(t) for t in self.tests],
            "artifacts": list(self.artifacts),
            **({"source": self.source} if self.source else {}),
            **({"interrupted": True} if self.interrupted else {}),
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=2)

    def to_gradescope(self) -> dict[str, Any]:
        """Gradescope's results.json: hidden tests become visible after grades are published;
        the top-level output totals the visible ones only; every output is plain text."""
        visibility = {id(t): "visible" if t.visibility == "public" else "after_published" for t in self.tests}
        return {
            "score": self.score,
            "execution_time": round(self.execution_time, 3),
            "output": visible_summary([(self.chapter, t.score, t.max_score, visibility[id(t)]) for t in self.tests]),
            "output_format": "text",
            "test_output_format": "text",
            "tests": [
                {
                    "name": f"{t.exercise}: {t.name}",
                    "score": t.score,
                    "max_score": t.max_score,
                    "status": "passed" if t.status == "passed" else "failed",
                    "output": f"[{t.status}] {t.message}".strip(),
                    "visibility": visibility[id(t)],
                    "output_format": "text",
                }
                for t in self.tests
            ],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CheckReport:
        return cls(
            chapter=str(data["chapter"]),
            target=str(data.get("target", "")),
            tests=tuple(TestResult.from_dict(t) for t in data["tests"]),
            execution_time=float(data.get("execution_time", 0.0)),
            isolation=tuple(data.get("isolation", [])),
            artifacts=tuple(data.get("artifacts", [])),
            source=str(data.get("source", "")),
            interrupted=data.get("interrupted") is True,
        )


def plain_number(x: float) -> str:
    """A score as a plain decimal (``2``, ``0.5``, ``0.00005``), never exponent notation."""
    text = f"{float(x):.6f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def visible_summary(rows: list[tuple[str, float, float, str]]) -> str:
    """Gradescope's top-level ``output`` line: per chapter, the score in the *visible* tests
    only (``rows``: chapter, score, maximum, visibility). Hidden tests are listed with
    visibility ``after_published``; a total over them here would show before they do."""
    per: dict[str, list[float]] = {}
    hidden: set[str] = set()
    for chapter, score, max_score, visibility in rows:
        if visibility != "visible":
            hidden.add(chapter)
            per.setdefault(chapter, [0.0, 0.0])
            continue
        got = per.setdefault(chapter, [0.0, 0.0])
        got[0] += score
        got[1] += max_score
    parts = [f"{c}: {plain_number(s)}/{plain_number(m)} in the visible tests" for c, (s, m) in per.items()]
    if hidden:
        parts.append("hidden tests: shown when grades are published")
    return "; ".join(parts)


def write_results(final: Path, data: dict[str, Any]) -> None:
    """A grading session's results file: every string cleaned of control characters (messages
    carry student text), written beside the target name and renamed over it: never follows a
    planted link."""
    from grader.grading.shown import shown
    from grader.util.textclean import clean_tree

    # the grader's own log of internal errors: their text may quote a student's value (a KeyError)
    data["internal"] = [shown(line, hidden=False) for line in data.get("internal", [])[:200]]
    partial = final.with_name(final.name + ".partial")
    partial.unlink(missing_ok=True)
    partial.write_text(json.dumps(clean_tree(data)), encoding="utf-8")
    os.replace(partial, final)
