"""Moodle interchange: GIFT (export + import) and Aiken (export + import).

GIFT keeps everything: the question text, options, per-option feedback and the general
feedback (explanation) are written in GIFT itself, in the chosen language, with
``~ = # { } :`` and ``\\`` escaped; what GIFT has no place for (ids, the other language,
type, source, points) rides along in a ``// dl-grade: {...}`` comment, which Moodle ignores.
So exporting a bank and importing the file gives the same bank.

Aiken holds only single-answer questions with no feedback; export skips the others and
says which.

A template question (numbers per student, ``grader/quiz/template.py``) is exported as its
instances (up to ``MOODLE_INSTANCES``, spread over all of them), ids ``chapter7.q01.v003``;
in GIFT each template's instances form a category of their own,
``$course$/dl-grade/chapter7/chapter7.q01``, from which a Moodle quiz draws a random
question per student. Importing such a file gives the instances as ordinary questions.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from grader.quiz.bank import Bank, Option, Question
from grader.quiz.session import LETTERS
from grader.quiz.template import instance_count, instantiate

META = "// dl-grade:"
BANK_META = "// dl-grade-bank:"
_SPECIAL = set("~=#{}:\\")
MOODLE_INSTANCES = 100  # instances of a template written to a Moodle file
CATEGORY_ROOT = "$course$/dl-grade"


def expand_templates(bank: Bank) -> tuple[Bank, dict[str, str]]:
    """The bank with every template question replaced by its instances (each an ordinary
    question, id ``<question id>.vNNN``), and instance id -> the template's id."""
    from dataclasses import replace

    if not bank.has_templates:
        return bank, {}
    questions: list[Question] = []
    origin: dict[str, str] = {}
    for q in bank.questions:
        if q.template is None:
            questions.append(q)
            continue
        n = instance_count(q.template)
        m = min(n, MOODLE_INSTANCES)
        picks = sorted({round(k * (n - 1) / max(1, m - 1)) for k in range(m)})
        for i in picks:
            c = instantiate(q, i)
            qid = f"{q.id}.v{i + 1:03d}"
            questions.append(replace(c, id=qid, variant=None))
            origin[qid] = q.id
    return replace(bank, questions=tuple(questions)), origin


@dataclass
class ImportResult:
    bank: Bank
    skipped: list[str] = field(default_factory=list)  # what was not imported, and why
    notes: list[str] = field(default_factory=list)  # imported, but with something missing


@dataclass
class ExportResult:
    text: str
    skipped: list[str] = field(default_factory=list)


def _pick(lang: str, en: str, zh: str) -> tuple[str, str]:
    """(text written in the file, text kept in the metadata)."""
    return (zh, en) if lang == "zh" else (en, zh)


def gift_escape(text: str) -> str:
    out = []
    for ch in text:
        if ch in _SPECIAL:
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        else:
            out.append(ch)
    return "".join(out)


def gift_unescape(text: str) -> str:
    out = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            nxt = text[i + 1]
            out.append("\n" if nxt == "n" else nxt)
            i += 2
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def _weight(w: float) -> str:
    return f"{w:.5f}".rstrip("0").rstrip(".")


def key_positions(bank: Bank) -> dict[str, tuple[Option, ...]]:
    """The order options are written in, per single-answer question: the key is moved to a
    position chosen so that, across the bank, every position holds the key about equally
    often (an author's habit of writing the key third must not show in the file). Distractors
    keep their order. Deterministic: the least-used position so far, ties broken by a hash of
    the question id (no randomness between runs). True/false and multiple-answer questions
    keep the bank's order."""
    import hashlib

    used: dict[int, int] = {}
    out: dict[str, tuple[Option, ...]] = {}
    for q in bank.questions:
        keys = [o for o in q.options if o.correct]
        if q.type != "single" or len(keys) != 1 or len(q.options) < 2:
            out[q.id] = tuple(q.options)
            continue
        n = len(q.options)
        h = int.from_bytes(hashlib.sha256(q.id.encode()).digest()[:4], "big")
        # least used first; among equals, the order the hash rotates to
        pos = min(range(n), key=lambda i: (used.get(i, 0), (i - h) % n))
        used[pos] = used.get(pos, 0) + 1
        rest = [o for o in q.options if not o.correct]
        out[q.id] = tuple(rest[:pos] + keys + rest[pos:])
    return out


