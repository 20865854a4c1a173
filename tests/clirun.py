"""What a student reads from ``grade check``: the real CLI (typer's CliRunner), its ``--json``
report turned into objects with the fields of a test result (name, exercise, status,
visibility, message, score, ...)."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

from typer.testing import CliRunner

from grader.cli import app


def student_view(chapter: str, target: Path, *args: str, lang: str = "en") -> dict[str, SimpleNamespace]:
    result = CliRunner().invoke(app, ["check", chapter, "--path", str(target), "--json", "--lang", lang, *args])
    assert result.exit_code in (0, 1), result.output
    return {t["name"]: SimpleNamespace(**t) for t in json.loads(result.output)["tests"]}
