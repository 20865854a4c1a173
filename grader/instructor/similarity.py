"""Similarity between submissions (``grade report --similarity``): evidence for a person to
read, never a grade change.

Per exercise (the function or class the catalog names in its module), every student's
code is cut out of their module and normalised with :mod:`tokenize` (never ``ast``: the
parser can be made to run for minutes, and this process cannot interrupt it): comments,
blank lines, docstrings and annotations dropped, the names the student chose (locals,
parameters, functions, attributes they assign) abstracted to one token, every literal to one
token per kind; keywords, operators, builtins and library attributes (``np.dot``, ``.shape``)
stay. Each exercise's token stream is hashed in k-grams of ``K`` tokens and winnowed
(Schleimer, Wilkerson and Aiken 2003: the smallest hash of every window of ``WINDOW``
k-grams, so any match of at least ``K + WINDOW - 1`` tokens is seen). Two kinds of
fingerprint are then no evidence: those in the reference code (the stubs in ``exercises/``
and the book's code in ``solutions/`` of the same chapter or of a module of the same name:
every k-gram, not only the winnowed ones), and those more than ``share`` of the class holds.
A pair is ranked by the tokens its remaining common fingerprints cover outside the reference
code (the smaller of the two sides): the rare code the two share. Hashes are of int tuples,
so the same class gives the same ranking in every process (a ``str`` hash is salted).

Bounded work on untrusted text: at most ``MAX_SOURCE_BYTES`` of a module are read and at
most ``MAX_TOKENS`` tokens kept; a file that does not tokenize is compared as far as it
went, with a note; a fingerprint makes pairs only while at most ``MAX_HOLDERS`` students
hold it; at most ``MAX_PAIRS_PER_EXERCISE`` pairs per exercise are kept.

Why not copydetect 0.5.0 (measured with ``bench/bench_similarity.py --copydetect``): on the
same planted class it put two pairs of independent implementations above a planted copy, and
its ranks change from run to run (it hashes ``str`` k-grams with the salted ``hash``); it
compares whole files, keeps numbers and docstrings, does not drop annotations (the book's code
is annotated, so its boilerplate removal misses it), has no "common in the class" filter,
imports matplotlib, and its HTML report loads Bootstrap's CSS and script from a CDN (not
offline, and a script in a page of untrusted code). This module needs the standard library only.
"""

from __future__ import annotations

import bisect
import builtins
import io
import keyword
import tokenize
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

K = 15  # tokens per k-gram
WINDOW = 4  # k-grams per winnowing window: every match of K + WINDOW - 1 = 18 tokens is found
DEFAULT_SHARE = 0.2  # a fragment more than this share of the class writes is common, not evidence
MAX_HOLDERS = 100  # a fragment more than this many students hold is common whatever the share (bounds the pairs)
MIN_TOKENS = 20  # a pair sharing fewer rare tokens than this in an exercise is not listed
MAX_SOURCE_BYTES = 200_000  # read of one module (exercises are a few KB)
MAX_TOKENS = 20_000  # tokens kept of one module
MAX_PAIRS_PER_EXERCISE = 10  # listed (and given a side-by-side view) per exercise

_BUILTINS = frozenset(dir(builtins))
_SKIP = {tokenize.COMMENT, tokenize.NL, tokenize.ENCODING, tokenize.ENDMARKER}
_ASSIGN_OPS = {"=", "+=", "-=", "*=", "/=", "//=", "%=", "@=", "**=", "&=", "|=", "^=", ">>=", "<<="}
_FSTRING_START = getattr(tokenize, "FSTRING_START", None)  # 3.12+: f-strings come in pieces
_FSTRING_END = getattr(tokenize, "FSTRING_END", None)


@dataclass(frozen=True)
class Token:
    kind: str  # the normalised token: "N" a name the student chose, "#" a number, "S" a string, else the text
    start: tuple[int, int]  # (line, column) in the module, as tokenize gives them (lines from 1)
    end: tuple[int, int]


@dataclass
class Unit:
    """One top-level ``def`` or ``class`` of a module: its lines and normalised tokens."""

    name: str
    first_line: int  # 1-based, decorators included
    last_line: int  # inclusive
    tokens: list[Token]


@dataclass
class Module:
    units: dict[str, Unit]  # the last definition of each name wins, as when Python runs the module
    lines: list[str]
    note: str = ""  # why some or all of it was left out (too large, does not tokenize)