def export_gift(bank: Bank, lang: str = "en") -> ExportResult:
    if not bank.has_keys:
        raise ValueError("this bank has no answer keys (a graded release): there is nothing to export")
    lines = [
        f"// {bank.chapter}: {bank.title_text(lang)} — exported by dl-grade",
        BANK_META + " " + json.dumps({"chapter": bank.chapter, "title": bank.title, "title_zh": bank.title_zh, "lang": lang}, ensure_ascii=False),
        "",
    ]
    bank, origin = expand_templates(bank)
    category = ""
    orders = key_positions(bank)
    for q in bank.questions:
        if origin:
            wanted = f"{CATEGORY_ROOT}/{bank.chapter}" + (f"/{origin[q.id]}" if q.id in origin else "")
            if wanted != category:
                lines += [f"$CATEGORY: {wanted}", ""]
                category = wanted
        written = orders[q.id]
        text, other_text = _pick(lang, q.text, q.text_zh)
        expl, other_expl = _pick(lang, q.explanation, q.explanation_zh)
        meta = {
            "id": q.id,
            "type": q.type,
            "lang": lang,
            "text": other_text,
            "explanation": other_expl,
            "source": {"note": q.source_note, "heading": q.source_heading, "evidence": q.source_evidence},
            "points": q.points,
            "kind": q.kind,
            "options": [
                {"id": o.id, "text": _pick(lang, o.text, o.text_zh)[1], "feedback": _pick(lang, o.feedback, o.feedback_zh)[1]}
                for o in written
            ],
        }
        if written != tuple(q.options):
            meta["order"] = [o.id for o in q.options]  # the bank's own order, restored on import
        lines.append(META + " " + json.dumps(meta, ensure_ascii=False))
        lines.append(f"::{gift_escape(q.id)}::{gift_escape(text)} {{")
        n_right = max(1, sum(bool(o.correct) for o in q.options))
        for o in written:
            otext, _ = _pick(lang, o.text, o.text_zh)
            fb, _ = _pick(lang, o.feedback, o.feedback_zh)
            if q.type == "multiple":
                w = 100.0 / n_right * (1 if o.correct else -1)
                head = f"~%{_weight(w)}%"
            else:
                head = "=" if o.correct else "~"
            tail = f"#{gift_escape(fb)}" if fb else ""
            lines.append(f"\t{head}{gift_escape(otext)}{tail}")
        if expl:
            lines.append(f"\t####{gift_escape(expl)}")
        lines.append("}")
        lines.append("")
    return ExportResult("\n".join(lines))


def export_aiken(bank: Bank, lang: str = "en") -> ExportResult:
    if not bank.has_keys:
        raise ValueError("this bank has no answer keys (a graded release): there is nothing to export")
    out: list[str] = []
    skipped: list[str] = []
    bank, _origin = expand_templates(bank)
    orders = key_positions(bank)
    for q in bank.questions:
        if q.type == "multiple":
            skipped.append(f"{q.id}: multiple-answer questions do not exist in Aiken")
            continue
        if len(q.options) > len(LETTERS):
            skipped.append(f"{q.id}: too many options")
            continue
        out.append(" ".join(q.prompt(lang).split()))
        answer = "A"
        for i, o in enumerate(orders[q.id]):
            out.append(f"{LETTERS[i]}. {' '.join(o.label(lang).split())}")
            if o.correct:
                answer = LETTERS[i]
        out.append(f"ANSWER: {answer}")
        out.append("")
    return ExportResult("\n".join(out), skipped)


# --- GIFT import --------------------------------------------------------------------


def _find_unescaped(text: str, chars: str, start: int = 0) -> int:
    i = start
    while i < len(text):
        if text[i] == "\\":
            i += 2
            continue
        if text[i] in chars:
            return i
        i += 1
    return -1


def _split_unescaped(text: str, chars: str) -> list[tuple[str, str]]:
    """Split at unescaped marker characters; returns (marker, chunk) pairs."""
    parts: list[tuple[str, str]] = []
    i = _find_unescaped(text, chars)
    while i != -1:
        j = _find_unescaped(text, chars, i + 1)
        parts.append((text[i], text[i + 1 : j if j != -1 else len(text)]))
        i = j
    return parts


def _blocks(text: str) -> list[tuple[list[str], str]]:
    """GIFT questions: (comment lines before it, its text). Questions are separated by blank
    lines outside braces."""
    blocks: list[tuple[list[str], str]] = []
    comments: list[str] = []
    body: list[str] = []
    depth = 0
    for line in text.splitlines():
        stripped = line.strip()
        if depth == 0 and not body and stripped.startswith("//"):
            comments.append(stripped)
            continue
        if depth == 0 and stripped.startswith("$CATEGORY"):
            continue
        if depth == 0 and not stripped:
            if body:
                blocks.append((comments, "\n".join(body)))
                body, comments = [], []
            continue
        if depth == 0 and not body and not stripped:
            continue
        body.append(line)
        i = 0
        while i < len(line):
            if line[i] == "\\":
                i += 2
                continue
            if line[i] == "{":
                depth += 1
            elif line[i] == "}":
                depth = max(0, depth - 1)
            i += 1
    if body:
        blocks.append((comments, "\n".join(body)))
    return blocks


