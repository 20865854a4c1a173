"""The exercise catalog: data files under ``grader/catalog/``, one per chapter.

Each file has a ``[chapter]`` table and ``[[exercise]]`` entries (id, module, name,
points, summary, ordered hints in en and zh). Stubs, solutions and suites mirror it;
``tests/test_curriculum.py`` checks that they agree.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path

from grader.util.errors import UnknownName, UsageError
from grader.util.tomlcompat import tomllib

CATALOG_DIR = Path(__file__).resolve().parents[1] / "catalog"
SUITES_DIR = Path(__file__).resolve().parents[1] / "suites"
FORMAT_VERSION = 1


@dataclass(frozen=True)
class Hint:
    en: str
    zh: str

    def text(self, lang: str) -> str:
        return self.zh if lang == "zh" and self.zh else self.en


@dataclass(frozen=True)
class Exercise:
    id: str  # "chapter3.softmax": unique across the course
    chapter: str  # "chapter3"
    module: str  # module stem inside the chapter folder, e.g. "activations"
    name: str  # the function or class the student writes
    points: int  # total points of the exercise's tests (public + hidden)
    summary: str
    summary_zh: str
    hints: tuple[Hint, ...]

    def summary_text(self, lang: str) -> str:
        return self.summary_zh if lang == "zh" and self.summary_zh else self.summary


@dataclass(frozen=True)
class Chapter:
    id: str
    number: int
    title: str
    title_zh: str
    source: str  # which notes the chapter follows
    modules: tuple[str, ...]  # student modules, e.g. ("activations", "network")
    exercises: tuple[Exercise, ...]
    test_timeout_s: float  # wall-clock budget for one test
    memory_mb: int | None  # address-space cap for the worker (None: no cap)
    needs: tuple[str, ...]  # heavy imports the chapter needs, e.g. ("tensorflow",)
    check_timeout_s: float = 0.0  # wall-clock budget for one whole check (0: derived, see below)

    @property
    def check_budget_s(self) -> float:
        """Wall-clock seconds one submission's whole check may take: the catalog's
        ``check_timeout_s``, else three test budgets per exercise. Tests that would start
        after it are recorded as timeouts without running."""
        return self.check_timeout_s or self.test_timeout_s * 3 * max(1, len(self.exercises))

    def title_text(self, lang: str) -> str:
        return self.title_zh if lang == "zh" and self.title_zh else self.title


class Catalog:
    def __init__(self, chapters: list[Chapter]) -> None:
        self.chapters = {c.id: c for c in sorted(chapters, key=lambda c: c.number)}
        self.exercises = {e.id: e for c in self.chapters.values() for e in c.exercises}

    def chapter(self, name: str) -> Chapter:
        key = normalize_chapter(name)
        if key in self.chapters:
            return self.chapters[key]
        raise UnknownName("chapter", name, self.chapters)

    def exercise(self, name: str) -> Exercise:
        """Find an exercise by full id ('chapter3.softmax') or by a unique short name."""
        if name in self.exercises:
            return self.exercises[name]
        short = [e for e in self.exercises.values() if e.name.lower() == name.lower()]
        if len(short) > 1:
            # the book has both `sigmoid` (chapter 3) and the layer `Sigmoid` (chapter 5): exact case decides
            exact = [e for e in short if e.name == name]
            if len(exact) == 1:
                return exact[0]
        if len(short) == 1:
            return short[0]
        if len(short) > 1:
            ids = ", ".join(e.id for e in short)
            raise UsageError(f"'{name}' is in more than one chapter: use the full id ({ids}).")
        raise UnknownName("exercise", name, list(self.exercises) + sorted({e.name for e in self.exercises.values()}))


def normalize_chapter(name: str) -> str:
    """'3', 'ch3', 'Chapter3' and 'chapter3' all mean 'chapter3'."""
    match = re.fullmatch(r"(?:chapter|ch)?\s*(\d+)", name.strip().lower())
    return f"chapter{int(match.group(1))}" if match else name


def _load_chapter(path: Path) -> Chapter:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    if data.get("format_version") != FORMAT_VERSION:
        raise ValueError(f"{path.name}: format_version must be {FORMAT_VERSION}")
    ch = data["chapter"]
    cid = ch["id"]
    exercises = tuple(
        Exercise(
            id=e["id"],
            chapter=cid,
            module=e["module"],
            name=e["name"],
            points=int(e["points"]),
            summary=e.get("summary", ""),
            summary_zh=e.get("summary_zh", ""),
            hints=tuple(Hint(h["en"], h.get("zh", "")) for h in e.get("hints", [])),
        )
        for e in data.get("exercise", [])
    )
    return Chapter(
        id=cid,
        number=int(cid.removeprefix("chapter")),
        title=ch["title"],
        title_zh=ch.get("title_zh", ""),
        source=ch.get("source", ""),
        modules=tuple(ch.get("modules", [])),
        exercises=exercises,
        test_timeout_s=float(ch.get("test_timeout_s", 10)),
        memory_mb=ch.get("memory_mb", 1024) or None,
        needs=tuple(ch.get("needs", [])),
        check_timeout_s=float(ch.get("check_timeout_s", 0)),
    )


@functools.cache
def load_catalog(directory: Path = CATALOG_DIR) -> Catalog:
    return Catalog([_load_chapter(p) for p in sorted(directory.glob("chapter*.toml"))])
