"""Quiz responses in the workspace: ``.grade/quiz_responses.json``.

Format (shared with release/collect)::

    {"format_version": 1, "attempts": [{"chapter": "chapter3", "student": null,
      "mode": "practice", "seed": 123, "started": "...", "finished": "...",
      "answers": [{"question": "chapter3.q01", "selected": ["o2"], "time_s": 1.2}],
      "score": 3.5, "max_score": 15.0}]}

Attempts are appended; the file is written atomically (temp file + rename). A file that
cannot be read is renamed aside (``quiz_responses.corrupt-<time>.json``), never lost.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grader.util.fsutil import locked as _locked
from grader.util.fsutil import write_text_atomic

FORMAT_VERSION = 1
RESPONSES = Path(".grade") / "quiz_responses.json"


@dataclass(frozen=True)
class LoadResult:
    attempts: list[dict[str, Any]]
    moved_aside: Path | None  # where a corrupt file was moved, if it was


def responses_path(workspace: Path | None = None) -> Path:
    if workspace is None:
        from grader.grading.runner import find_workspace

        workspace = find_workspace()
    return Path(workspace) / RESPONSES


def _valid(data: Any) -> bool:
    return (
        isinstance(data, dict)
        and data.get("format_version") == FORMAT_VERSION
        and isinstance(data.get("attempts"), list)
        and all(isinstance(a, dict) for a in data["attempts"])
    )


def load_attempts(path: Path) -> LoadResult:
    """All stored attempts. A corrupt file is renamed aside and reported, not overwritten."""
    if not path.exists():
        return LoadResult([], None)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if _valid(data):
            return LoadResult(list(data["attempts"]), None)
    except (OSError, ValueError):
        pass
    aside = path.with_name(f"{path.stem}.corrupt-{time.strftime('%Y%m%d-%H%M%S')}{path.suffix}")
    n = 1
    while aside.exists():
        aside = path.with_name(f"{path.stem}.corrupt-{time.strftime('%Y%m%d-%H%M%S')}-{n}{path.suffix}")
        n += 1
    path.rename(aside)
    return LoadResult([], aside)


def append_attempt(path: Path, attempt: dict[str, Any], replaces: dict[str, Any] | None = None) -> LoadResult:
    """Append one attempt, atomically. Returns what loading found (e.g. a corrupt file moved aside).

    ``replaces``: an interrupted attempt (as loaded) that ``attempt`` carries on; it is removed,
    so a resumed sitting stays one attempt."""
    with _locked(path):
        loaded = load_attempts(path)
        kept = [a for a in loaded.attempts if replaces is None or a != replaces]
        attempts = kept + [attempt]
        text = json.dumps({"format_version": FORMAT_VERSION, "attempts": attempts}, ensure_ascii=False, indent=1)
        write_text_atomic(path, text + "\n")
    return loaded


def attempts_for(attempts: list[dict[str, Any]], chapter: str, student: str | None) -> list[dict[str, Any]]:
    return [a for a in attempts if a.get("chapter") == chapter and a.get("student") == student]