def read_module(data: bytes) -> Module:
    """Tokenize (bounded) and split into top-level definitions."""
    note = ""
    if len(data) > MAX_SOURCE_BYTES:
        data = data[:MAX_SOURCE_BYTES]
        note = f"only the first {MAX_SOURCE_BYTES // 1000} KB read"
    text = data.decode("utf-8", errors="replace")
    lines = text.split("\n")  # as tokenize's readline splits (splitlines also splits at \x0c, \u2028, ...)
    raw: list[tokenize.TokenInfo] = []
    try:
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            raw.append(tok)
            if len(raw) >= MAX_TOKENS:
                note = f"only the first {MAX_TOKENS} tokens read"
                break
    except (tokenize.TokenError, SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        note = f"does not tokenize ({type(exc).__name__}); read up to line {raw[-1].start[0] if raw else 0}"
    return Module(_split(normalise(raw), raw), lines, note)


def _student_names(raw: list[tokenize.TokenInfo]) -> set[str]:
    """Attribute names the module assigns (``self.mask = ...``): the student chose them."""
    chosen: set[str] = set()
    for i in range(1, len(raw) - 1):
        if raw[i].type == tokenize.NAME and raw[i - 1].string == "." and raw[i + 1].string in _ASSIGN_OPS:
            chosen.add(raw[i].string)
    return chosen


def _annotations(raw: list[tokenize.TokenInfo]) -> set[int]:
    """Indices of the tokens of a ``def`` header's annotations (``x: np.ndarray``, ``-> None``):
    the book's code is annotated and students' often is not; they change nothing."""
    out: set[int] = set()
    i = 0
    while i < len(raw):
        if raw[i].string != "def":
            i += 1
            continue
        depth, skip_at = 0, None  # skip_at: the bracket depth where the annotation began
        i += 1
        while i < len(raw) and raw[i].type != tokenize.NEWLINE:
            text, op = raw[i].string, raw[i].type == tokenize.OP
            if op and text in "([{":
                depth += 1
            elif op and text in ")]}":
                depth -= 1
                if skip_at is not None and depth < skip_at:
                    skip_at = None
            elif skip_at is not None and depth == skip_at and op and text in (",", "="):
                skip_at = None
            elif skip_at is None and depth == 1 and op and text == ":":
                skip_at = 1
            elif depth == 0 and op and text == "->":
                skip_at = 0
            elif depth == 0 and op and text == ":":
                break
            if skip_at is not None:
                out.add(i)
            i += 1
    return out


def normalise(raw: list[tokenize.TokenInfo]) -> list[Token | None]:
    """One entry per raw token: its normalised form, or None where it is dropped."""
    chosen = _student_names(raw)
    dropped = _annotations(raw)
    out: list[Token | None] = []
    depth_fstring = 0
    line_start = True  # the previous kept token ended a logical line
    for i, tok in enumerate(raw):
        kind: str | None
        if _FSTRING_START is not None and tok.type == _FSTRING_START:
            depth_fstring += 1
            out.append(Token("S", tok.start, tok.end) if depth_fstring == 1 else None)
            continue
        if depth_fstring:
            depth_fstring -= tok.type == _FSTRING_END
            out.append(None)
            continue
        if tok.type in _SKIP or i in dropped:
            kind = None
        elif tok.type == tokenize.STRING:
            nxt = raw[i + 1].type if i + 1 < len(raw) else tokenize.ENDMARKER
            # a string alone on its line is a docstring or a comment in disguise
            kind = None if line_start and nxt in (tokenize.NEWLINE, tokenize.ENDMARKER, tokenize.COMMENT) else "S"
        elif tok.type == tokenize.NUMBER:
            kind = "#"
        elif tok.type == tokenize.NAME:
            after_dot = i > 0 and raw[i - 1].string == "."
            if keyword.iskeyword(tok.string) or (not after_dot and tok.string in _BUILTINS):
                kind = tok.string
            elif after_dot and tok.string not in chosen:
                kind = tok.string  # a library's attribute: np.dot, x.shape
            else:
                kind = "N"
        elif tok.type == tokenize.NEWLINE:
            kind = ";"
        elif tok.type == tokenize.INDENT:
            kind = "{"
        elif tok.type == tokenize.DEDENT:
            kind = "}"
        else:
            kind = tok.string
        if kind is None:
            out.append(None)
            continue
        out.append(Token(kind, tok.start, tok.end))
        line_start = tok.type in (tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT)
    return out


def _split(norm: list[Token | None], raw: list[tokenize.TokenInfo]) -> dict[str, Unit]:
    """Top-level ``def``/``class`` statements (with their decorators) by name."""
    units: dict[str, Unit] = {}
    depth = 0
    at_statement = True
    pending: int | None = None  # raw index of the first decorator of the coming definition
    current: tuple[str, int] | None = None  # (name, first raw index) of the open definition

    def close(end_index: int) -> None:
        if current is None:
            return
        name, first = current
        toks = [t for t in norm[first:end_index] if t is not None]
        first_line = raw[first].start[0]
        last = max((t.end[0] for t in toks if t.kind != "}"), default=first_line)  # a dedent sits on the next line
        units[name] = Unit(name, first_line, last, toks)

    for i, tok in enumerate(raw):
        if tok.type == tokenize.INDENT:
            depth += 1
            continue
        if tok.type == tokenize.DEDENT:
            depth -= 1
            continue
        if tok.type in (tokenize.NL, tokenize.COMMENT, tokenize.ENCODING):
            continue
        if at_statement and depth == 0:
            if tok.string == "@":
                if pending is None:
                    close(i)
                    current, pending = None, i
            else:
                close(pending if pending is not None else i)
                first = pending if pending is not None else i
                current, pending = None, None
                j = i + 2 if tok.string == "async" else i + 1
                if (tok.string in ("def", "class") or (tok.string == "async" and j < len(raw)
                                                        and raw[j - 1].string == "def")) \
                        and j < len(raw) and raw[j].type == tokenize.NAME:
                    current = (raw[j].string, first)
        at_statement = tok.type == tokenize.NEWLINE
    close(len(raw))
    return units


# -- fingerprints --------------------------------------------------------------------------


def kgrams(kinds: list[int]) -> list[int]:
    return [hash(tuple(kinds[i:i + K])) for i in range(len(kinds) - K + 1)]


def winnow(hashes: list[int]) -> dict[int, list[int]]:
    """hash -> the k-gram positions selected (the rightmost minimum of each window)."""
    chosen: dict[int, list[int]] = defaultdict(list)
    last = -1
    for w in range(max(0, len(hashes) - WINDOW + 1) or (1 if hashes else 0)):
        window = hashes[w:w + WINDOW]
        low = min(window)
        pos = w + max(j for j, h in enumerate(window) if h == low)
        if pos != last:
            chosen[hashes[pos]].append(pos)
            last = pos
    return chosen


class Vocabulary:
    """Normalised token text -> a small int (ints hash the same in every process)."""

    def __init__(self) -> None:
        self.ids: dict[str, int] = {}

    def __call__(self, tokens: Iterable[Token]) -> list[int]:
        return [self.ids.setdefault(t.kind, len(self.ids)) for t in tokens]


# -- the comparison --------------------------------------------------------------------------


@dataclass
class Doc:
    student: str
    unit: Unit
    lines: list[str]  # the whole module's lines (the unit's are first_line..last_line)
    own: int = 0  # tokens not covered by reference code
    reference: list[int] = field(default_factory=list)  # per token: 1 where reference code covers it
    fingerprints: dict[int, list[int]] = field(default_factory=dict)  # rare ones only, after filtering


@dataclass
class Pair:
    exercise: str
    a: str
    b: str
    shared: int  # rare tokens in common: the smaller of the two sides' covered tokens
    cover_a: int  # a's own (non-reference) tokens in the shared regions
    cover_b: int
    own_a: int
    own_b: int
    spans_a: list[tuple[int, int, int]]  # (first token, end token, match number) of a's unit
    spans_b: list[tuple[int, int, int]]
    doc_a: Doc
    doc_b: Doc


@dataclass
class ExerciseResult:
    exercise: str
    students: int  # students whose code for it was compared
    common_limit: int  # a fingerprint held by more students than this was dropped as common
    pairs: list[Pair]  # ranked, at most MAX_PAIRS_PER_EXERCISE
    more: int = 0  # pairs above MIN_TOKENS not listed


@dataclass
class SimilarityReport:
    exercises: list[ExerciseResult]
    students: int
    share: float
    references: list[str]  # where the reference code came from
    notes: list[tuple[str, str]]  # (student, note) for files read in part or not at all
    k: int = K
    window: int = WINDOW
    min_tokens: int = MIN_TOKENS

    def ranked_pairs(self) -> list[tuple[str, str, int, list[Pair]]]:
        """Student pairs over all exercises, most shared rare tokens first."""
        total: dict[tuple[str, str], list[Pair]] = defaultdict(list)
        for ex in self.exercises:
            for p in ex.pairs:
                total[(p.a, p.b)].append(p)
        rows = [(a, b, sum(p.shared for p in ps), ps) for (a, b), ps in total.items()]
        rows.sort(key=lambda r: (-r[2], r[0], r[1]))
        return rows


def _covered(positions: Iterable[int]) -> list[tuple[int, int]]:
    """Merged [start, end) token ranges covered by k-grams starting at ``positions``."""
    out: list[tuple[int, int]] = []
    for p in sorted(positions):
        if out and p <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], p + K))
        else:
            out.append((p, p + K))
    return out


