"""Issue 13, item 10: students get citations they can follow (the book's chapter and section,
the Kaggle lesson, the deeplizard lesson), never the course's note file names, which stay in
the catalog's authoring metadata (its ``source`` fields)."""

from __future__ import annotations

import re
from pathlib import Path

from grader.util.tomlcompat import tomllib

ROOT = Path(__file__).resolve().parent.parent
NOTE_FILE = re.compile(r"\b\d{3}_[0-9a-f]{16}\.txt\b")


def test_stubs_cite_book_sections_and_lessons_not_note_files() -> None:
    stubs = sorted((ROOT / "exercises").glob("chapter*/*.py"))
    assert stubs
    for path in stubs:
        text = path.read_text(encoding="utf-8")
        assert not NOTE_FILE.search(text), path
        head = text.split('"""')[1]
        if path.parent.name == "chapter8":
            assert 'Kaggle "Intro to Deep Learning", lessons 1 "A Single Neuron"' in head
            assert 'deeplizard "Deep Learning Fundamentals"' in head
        else:
            assert "*Deep Learning from Scratch*, chapter" in head and "§" in head, path


def test_hints_and_summaries_carry_no_note_file_names() -> None:
    for path in sorted((ROOT / "grader" / "catalog").glob("chapter*.toml")):
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        assert NOTE_FILE.search(data["chapter"].get("source", "")), f"{path.name}: the source field keeps the notes"
        for exercise in data.get("exercise", []):
            shown = [exercise.get("summary", ""), exercise.get("summary_zh", "")]
            shown += [h[lang] for h in exercise.get("hints", []) for lang in ("en", "zh")]
            assert not any(NOTE_FILE.search(s) for s in shown), exercise["id"]
