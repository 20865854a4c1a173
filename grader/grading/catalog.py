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
from grader.util.i18n import files_digest
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
    # light modules the worker of a single check imports while pytest collects, e.g.
    # ("numpy.random",) where the suites seed the student's generators (else the first seed imports it)
    preload: tuple[str, ...] = ()

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


def _load_chapter(name: str, data: dict) -> Chapter:  # type: ignore[type-arg]
    if data.get("format_version") != FORMAT_VERSION:
        raise ValueError(f"{name}: format_version must be {FORMAT_VERSION}")
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
        preload=tuple(ch.get("preload", [])),
    )


@functools.cache
def load_catalog(directory: Path = CATALOG_DIR) -> Catalog:
    return Catalog([_load_chapter(name, data) for name, data in _chapter_files(directory)])


# The TOML files are the source. Parsing them costs ~10 ms of every command that reads the
# catalog (a quarter of a check's own start-up), so catalog.compiled.json beside them holds the
# same data with the digest of the files it was made from (``python -m grader.grading.catalog``);
# it is used only while that digest matches, so an edited TOML file is read directly until the
# JSON is made again (tests/test_catalog_compiled.py keeps it fresh).
COMPILED_FILE = CATALOG_DIR / "catalog.compiled.json"


def _parse(paths: list[Path]) -> list[tuple[str, dict]]:  # type: ignore[type-arg]
    return [(p.name, tomllib.loads(p.read_text(encoding="utf-8"))) for p in paths]


def _chapter_files(directory: Path) -> list[tuple[str, dict]]:  # type: ignore[type-arg]
    """(file name, its data) for each chapter file: from the compiled JSON while it is fresh."""
    import json

    paths = sorted(directory.glob("chapter*.toml"))
    compiled_file = directory / COMPILED_FILE.name
    try:
        compiled = json.loads(compiled_file.read_text(encoding="utf-8"))
        chapters = compiled["chapters"]
        if compiled.get("digest") == files_digest(paths) and isinstance(chapters, list):
            return [(str(name), data) for name, data in chapters if isinstance(data, dict)]
    except (OSError, ValueError, KeyError, TypeError):
        pass
    return _parse(paths)


def compile_catalog(directory: Path = CATALOG_DIR) -> Path:
    """Write ``catalog.compiled.json`` from the chapter TOML files."""
    import json

    paths = sorted(directory.glob("chapter*.toml"))
    target = directory / COMPILED_FILE.name
    data = {"digest": files_digest(paths), "chapters": [[name, chapter] for name, chapter in _parse(paths)]}
    target.write_text(json.dumps(data, ensure_ascii=False, sort_keys=True, indent=0) + "\n", encoding="utf-8")
    return target


if __name__ == "__main__":  # python -m grader.grading.catalog: after editing a chapter*.toml
    print(compile_catalog())