def _mask(ranges: list[tuple[int, int]], n: int) -> list[int]:
    mask = [0] * n
    for s, e in ranges:
        mask[s:e] = [1] * (min(e, n) - s)
    return mask


def _own(ranges: list[tuple[int, int]], reference: list[int]) -> int:
    """Tokens of ``ranges`` that are not reference code."""
    return sum(1 for s, e in ranges for i in range(s, min(e, len(reference))) if not reference[i])


def compare_exercise(exercise: str, docs: list[Doc], reference: set[int], vocab: Vocabulary,
                     share: float, min_tokens: int = MIN_TOKENS) -> ExerciseResult:
    """Rank the pairs of ``docs`` (one per student) by rare code in common."""
    held: dict[int, list[Doc]] = defaultdict(list)
    for doc in docs:
        ids = vocab(doc.unit.tokens)
        hashes = kgrams(ids)
        ref = _mask(_covered(i for i, h in enumerate(hashes) if h in reference), len(ids))
        doc.own = len(ids) - sum(ref)
        doc.reference = ref  # shared tokens are counted outside it: the book's code glued differently is not rare
        doc.fingerprints = {h: ps for h, ps in winnow(hashes).items() if h not in reference}
        for h in doc.fingerprints:
            held[h].append(doc)
    limit = min(max(2, int(share * len(docs))), MAX_HOLDERS)
    common: dict[tuple[str, str], set[int]] = defaultdict(set)
    for h, holders in held.items():
        if len(holders) > limit:
            continue
        for i, x in enumerate(holders):
            for y in holders[i + 1:]:
                key = (x.student, y.student) if x.student < y.student else (y.student, x.student)
                common[key].add(h)
    by_student = {d.student: d for d in docs}
    pairs = []
    for (a, b), hashes_ in common.items():
        da, db = by_student[a], by_student[b]
        ra = _covered(p for h in hashes_ for p in da.fingerprints[h])
        rb = _covered(p for h in hashes_ for p in db.fingerprints[h])
        shared = min(_own(ra, da.reference), _own(rb, db.reference))
        if shared < min_tokens:
            continue
        spans_a, spans_b = _numbered(ra, rb, hashes_, da, db)
        pairs.append(Pair(exercise, a, b, shared, _own(ra, da.reference), _own(rb, db.reference), da.own, db.own,
                          spans_a, spans_b, da, db))
    pairs.sort(key=lambda p: (-p.shared, p.a, p.b))
    return ExerciseResult(exercise, len(docs), limit, pairs[:MAX_PAIRS_PER_EXERCISE],
                          max(0, len(pairs) - MAX_PAIRS_PER_EXERCISE))


