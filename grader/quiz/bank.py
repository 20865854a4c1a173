"""Question banks: data files ``quizzes/chapterN.toml``, loaded into frozen dataclasses.

A bank file::

    format_version = 1
    graded = false            # true in a graded release: keys, feedback and explanations removed
    [chapter]
    id = "chapter3"
    title = "..."
    title_zh = "..."
    [[question]]
    id = "chapter3.q01"       # stable: responses refer to it
    type = "single"           # single | multiple | truefalse
    kind = "calculation"      # optional: calculation | code | scenario
    text = "..."
    text_zh = "..."
    explanation = "..."
    explanation_zh = "..."
    source = { note = "000_913df6ee53bc2787.txt", heading = "...", evidence = "..." }
    # evidence: a short quote found verbatim (whitespace aside) in the text under that heading
    [[question.option]]
    id = "o1"                 # stable: answers are recorded by option id, never by letter
    text = "..."
    text_zh = "..."
    correct = true
    feedback = "..."
    feedback_zh = "..."

A calculation question may be a template (numbers per student): ``[question.params]``,
``[question.let]``, ``where`` and a ``value`` formula per option; see
``grader/quiz/template.py``. ``variant_salt`` (top level, optional) re-deals every
student's instances. A keyless bank carries each template's rendered ``instances`` instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from grader.quiz.template import (
    Template,
    TemplateError,
    check_template,
    dump_template,
    instance_count,
    instantiate,
    template_from_dict,
)
from grader.util.errors import GraderError, UnknownName, UsageError
from grader.util.fsutil import write_text_atomic  # noqa: F401 - re-exported for quiz tooling
from grader.util.tomlcompat import tomllib

FORMAT_VERSION = 1
QuestionType = Literal["single", "multiple", "truefalse"]
TYPES: tuple[str, ...] = ("single", "multiple", "truefalse")
KINDS: tuple[str, ...] = ("calculation", "code", "scenario")  # optional ``kind`` of a question
PACKAGE_ROOT = Path(__file__).resolve().parent.parent.parent


class BankError(GraderError):
    """A bank file that cannot be used; the message names the file and the problem."""


@dataclass(frozen=True)
class Option:
    id: str  # stable option id, unique inside its question
    text: str  # English text
    text_zh: str  # Chinese text
    correct: bool | None  # None in a keyless (graded-release) bank
    feedback: str = ""  # shown when this option is picked (practice mode)
    feedback_zh: str = ""

    def label(self, lang: str) -> str:
        return self.text_zh if lang == "zh" and self.text_zh else self.text

    def feedback_text(self, lang: str) -> str:
        return self.feedback_zh if lang == "zh" and self.feedback_zh else self.feedback


@dataclass(frozen=True)
class Question:
    id: str  # stable question id, e.g. "chapter3.q07"
    type: str  # one of TYPES
    text: str
    text_zh: str
    options: tuple[Option, ...]
    explanation: str = ""
    explanation_zh: str = ""
    source_note: str = ""  # file name in the notes folder
    source_heading: str = ""  # a heading that exists in that note
    source_evidence: str = ""  # a quote that appears in the section under that heading
    points: float = 1.0
    kind: str = ""  # "" (concept) or one of KINDS: what the question makes the student do
    template: Template | None = field(default=None, compare=False)  # numbers per student (grader/quiz/template.py)
    variant: int | None = None  # the instance of a template this question is (None: not from a template)

    def prompt(self, lang: str) -> str:
        return self.text_zh if lang == "zh" and self.text_zh else self.text

    def explanation_text(self, lang: str) -> str:
        return self.explanation_zh if lang == "zh" and self.explanation_zh else self.explanation

    @property
    def has_key(self) -> bool:
        return any(o.correct is not None for o in self.options)

    @property
    def correct_ids(self) -> tuple[str, ...]:
        return tuple(o.id for o in self.options if o.correct)

    def option(self, option_id: str) -> Option | None:
        for o in self.options:
            if o.id == option_id:
                return o
        return None


@dataclass(frozen=True)
class Bank:
    chapter: str  # "chapter3"
    title: str
    title_zh: str
    questions: tuple[Question, ...]
    graded: bool = False  # keys stripped: answers are recorded, scored at collection
    path: Path | None = field(default=None, compare=False)
    variant_salt: str = ""  # mixed into every student's choice of template instances (change it per semester)

    @property
    def has_templates(self) -> bool:
        return any(q.template is not None for q in self.questions)

    def for_student(self, student: str | None) -> Bank:
        """The bank as ``student`` sees it: every template question replaced by that student's
        instance (``variant_index``). ``student`` is the id the gradebook files their work under;
        nothing in a responses file takes part."""
        if not self.has_templates:
            return self
        from grader.quiz.template import variant_index

        def one(q: Question) -> Question:
            if q.template is None:
                return q
            n = instance_count(q.template)
            return instantiate(q, variant_index(n, student=student, chapter=self.chapter, question_id=q.id,
                                                salt=self.variant_salt))

        try:
            return replace(self, questions=tuple(one(q) for q in self.questions))
        except TemplateError as exc:
            raise BankError(f"{self.path or self.chapter}: {exc}") from None

    def title_text(self, lang: str) -> str:
        return self.title_zh if lang == "zh" and self.title_zh else self.title

    @property
    def has_keys(self) -> bool:
        return not self.graded and all(q.has_key for q in self.questions)

    def question(self, question_id: str) -> Question:
        for q in self.questions:
            if q.id == question_id:
                return q
        raise UnknownName("question", question_id, [q.id for q in self.questions])

    def by_id(self) -> dict[str, Question]:
        return {q.id: q for q in self.questions}


# --- locating and loading -----------------------------------------------------------


def normalize_chapter(name: str) -> str:
    """'3', 'ch3', 'Chapter3' and 'chapter3' all mean 'chapter3'."""
    match = re.fullmatch(r"(?:chapter|ch)?\s*(\d+)", name.strip().lower())
    return f"chapter{int(match.group(1))}" if match else name.strip()


def quizzes_root(root: Path | None = None) -> Path:
    """The folder that contains ``quizzes/``: ``root`` if given, else the workspace, else the repo."""
    if root is not None:
        return Path(root)
    try:
        from grader.grading.runner import find_workspace

        workspace = find_workspace()
        if (workspace / "quizzes").is_dir():
            return workspace
    except GraderError:
        pass
    return PACKAGE_ROOT


def bank_path(chapter_id: str, root: Path | None = None) -> Path:
    folder = quizzes_root(root) / "quizzes"
    cid = normalize_chapter(chapter_id)
    for ext in ("toml", "json"):
        candidate = folder / f"{cid}.{ext}"
        if candidate.is_file():
            return candidate
    known = sorted(p.stem for p in folder.glob("chapter*.toml")) if folder.is_dir() else []
    raise UnknownName("quiz bank", chapter_id, known)


def available_banks(root: Path | None = None) -> list[str]:
    folder = quizzes_root(root) / "quizzes"
    if not folder.is_dir():
        return []
    stems = {p.stem for p in folder.glob("chapter*.toml")} | {p.stem for p in folder.glob("chapter*.json")}
    return sorted(stems, key=lambda s: (len(s), s))


def load_bank(chapter_id: str, root: Path | None = None) -> Bank:
    """Load ``quizzes/<chapter>.toml`` under ``root`` (default: the workspace, else the repo)."""
    return load_bank_file(bank_path(chapter_id, root))


def load_bank_file(path: Path) -> Bank:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
        if path.suffix == ".json":
            import json

            data = json.loads(text)
        else:
            data = tomllib.loads(text)
    except (OSError, ValueError) as exc:  # tomllib.TOMLDecodeError and JSONDecodeError are ValueErrors
        raise BankError(f"Cannot read the question bank {path}: {exc}") from None
    try:
        bank = bank_from_dict(data)
    except (KeyError, TypeError, ValueError) as exc:
        raise BankError(f"{path}: not a valid question bank ({exc}).") from None
    problems = check_bank(bank, strict=False)
    if problems:
        raise BankError(f"{path}: " + "; ".join(problems[:5]))
    return replace(bank, path=path)


def bank_from_dict(data: dict[str, Any]) -> Bank:
    if data.get("format_version") != FORMAT_VERSION:
        raise ValueError(f"format_version must be {FORMAT_VERSION}")
    chapter = data["chapter"]
    graded = bool(data.get("graded", False))
    questions = []
    for q in data.get("question", []):
        source = q.get("source", {}) or {}
        options = tuple(
            Option(
                id=str(o["id"]),
                text=str(o.get("text", "")),
                text_zh=str(o.get("text_zh", "")),
                correct=None if graded or "correct" not in o else bool(o["correct"]),
                feedback=str(o.get("feedback", "")),
                feedback_zh=str(o.get("feedback_zh", "")),
            )
            for o in q.get("option", [])
        )
        questions.append(
            Question(
                id=str(q["id"]),
                type=str(q.get("type", "single")),
                text=str(q.get("text", "")),
                text_zh=str(q.get("text_zh", "")),
                options=options,
                explanation=str(q.get("explanation", "")),
                explanation_zh=str(q.get("explanation_zh", "")),
                source_note=str(source.get("note", "")),
                source_heading=str(source.get("heading", "")),
                source_evidence=str(source.get("evidence", "")),
                points=float(q.get("points", 1.0)),
                kind=str(q.get("kind", "")),
                template=_template(q),
            )
        )
    return Bank(
        chapter=str(chapter["id"]),
        title=str(chapter.get("title", "")),
        title_zh=str(chapter.get("title_zh", "")),
        questions=tuple(questions),
        graded=graded,
        variant_salt=str(data.get("variant_salt", "")),
    )


def _template(q: dict[str, Any]) -> Template | None:
    try:
        return template_from_dict(q)
    except TemplateError as exc:
        raise ValueError(f"question {q.get('id')}: {exc}") from None


# --- validation ---------------------------------------------------------------------

_ID = re.compile(r"^[A-Za-z0-9_.\-]+$")
MIN_EVIDENCE = 6  # characters, whitespace not counted


def check_bank(bank: Bank, *, strict: bool = True) -> list[str]:
    """Problems with a bank, as sentences. ``strict`` also asks for what authored banks need:
    both languages, per-option feedback, an explanation and a source on every question, 3–5 options."""
    problems: list[str] = []
    seen: set[str] = set()
    if not bank.questions:
        problems.append("the bank has no questions")
    for q in bank.questions:
        where = f"question {q.id}"
        if not _ID.match(q.id):
            problems.append(f"{where}: id may use only letters, digits, '.', '_' and '-'")
        if q.id in seen:
            problems.append(f"{where}: duplicate question id")
        seen.add(q.id)
        if q.type not in TYPES:
            problems.append(f"{where}: type must be one of {', '.join(TYPES)}, not {q.type!r}")
        if not q.text.strip():
            problems.append(f"{where}: empty English text")
        if q.kind and q.kind not in KINDS:
            problems.append(f"{where}: kind must be one of {', '.join(KINDS)}, not {q.kind!r}")
        option_ids = [o.id for o in q.options]
        if len(set(option_ids)) != len(option_ids):
            problems.append(f"{where}: duplicate option ids")
        if any(not _ID.match(o) for o in option_ids):
            problems.append(f"{where}: option ids may use only letters, digits, '.', '_' and '-'")
        if len(q.options) < 2:
            problems.append(f"{where}: needs at least 2 options")
        keyed = [o.correct is not None for o in q.options]
        if any(keyed) and not all(keyed):
            problems.append(f"{where}: some options say whether they are correct and some do not")
        if not bank.graded and all(keyed):
            n_right = sum(bool(o.correct) for o in q.options)
            if q.type in ("single", "truefalse") and n_right != 1:
                problems.append(f"{where}: a {q.type} question needs exactly one correct option (has {n_right})")
            if q.type == "multiple" and n_right < 1:
                problems.append(f"{where}: a multiple-answer question needs at least one correct option")
        if q.type == "truefalse" and len(q.options) != 2:
            problems.append(f"{where}: a true/false question has exactly 2 options")
        if strict and q.template is not None and not bank.graded:
            problems.extend(check_template(q))
        if strict:
            if not q.text_zh.strip():
                problems.append(f"{where}: no Chinese text (text_zh)")
            most = 6 if q.type == "multiple" else 5
            if q.type != "truefalse" and not 3 <= len(q.options) <= most:
                problems.append(f"{where}: needs 3 to {most} options (has {len(q.options)})")
            for o in q.options:
                if not o.text.strip() or not o.text_zh.strip():
                    problems.append(f"{where}: option {o.id} needs text and text_zh")
                if not bank.graded and (not o.feedback.strip() or not o.feedback_zh.strip()):
                    problems.append(f"{where}: option {o.id} needs feedback and feedback_zh")
                if re.search(r"all of the above|以上都(对|是|正确)|以上全部", o.text + o.text_zh, re.IGNORECASE):
                    problems.append(f"{where}: option {o.id} is an 'all of the above' option")
            if not bank.graded and (not q.explanation.strip() or not q.explanation_zh.strip()):
                problems.append(f"{where}: needs explanation and explanation_zh")
            if not q.source_note or not q.source_heading:
                problems.append(f"{where}: needs source = {{ note = ..., heading = ... }}")
            elif len(re.sub(r"\s", "", q.source_evidence)) < MIN_EVIDENCE:
                problems.append(f"{where}: needs source.evidence, a quote of at least {MIN_EVIDENCE} characters from the cited section")
            if not bank.graded and not all(keyed):
                problems.append(f"{where}: no answer key")
    return problems


_HEADING_MARKUP = re.compile(r"[*=_`]")
_NUMBERED = re.compile(r"^\d+(?:\.\d+)+[、.\s]*\S")


def _heading_lines(text: str) -> list[tuple[int, str, str]]:
    """(line number, heading without markup, heading as written) of every heading line:
    markdown ``#`` lines outside code fences, and numbered section lines like ``6.1、参数的更新``
    (some notes lost their ``#``)."""
    found: list[tuple[int, str, str]] = []
    fenced = False
    for n, raw in enumerate(text.splitlines()):
        line = raw.strip()
        if line.startswith("```"):
            fenced = not fenced
            continue
        if fenced:
            continue
        if line.startswith("#"):
            line = line.lstrip("#")
        elif not _NUMBERED.match(line):
            continue
        clean = _HEADING_MARKUP.sub("", line).strip()
        if clean:
            found.append((n, clean, line.strip()))
    return found


def note_headings(text: str) -> set[str]:
    """The headings of a note: markdown ``#`` lines, and numbered section lines like
    ``6.1、参数的更新`` (some notes lost their ``#``). Emphasis markers are dropped."""
    headings: set[str] = set()
    for _, clean, raw in _heading_lines(text):
        headings.add(clean)
        headings.add(raw)
    return headings


def note_sections(text: str) -> dict[str, list[str]]:
    """Heading -> the text under it, up to the next heading line of any level (a heading that
    repeats, like "Quiz", has several sections). An outline heading with nothing under it has
    an empty section: a quote cannot be found there."""
    lines = text.splitlines()
    marks = _heading_lines(text)
    sections: dict[str, list[str]] = {}
    for i, (n, clean, raw) in enumerate(marks):
        stop = marks[i + 1][0] if i + 1 < len(marks) else len(lines)
        body = "\n".join(lines[n + 1 : stop])
        for key in {clean, raw}:
            sections.setdefault(key, []).append(body)
    return sections


def _squash(text: str) -> str:
    return " ".join(text.split())


def find_evidence(sections: dict[str, list[str]], heading: str, evidence: str) -> bool:
    """Whether ``evidence`` appears (whitespace runs aside) in a section under ``heading``."""
    bodies = sections.get(heading.strip()) or sections.get(_HEADING_MARKUP.sub("", heading).strip()) or []
    quote = _squash(evidence)
    return bool(quote) and any(quote in _squash(body) for body in bodies)


def check_sources(bank: Bank, notes_dir: Path) -> list[str]:
    """Every question's source note exists, contains its heading (as a heading line), and the
    question's ``evidence`` quote is found in the text under that heading (not elsewhere in the note)."""
    problems: list[str] = []
    cache: dict[str, tuple[set[str], dict[str, list[str]]] | None] = {}
    for q in bank.questions:
        if q.source_note not in cache:
            path = notes_dir / q.source_note
            if path.is_file():
                text = path.read_text(encoding="utf-8")
                cache[q.source_note] = (note_headings(text), note_sections(text))
            else:
                cache[q.source_note] = None
        found = cache[q.source_note]
        if found is None:
            problems.append(f"{q.id}: note {q.source_note!r} is not in {notes_dir}")
            continue
        headings, sections = found
        if q.source_heading.strip() not in headings and _HEADING_MARKUP.sub("", q.source_heading).strip() not in headings:
            problems.append(f"{q.id}: heading {q.source_heading!r} is not a heading of {q.source_note}")
        elif not q.source_evidence.strip():
            problems.append(f"{q.id}: no evidence quote for {q.source_heading!r}")
        elif not find_evidence(sections, q.source_heading, q.source_evidence):
            problems.append(f"{q.id}: evidence {q.source_evidence!r} is not in the section {q.source_heading!r} of {q.source_note}")
    return problems


# --- writing ------------------------------------------------------------------------


def _toml_str(value: str) -> str:
    out = ['"']
    for ch in value:
        if ch == "\\":
            out.append("\\\\")
        elif ch == '"':
            out.append('\\"')
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ord(ch) < 0x20 or ch == "\x7f":
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def dumps_bank(bank: Bank, *, keys: bool = True) -> str:
    """The TOML text of a bank. ``keys=False`` writes a graded-release bank: no ``correct``,
    no per-option feedback and no explanations (they would give the answers away)."""
    graded = bank.graded or not keys
    lines = [
        f"# {bank.chapter} question bank for `grade quiz` (format: grader/quiz/bank.py).",
        "# Question and option ids are stable: stored answers refer to them. Edit text freely, never reuse an id.",
        f"format_version = {FORMAT_VERSION}",
    ]
    if graded:
        lines.append("graded = true  # keys removed: answers are recorded and scored at collection")
    if bank.variant_salt:
        lines.append(f"variant_salt = {_toml_str(bank.variant_salt)}")
    lines += ["", "[chapter]", f"id = {_toml_str(bank.chapter)}", f"title = {_toml_str(bank.title)}"]
    lines.append(f"title_zh = {_toml_str(bank.title_zh)}")
    for q in bank.questions:
        lines += ["", "[[question]]", f"id = {_toml_str(q.id)}", f"type = {_toml_str(q.type)}"]
        if q.points != 1.0:
            lines.append(f"points = {q.points:g}")
        if q.kind:
            lines.append(f"kind = {_toml_str(q.kind)}")
        lines.append(f"text = {_toml_str(q.text)}")
        lines.append(f"text_zh = {_toml_str(q.text_zh)}")
        if not graded:
            lines.append(f"explanation = {_toml_str(q.explanation)}")
            lines.append(f"explanation_zh = {_toml_str(q.explanation_zh)}")
        if q.source_note or q.source_heading:
            evidence = f", evidence = {_toml_str(q.source_evidence)}" if q.source_evidence else ""
            lines.append(f"source = {{ note = {_toml_str(q.source_note)}, heading = {_toml_str(q.source_heading)}{evidence} }}")
        keyed_template = q.template is not None and not q.template.keyless
        if q.template is not None:
            lines += dump_template(q, keyless=graded, quote=_toml_str)
        for o in q.options:
            lines += ["[[question.option]]", f"id = {_toml_str(o.id)}", f"text = {_toml_str(o.text)}"]
            lines.append(f"text_zh = {_toml_str(o.text_zh)}")
            if keyed_template and not graded:
                assert q.template is not None
                lines.append(f"value = {_toml_str(dict(q.template.values)[o.id].source)}")
            if not graded and o.correct is not None:
                lines.append(f"correct = {'true' if o.correct else 'false'}")
                lines.append(f"feedback = {_toml_str(o.feedback)}")
                lines.append(f"feedback_zh = {_toml_str(o.feedback_zh)}")
    return "\n".join(lines) + "\n"


def strip_keys(bank: Bank) -> str:
    """TOML text of the keyless bank that a graded release ships (see ``dumps_bank``)."""
    return dumps_bank(bank, keys=False)


def strip_keys_file(path: Path) -> str:
    """Convenience for release tooling: the keyless text of a bank file."""
    return strip_keys(load_bank_file(path))





def require_keys(bank: Bank) -> None:
    if not bank.has_keys:
        raise UsageError(f"{bank.chapter}: this bank has no answer keys (a graded release); it cannot be scored here.")