def _clean_stem(text: str) -> str:
    text = re.sub(r"^\s*\[(html|moodle|plain|markdown)\]", "", text)
    # a line break in the file is layout, not content (content newlines are written as \\n)
    return gift_unescape(re.sub(r"[ \t]*\r?\n[ \t]*", " ", text).strip())


def import_gift(source: str, name: str = "imported") -> ImportResult:
    bank_meta: dict = {}
    questions: list[Question] = []
    skipped: list[str] = []
    notes: list[str] = []
    for line in source.splitlines():
        if line.strip().startswith(BANK_META):
            try:
                bank_meta = json.loads(line.strip()[len(BANK_META) :])
            except ValueError:
                pass
    for n, (comments, block) in enumerate(_blocks(source), 1):
        meta: dict = {}
        for c in comments:
            if c.startswith(META):
                try:
                    meta = json.loads(c[len(META) :])
                except ValueError:
                    notes.append(f"question {n}: unreadable dl-grade comment ignored")
        text = block.strip()
        title = ""
        if text.startswith("::"):
            end = text.find("::", 2)
            while end != -1 and text[end - 1] == "\\":
                end = text.find("::", end + 1)
            if end != -1:
                title = gift_unescape(text[2:end]).strip()
                text = text[end + 2 :]
        label = title or f"question {n}"
        open_i = _find_unescaped(text, "{")
        close_i = _find_unescaped(text, "}", open_i + 1) if open_i != -1 else -1
        if open_i == -1 or close_i == -1:
            skipped.append(f"{label}: no answer block {{...}} (a description, not a question)")
            continue
        stem = _clean_stem(text[:open_i])
        after = _clean_stem(text[close_i + 1 :])
        if after:
            stem = f"{stem} ___ {after}"
        answers = text[open_i + 1 : close_i].strip()
        general = ""
        g = answers.find("####")
        while g != -1 and g > 0 and answers[g - 1] == "\\":
            g = answers.find("####", g + 1)
        if g != -1:
            general = gift_unescape(answers[g + 4 :]).strip()
            answers = answers[:g].strip()
        qid = meta.get("id") or title or f"{name}.q{n:02d}"
        if not answers:
            skipped.append(f"{label}: essay question (no options)")
            continue
        if answers.startswith("#"):
            skipped.append(f"{label}: numerical question")
            continue
        tf = re.fullmatch(r"(T|F|TRUE|FALSE)((?:#[^#]*){0,2})", answers, flags=re.IGNORECASE)
        if tf:
            truth = tf.group(1).upper().startswith("T")
            fbs = [gift_unescape(x).strip() for x in tf.group(2).split("#")[1:]]
            wrong_fb = fbs[0] if fbs else ""
            right_fb = fbs[1] if len(fbs) > 1 else ""
            options: tuple[Option, ...] = (
                Option("true", "True", "对", truth, right_fb if truth else wrong_fb, ""),
                Option("false", "False", "错", not truth, wrong_fb if truth else right_fb, ""),
            )
            q = Question(qid, "truefalse", stem, "", options, general, "")
            questions.append(_apply_meta(q, meta))
            continue
        parts = _split_unescaped(answers, "=~")
        if not parts:
            skipped.append(f"{label}: answers are not marked with = or ~")
            continue
        if any("->" in chunk for _, chunk in parts):
            skipped.append(f"{label}: matching question")
            continue
        if all(marker == "=" for marker, _ in parts):
            skipped.append(f"{label}: short-answer question (no wrong options)")
            continue
        opts: list[tuple[str, bool, float | None, str]] = []
        for marker, chunk in parts:
            weight: float | None = None
            chunk = chunk.strip()
            m = re.match(r"%(-?\d+(?:\.\d+)?)%", chunk)
            if m:
                weight = float(m.group(1))
                chunk = chunk[m.end() :]
            h = _find_unescaped(chunk, "#")
            otext, fb = (chunk[:h], chunk[h + 1 :]) if h != -1 else (chunk, "")
            correct = (weight > 0) if weight is not None else marker == "="
            opts.append((_clean_stem(otext), correct, weight, _clean_stem(fb)))
        n_right = sum(c for _, c, _, _ in opts)
        multiple = any(w is not None for _, _, w, _ in opts) and (n_right > 1 or all(m == "~" for m, _ in parts))
        qtype = "multiple" if multiple else "single"
        if qtype == "single" and n_right != 1:
            skipped.append(f"{label}: {n_right} options marked correct in a single-answer question")
            continue
        options = tuple(Option(f"o{i}", t, "", c, fb, "") for i, (t, c, _, fb) in enumerate(opts, 1))
        q = Question(qid, qtype, stem, "", options, general, "")
        questions.append(_apply_meta(q, meta))
    bank = Bank(
        chapter=bank_meta.get("chapter", name),
        title=bank_meta.get("title", name),
        title_zh=bank_meta.get("title_zh", ""),
        questions=tuple(questions),
    )
    for q in questions:
        if not q.text_zh:
            notes.append(f"{q.id}: no Chinese text (GIFT carries one language)")
            break
    return ImportResult(bank, skipped, notes)


