"""The catalog is read from catalog.compiled.json while it matches the chapter TOML files (a
command is spared the TOML parse); an edited, stale or broken compiled file never wins."""

from __future__ import annotations

import json
import shutil

from grader.grading import catalog
from grader.util.i18n import files_digest


def test_the_compiled_catalog_is_fresh_and_the_same_as_the_toml_files() -> None:
    """After editing a grader/catalog/chapter*.toml, run `python -m grader.grading.catalog`."""
    compiled = json.loads(catalog.COMPILED_FILE.read_text(encoding="utf-8"))
    paths = sorted(catalog.CATALOG_DIR.glob("chapter*.toml"))
    assert compiled["digest"] == files_digest(paths), "stale: run python -m grader.grading.catalog"
    assert [tuple(entry) for entry in compiled["chapters"]] == catalog._parse(paths)


def test_an_edited_chapter_file_wins_over_a_stale_or_broken_compiled_catalog(tmp_path, monkeypatch) -> None:
    folder = tmp_path / "catalog"
    shutil.copytree(catalog.CATALOG_DIR, folder)
    toml = folder / "chapter2.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace('title = "', 'title = "Edited: ', 1), encoding="utf-8")
    fresh = catalog.load_catalog.__wrapped__  # not the process's cached catalog

    assert fresh(folder).chapter("chapter2").title.startswith("Edited: ")  # stale JSON: the TOML is read
    (folder / "catalog.compiled.json").write_text('{"digest": "x", "chapters": [', encoding="utf-8")
    assert fresh(folder).chapter("chapter2").title.startswith("Edited: ")  # broken JSON: the same
    catalog.compile_catalog(folder)
    monkeypatch.setattr(catalog, "_parse", lambda paths: [])  # fresh JSON: no TOML parse
    loaded = fresh(folder)
    assert loaded.chapter("chapter2").title.startswith("Edited: ")
    assert list(loaded.chapters) == list(catalog.load_catalog().chapters)
