"""Finding what a student typed: exercise ids case-insensitively, and when nothing matches,
suggestions ranked by edit distance, the same chapter first. Stdlib only."""

from __future__ import annotations

from grader.grading.catalog import Catalog, Exercise, normalize_chapter
from grader.util.errors import UnknownName


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance (insert, delete, substitute: 1 each)."""
    if len(a) < len(b):
        a, b = b, a
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def find_exercise(catalog: Catalog, name: str) -> Exercise:
    """``chapter3.softmax``, ``Chapter3.Softmax``, ``3.softmax`` or a unique short name."""
    typed = name.strip()
    folded = {ex_id.lower(): ex for ex_id, ex in catalog.exercises.items()}
    if typed.lower() in folded:
        return folded[typed.lower()]
    if "." in typed:
        chapter, _, short = typed.partition(".")
        full = f"{normalize_chapter(chapter)}.{short}".lower()
        if full in folded:
            return folded[full]
    try:
        return catalog.exercise(typed)
    except UnknownName:
        pass
    exc = UnknownName("exercise", name, [])
    exc.suggestions = suggest(catalog, typed)
    message = f"No exercise named '{name}'."
    if exc.suggestions:
        message += " Did you mean " + " or ".join(f"'{s}'" for s in exc.suggestions) + "?"
    exc.args = (message,)
    raise exc


def suggest(catalog: Catalog, typed: str, n: int = 3) -> list[str]:
    """The closest exercise ids: the typed chapter's first, then by edit distance."""
    low = typed.lower()
    chapter = normalize_chapter(low.partition(".")[0]) if "." in low else ""
    short_typed = low.partition(".")[2] if "." in low else low
    ranked = []
    for ex_id, ex in catalog.exercises.items():
        distance = min(edit_distance(low, ex_id.lower()), edit_distance(short_typed, ex.name.lower()))
        limit = max(2, len(short_typed) // 3)
        if distance <= limit:
            ranked.append((ex.chapter != chapter, distance, ex_id))
    return [ex_id for _, _, ex_id in sorted(ranked)[:n]]