def _numbered(ra: list[tuple[int, int]], rb: list[tuple[int, int]], hashes: set[int], da: Doc,
              db: Doc) -> tuple[list[tuple[int, int, int]], list[tuple[int, int, int]]]:
    """Number a's matching regions in order; b's region gets the number of the first a region
    it shares a fingerprint with (so the reader can see which goes with which)."""
    spans_a = [(s, e, n + 1) for n, (s, e) in enumerate(ra)]

    starts_a, starts_b = [s for s, _e in ra], [s for s, _e in rb]

    def region(ranges: list[tuple[int, int]], starts: list[int], pos: int) -> int:
        i = bisect.bisect_right(starts, pos) - 1
        return i if i >= 0 and pos < ranges[i][1] else -1

    number_b: dict[int, int] = {}
    for h in sorted(hashes, key=lambda h: min(da.fingerprints[h])):
        na = region(ra, starts_a, min(da.fingerprints[h])) + 1
        for p in db.fingerprints[h]:
            number_b.setdefault(region(rb, starts_b, p), na)
    spans_b = [(s, e, number_b.get(i, 0)) for i, (s, e) in enumerate(rb)]
    return spans_a, spans_b


# -- reading the class and the references ------------------------------------------------------


def reference_fingerprints(paths: Iterable[Path], vocab: Vocabulary) -> dict[str, set[int]]:
    """Module file ("chapter3/activations.py") -> every k-gram of every top-level definition
    in the reference files that bear on it: the same chapter's, and modules of the same name
    in other chapters (chapter 5's two_layer_net.py grows out of chapter 4's)."""
    per_file: dict[str, set[int]] = {}
    for path in paths:
        try:
            module = read_module(path.read_bytes())
        except OSError:
            continue
        grams = per_file.setdefault(f"{path.parent.name}/{path.name}", set())
        for unit in module.units.values():
            grams.update(kgrams(vocab(unit.tokens)))
    return per_file


