"""Builders shared by the instructor tests: submissions and a tiny fake quiz package."""

from __future__ import annotations

import io
import json
import shutil
import zipfile
from pathlib import Path
from types import SimpleNamespace

REPO = Path(__file__).resolve().parent.parent


def make_folder_submission(root: Path, name: str, kind: str = "correct", chapters=("chapter2",),
                           responses: dict | None = None, salt: str = "") -> Path:
    """A submission folder: correct (solutions), stub (not attempted) or wrong (mutated)."""
    sub = root / name
    for chapter in chapters:
        src = REPO / ("exercises" if kind == "stub" else "solutions") / chapter
        dst = sub / "exercises" / chapter
        dst.mkdir(parents=True, exist_ok=True)
        for f in src.glob("*.py"):
            text = f.read_text(encoding="utf-8")
            if kind == "wrong":
                text = text.replace("> 0", "> 5")  # every gate stays silent
            (dst / f.name).write_text(text + f"\n# {name}{salt}\n", encoding="utf-8")
    if responses is not None:
        (sub / ".grade").mkdir(parents=True, exist_ok=True)
        (sub / ".grade" / "quiz_responses.json").write_text(json.dumps(responses), encoding="utf-8")
    return sub


def zip_folder(folder: Path, out: Path, extra: dict[str, bytes] | None = None) -> Path:
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for p in sorted(folder.rglob("*")):
            if p.is_file():
                zf.write(p, p.relative_to(folder).as_posix())
        for name, data in (extra or {}).items():
            zf.writestr(name, data)
    return out


def bomb_zip(out: Path, size: int = 50 * 1024 * 1024) -> Path:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        zf.writestr("exercises/chapter2/perceptron.py", b"#" * size)
    out.write_bytes(buf.getvalue())
    return out


class FakeQuestion:
    def __init__(self, qid: str, correct: set[str], points: float = 1.0) -> None:
        self.id, self.correct, self.points = qid, correct, points


class FakeBank:
    """Key: q1 -> a, q2 -> b, q3 -> c (1 point each)."""

    def __init__(self) -> None:
        self.questions = {q.id: q for q in [FakeQuestion("q1", {"a"}), FakeQuestion("q2", {"b"}),
                                            FakeQuestion("q3", {"c"})]}

    def by_id(self):
        return self.questions


def _score_attempt(bank: FakeBank, attempt: dict) -> tuple[float, float]:
    asked = attempt.get("questions") or list(bank.by_id())
    picked = {a["question"]: set(a["selected"]) for a in attempt["answers"]}
    score = sum(1.0 for q in asked if picked.get(q) == bank.questions[q].correct)
    return score, float(len(asked))


def fake_quiz_module(banks=("chapter2",)):
    def load_bank(chapter_id, root=None):
        if chapter_id not in banks:
            raise FileNotFoundError(chapter_id)
        return FakeBank()

    return SimpleNamespace(load_bank=load_bank, score_attempt=_score_attempt,
                           strip_keys=lambda bank: "keyless = true\n")


def responses(answers: dict[str, str], claimed: float = 99.0, mode: str = "graded") -> dict:
    return {
        "format_version": 1,
        "attempts": [{
            "chapter": "chapter2", "student": None, "mode": mode, "seed": 1,
            "started": "2026-11-01T10:00:00+00:00", "finished": "2026-11-01T10:05:00+00:00",
            "answers": [{"question": q, "selected": [o], "time_s": 3.0} for q, o in answers.items()],
            "score": claimed, "max_score": claimed,
        }],
    }


def copy_tree(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst
