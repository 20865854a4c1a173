"""The correctness corpus, stored as data: small patches against the reference solutions.

``tests/wrong/chapterN.toml`` holds plausible student mistakes, ``tests/right/chapterN.toml``
correct implementations written differently from the reference. Each ``[[case]]`` names the
solution module it changes (``file``), the exercises it must lose points on (``breaks``, wrong
cases only), optionally what it is about, and one or more ``[[case.patch]]`` tables of
``old``/``new`` text. Every ``old`` text must occur exactly once in the pristine
``solutions/chapterN/<file>``; the patches are located there and replaced together. A patch
that no longer applies (the solution changed under it) is an error naming the case, never a
silently different test.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from grader.util.tomlcompat import tomllib

REPO = Path(__file__).resolve().parent.parent
SOLUTIONS = REPO / "solutions"
KINDS = ("wrong", "right")


class CorpusError(Exception):
    """A corpus case that cannot be applied to the current solutions."""


@dataclass(frozen=True)
class Patch:
    old: str
    new: str


@dataclass(frozen=True)
class Case:
    kind: str
    chapter: str
    name: str
    file: str
    patches: tuple[Patch, ...]
    breaks: tuple[str, ...] = ()
    about: str = ""

    @property
    def id(self) -> str:
        return f"{self.chapter}/{self.name}"

    def source(self) -> str:
        """The patched module's text."""
        pristine = (SOLUTIONS / self.chapter / self.file).read_text(encoding="utf-8")
        return apply_patches(pristine, self.patches, where=f"{self.kind} case {self.id}")

    def lay_over(self, chapter_dir: Path) -> None:
        """Write the patched module into a copy of the chapter's folder."""
        (chapter_dir / self.file).write_text(self.source(), encoding="utf-8")

    def target(self, root: Path) -> Path:
        """A submission folder under ``root``: the chapter's solutions with this case laid over.
        Returns ``root`` (the folder that holds ``chapterN/``)."""
        shutil.copytree(SOLUTIONS / self.chapter, root / self.chapter)
        self.lay_over(root / self.chapter)
        return root


def apply_patches(text: str, patches: tuple[Patch, ...] | list[Patch], where: str = "patch") -> str:
    spots: list[tuple[int, Patch]] = []
    for patch in patches:
        count = text.count(patch.old)
        if count != 1:
            found = "is not found" if count == 0 else f"occurs {count} times"
            raise CorpusError(f"{where}: the old text {patch.old.strip()[:60]!r} {found} in the solution")
        spots.append((text.index(patch.old), patch))
    spots.sort(key=lambda spot: spot[0])
    pieces: list[str] = []
    at = 0
    for start, patch in spots:
        if start < at:
            raise CorpusError(f"{where}: two patches overlap")
        pieces += [text[at:start], patch.new]
        at = start + len(patch.old)
    pieces.append(text[at:])
    return "".join(pieces)


def replace_once(source: str, old: str, new: str) -> str:
    """``source`` with ``old`` replaced by ``new``, where ``old`` occurs exactly once (else a
    CorpusError): for tests that build a submission wrong in several ways from a solution."""
    return apply_patches(source, [Patch(old, new)], where="replace_once")


def _load(kind: str, path: Path) -> list[Case]:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    chapter = path.stem
    out = []
    for raw in data.get("case", []):
        unknown = set(raw) - {"name", "file", "breaks", "about", "patch"}
        if unknown:
            raise CorpusError(f"{path.name}: case {raw.get('name')!r} has unknown keys {sorted(unknown)}")
        patches = tuple(Patch(p["old"], p["new"]) for p in raw.get("patch", []))
        if not patches:
            raise CorpusError(f"{path.name}: case {raw['name']!r} has no patch")
        out.append(
            Case(kind, chapter, raw["name"], raw["file"], patches, tuple(raw.get("breaks", ())), raw.get("about", ""))
        )
    return out


def cases(kind: str) -> list[Case]:
    if kind not in KINDS:
        raise ValueError(kind)
    found: list[Case] = []
    for path in sorted((REPO / "tests" / kind).glob("chapter*.toml")):
        found += _load(kind, path)
    names = [c.id for c in found]
    duplicates = {n for n in names if names.count(n) > 1}
    if duplicates:
        raise CorpusError(f"{kind} cases named twice: {sorted(duplicates)}")
    return found


def params(kind: str) -> list:
    """``pytest.param`` per case, skipped where the chapter needs a library that is missing."""
    import importlib.util

    import pytest

    from grader.grading.catalog import load_catalog

    chapters = load_catalog().chapters
    out = []
    for c in cases(kind):
        chapter = chapters.get(c.chapter)
        marks = []
        if chapter is None:
            marks.append(pytest.mark.skip(reason="chapter not in the catalog"))
        elif not all(importlib.util.find_spec(n) for n in chapter.needs):
            marks.append(pytest.mark.skip(reason=f"needs {', '.join(chapter.needs)}"))
        out.append(pytest.param(c, id=c.id, marks=marks))
    return out


def case(kind: str, case_id: str) -> Case:
    """``case("wrong", "chapter4/numerical_gradient_nudges_a_copy")``."""
    for c in cases(kind):
        if c.id == case_id:
            return c
    raise KeyError(f"no {kind} case {case_id}")