def _reference_for(per_file: dict[str, set[int]], f: str) -> set[int]:
    chapter, name = f.split("/", 1)
    out: set[int] = set()
    for g, grams in per_file.items():
        if g.split("/", 1)[0] == chapter or g.split("/", 1)[1] == name:
            out |= grams
    return out


def find_references(root: Path | None = None) -> list[Path]:
    """``exercises/`` and ``solutions/`` of the course repository (the grader's checkout)."""
    root = root or Path(__file__).resolve().parents[2]
    return sorted(p for d in ("exercises", "solutions") for p in (root / d).glob("chapter*/*.py"))


def build_similarity(sources: dict[str, dict[str, bytes]], exercises: list[tuple[str, str, str]],
                     references: list[Path], share: float = DEFAULT_SHARE,
                     min_tokens: int = MIN_TOKENS) -> SimilarityReport:
    """``sources``: student -> {"chapter3/activations.py": bytes}; ``exercises``: (id, module
    file "chapter3/activations.py", the def/class name)."""
    vocab = Vocabulary()
    reference = reference_fingerprints(references, vocab)
    notes: list[tuple[str, str]] = []
    modules: dict[tuple[str, str], Module] = {}
    files = sorted({f for _ex, f, _n in exercises})
    for student in sorted(sources):
        for f in files:
            data = sources[student].get(f)
            if data is None:
                continue
            module = read_module(data)
            modules[(student, f)] = module
            if module.note:
                notes.append((student, f"{f}: {module.note}"))
    results = []
    for ex_id, f, name in exercises:
        docs = [Doc(student, m.units[name], m.lines) for (student, ff), m in sorted(modules.items())
                if ff == f and name in m.units]
        results.append(compare_exercise(ex_id, docs, _reference_for(reference, f), vocab, share, min_tokens))
    ref_dirs = sorted({str(p.parent.parent) for p in references})
    return SimilarityReport(results, len(sources), share, ref_dirs, notes, min_tokens=min_tokens)


def from_gradebook(gb: object, share: float = DEFAULT_SHARE, references: list[Path] | None = None,
                   min_tokens: int = MIN_TOKENS) -> SimilarityReport:
    """Each student's counted submission (the newest graded one), from the sources the
    gradebook kept at collection (already read through the bounded submission readers)."""
    from grader.grading.catalog import load_catalog
    from grader.instructor.gradebook import Gradebook

    assert isinstance(gb, Gradebook)
    sources: dict[str, dict[str, bytes]] = {}
    for row in gb.latest():
        kept = gb.sources(row["hash"])
        if kept is not None:
            sources[row["student"]] = kept[0]
    exercises = [(e.id, f"{e.chapter}/{e.module}.py", e.name) for e in load_catalog().exercises.values()]
    return build_similarity(sources, exercises, find_references() if references is None else references,
                            share, min_tokens)


def similarity_report(db: Path, share: float = DEFAULT_SHARE) -> SimilarityReport:
    """``grade report --similarity``: the comparison of a gradebook's counted submissions."""
    from grader.instructor.gradebook import Gradebook
    from grader.util.errors import UsageError

    if not 0.0 < share <= 1.0:
        raise UsageError(f"--similarity-share must be above 0 and at most 1 (got {share:g}).")
    with Gradebook(db) as gb:
        return from_gradebook(gb, share)
