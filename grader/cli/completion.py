"""Shell completion for chapter and exercise ids (typer ``autocompletion=`` callbacks).

Each returns ``(value, help)`` pairs; shells that show help (zsh, fish) print the title or summary.
Stdlib + the catalog only: completion runs the CLI once per key press."""

from __future__ import annotations


def _catalog():  # type: ignore[no-untyped-def]
    from grader.grading.catalog import load_catalog

    return load_catalog()


def _lang() -> str:
    from grader.cli.kit import default_lang

    return default_lang()


def complete_chapter(incomplete: str) -> list[tuple[str, str]]:
    """``chap`` → every chapter id; ``3`` → ``chapter3`` (``grade check 3`` works too)."""
    lang = _lang()
    text = (incomplete or "").strip().lower()
    out = []
    for c in _catalog().chapters.values():
        if c.id.startswith(text) or str(c.number).startswith(text) or f"ch{c.number}".startswith(text):
            out.append((c.id, c.title_text(lang)))
    return out


def complete_exercise(incomplete: str) -> list[tuple[str, str]]:
    """``chapter2.`` → that chapter's exercise ids; ``soft`` → ``softmax`` and ``chapter3.softmax``."""
    lang = _lang()
    text = incomplete or ""
    low = text.lower()
    catalog = _catalog()
    out = [(e.id, e.summary_text(lang)) for e in catalog.exercises.values() if e.id.lower().startswith(low)]
    if "." not in text:
        names: dict[str, list[str]] = {}
        for e in catalog.exercises.values():
            names.setdefault(e.name, []).append(e.summary_text(lang))
        out += [(name, s[0]) for name, s in names.items() if len(s) == 1 and name.lower().startswith(low)]
    return out