def _apply_meta(q: Question, meta: dict) -> Question:
    if not meta:
        return q
    lang = meta.get("lang", "en")
    mopts = meta.get("options", [])
    options = []
    for i, o in enumerate(q.options):
        mo = mopts[i] if i < len(mopts) and isinstance(mopts[i], dict) else {}
        other_text, other_fb = mo.get("text", ""), mo.get("feedback", "")
        if lang == "zh":
            options.append(Option(mo.get("id", o.id), other_text, o.text, o.correct, other_fb, o.feedback))
        else:
            options.append(Option(mo.get("id", o.id), o.text, other_text, o.correct, o.feedback, other_fb))
    order = meta.get("order")
    if isinstance(order, list) and sorted(map(str, order)) == sorted(o.id for o in options):
        by_id = {o.id: o for o in options}
        options = [by_id[str(i)] for i in order]
    source = meta.get("source", {}) or {}
    text, expl = q.text, q.explanation
    other_text, other_expl = meta.get("text", ""), meta.get("explanation", "")
    if lang == "zh":
        text, text_zh, explanation, explanation_zh = other_text, text, other_expl, expl
    else:
        text_zh, explanation, explanation_zh = other_text, expl, other_expl
    return Question(
        id=meta.get("id", q.id),
        type=meta.get("type", q.type),
        text=text,
        text_zh=text_zh,
        options=tuple(options),
        explanation=explanation,
        explanation_zh=explanation_zh,
        source_note=source.get("note", ""),
        source_heading=source.get("heading", ""),
        source_evidence=source.get("evidence", ""),
        points=float(meta.get("points", 1.0)),
        kind=str(meta.get("kind", "")),
    )


# --- Aiken import -------------------------------------------------------------------

_AIKEN_OPT = re.compile(r"^([A-Z])[.)]\s+(.*)$")
_AIKEN_ANS = re.compile(r"^ANSWER:\s*([A-Z])\s*$")


def import_aiken(source: str, name: str = "imported") -> ImportResult:
    questions: list[Question] = []
    skipped: list[str] = []
    stem: list[str] = []
    opts: list[tuple[str, str]] = []
    n = 0
    for raw in source.splitlines() + [""]:
        line = raw.strip()
        if not line:
            if stem and not opts:
                pass
            continue
        ans = _AIKEN_ANS.match(line)
        opt = _AIKEN_OPT.match(line)
        if ans:
            n += 1
            letters = [letter for letter, _ in opts]
            text = " ".join(stem)
            if ans.group(1) not in letters or len(opts) < 2:
                skipped.append(f"question {n} ({text[:40]}…): ANSWER {ans.group(1)} does not name one of its options")
            else:
                options = tuple(
                    Option(f"o{i}", t, "", letter == ans.group(1), "", "") for i, (letter, t) in enumerate(opts, 1)
                )
                questions.append(Question(f"{name}.q{n:02d}", "single", text, "", options))
            stem, opts = [], []
        elif opt and stem:
            opts.append((opt.group(1), opt.group(2).strip()))
        else:
            if opts:  # a question without ANSWER: line
                n += 1
                skipped.append(f"question {n} ({' '.join(stem)[:40]}…): no ANSWER: line")
                stem, opts = [], []
            stem.append(line)
    if stem:
        n += 1
        skipped.append(f"question {n} ({' '.join(stem)[:40]}…): incomplete at the end of the file")
    notes = ["Aiken has no Chinese text, feedback, explanations or sources: fill them in before using the bank."] if questions else []
    return ImportResult(Bank(chapter=name, title=name, title_zh="", questions=tuple(questions)), skipped, notes)
