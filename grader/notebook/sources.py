"""A notebook's exercise cells as module sources: the one extraction every path uses.

``grade check`` on a workspace whose exercises are notebooks, ``check()`` inside a
notebook, ``grade collect`` and ``grade submit`` all turn an ``.ipynb`` into
``{module: source text}`` here. Stdlib and ``json`` only; nothing is executed, imported
or unpickled: a notebook is read as bounded JSON and its tagged code cells are joined
as text.

A code cell belongs to a module when its metadata says so
(``"dl_grade": {"module": "activations", "exercise": "chapter3.softmax"}``), or, when a
front end dropped the metadata (or for cells replayed from the kernel's history), when
its first line is the marker comment ``# dl-grade: module=activations part=softmax``.
The marker line itself is not part of the module. A module's source is its cells in
notebook order, joined by two blank lines. Lines that start with ``%`` or ``!``
(IPython magics and shell escapes) are not Python: they are blanked (line numbers stay)
and each cell that had some gets a note. A notebook that is not JSON, is too large, is
nested too deep or has too many cells is a problem, never a traceback.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grader.util.i18n import tr
from grader.util.jsonbound import JsonTooLarge, load_json_bounded

MAX_NOTEBOOK_BYTES = 5_000_000
# Sources parsed on the trusted side (the submission check, the plugin's syntax-error and
# shape messages): Python's parser is quadratic on some inputs, so only exercise-sized ones
MAX_CHECKED_FILE_BYTES = 64_000  # a source larger than this is not parsed here (exercises are a few KB)
MAX_CHECKED_BYTES = 256_000  # nor past this much source per submission
MAX_CELLS = 2_000
MAX_DEPTH = 64  # outputs (application/json, widgets) nest; cells and tags sit at depth 5
MAX_MODULE_BYTES = 1_000_000  # as the plugin caps one source file
MARKER_PREFIX = "# dl-grade:"
_MARKER = re.compile(r"^#\s*dl-grade:\s*(?P<body>.*)$")
# A key starts where a run of word characters starts: the same matches as ``(\w+)=(\S+)``,
# but a marker line of a million letters and no "=" is scanned once, not from every letter
# (quadratic: a 5 MB notebook stalled grade collect for hours).
_FIELD = re.compile(r"(?<!\w)(\w+)=(\S+)")


class NotebookProblem(ValueError):
    """The notebook cannot be read; the message says why, for a student or a gradebook."""


@dataclass
class Extracted:
    modules: dict[str, str] = field(default_factory=dict)  # "activations" -> source text
    exercises: dict[str, list[str]] = field(default_factory=dict)  # module -> exercise ids of its cells
    notes: list[str] = field(default_factory=list)  # dropped magics, untagged cells, ...
    cells: int = 0  # tagged code cells used
    # module -> [(first module line, last module line, cell label, cell line of the first)]
    spans: dict[str, list[tuple[int, int, str, int]]] = field(default_factory=dict)
    parts: dict[tuple[str, str], str] = field(default_factory=dict)  # (module, part) -> its cell's code


def marker_line(module: str, part: str) -> str:
    """The first line of a generated code cell: the tag that survives copy and paste,
    front ends that drop metadata, and the kernel's input history."""
    return f"{MARKER_PREFIX} module={module} part={part}"


def load_bounded(raw: bytes, what: str) -> Any:
    """``json.loads`` with the size and nesting checked first (a RecursionError or a
    MemoryError never reaches the caller)."""
    if len(raw) > MAX_NOTEBOOK_BYTES:
        raise NotebookProblem(tr("nb.problem.too_large", what=what, mb=MAX_NOTEBOOK_BYTES // 1_000_000))
    try:
        return load_json_bounded(raw, what, MAX_NOTEBOOK_BYTES, MAX_DEPTH)
    except JsonTooLarge as exc:
        raise NotebookProblem(str(exc)) from None
    except UnicodeDecodeError as exc:
        raise NotebookProblem(tr("nb.problem.not_utf8", what=what, byte=exc.start)) from None
    except (ValueError, RecursionError) as exc:
        raise NotebookProblem(tr("nb.problem.not_json", what=what, error=str(exc)[:120])) from None


def _text(source: Any) -> str | None:
    if isinstance(source, str):
        return source
    if isinstance(source, list) and all(isinstance(s, str) for s in source):
        return "".join(source)
    return None


def _tag(cell: dict[str, Any], text: str) -> tuple[dict[str, str] | None, str]:
    """(tag, source without the marker line) of a code cell; tag None when untagged."""
    first, _, rest = text.partition("\n")
    marker = _MARKER.match(first.strip())
    meta = cell.get("metadata")
    tag = meta.get("dl_grade") if isinstance(meta, dict) else None
    if isinstance(tag, dict) and isinstance(tag.get("module"), str):
        found = {k: v for k, v in tag.items() if isinstance(k, str) and isinstance(v, str)}
        return found, (rest if marker else text)
    if marker:
        return dict(_FIELD.findall(marker.group("body"))), rest
    return None, text


def strip_magics(text: str) -> tuple[str, list[str]]:
    """Blank lines that start with ``%`` or ``!`` (IPython, not Python); return them."""
    dropped: list[str] = []
    lines = text.split("\n")
    for i, line in enumerate(lines):
        if line.lstrip().startswith(("%", "!")):
            dropped.append(line.strip())
            lines[i] = ""
    return "\n".join(lines), dropped


def assemble(cells: Iterable[tuple[dict[str, str], str, str, int]], modules: Iterable[str] | None = None) -> Extracted:
    """Join tagged cells ``(tag, source, where)`` into modules. ``modules`` limits the
    result to a chapter's modules (other tags are noted and left out). ``spans`` map the
    module's lines back to cells, for messages a student can follow in the notebook."""
    wanted = set(modules) if modules is not None else None
    out = Extracted()
    parts: dict[str, list[tuple[str, str, int]]] = {}
    for tag, source, where, above in cells:
        module = tag.get("module", "")
        if not module.isidentifier():
            out.notes.append(tr("nb.note.bad_module", where=where, module=repr(module[:40])))
            continue
        if wanted is not None and module not in wanted:
            out.notes.append(tr("nb.note.other_module", where=where, module=repr(module)))
            continue
        clean, dropped = strip_magics(source)
        if dropped:
            shown = ", ".join(d[:30] for d in dropped[:3]) + (" …" if len(dropped) > 3 else "")
            out.notes.append(tr("nb.note.magics", where=where, n=len(dropped), shown=shown))
        chunk = clean.strip("\n")
        out.parts[(module, tag.get("part", tag.get("exercise", "")))] = chunk
        above += len(clean) - len(clean.lstrip("\n"))
        parts.setdefault(module, []).append((chunk, where, above + 1))
        exercise = tag.get("exercise")
        if exercise:
            out.exercises.setdefault(module, []).append(exercise)
        out.cells += 1
    for module, chunks in parts.items():
        kept = [c for c in chunks if c[0]]
        text = "\n\n\n".join(c[0] for c in kept) + "\n"
        line = 1
        for chunk, where, first in kept:
            n = chunk.count("\n") + 1
            out.spans.setdefault(module, []).append((line, line + n - 1, where, first))
            line += n + 2
        if len(text.encode("utf-8")) > MAX_MODULE_BYTES:
            out.notes.append(tr("nb.note.too_much_code", module=module, kb=MAX_MODULE_BYTES // 1000))
            text = text.encode("utf-8")[:MAX_MODULE_BYTES].decode("utf-8", "ignore")
        out.modules[module] = text
    return out


def extract(raw: bytes, what: str | None = None, modules: Iterable[str] | None = None) -> Extracted:
    """``{module: source}`` from the bytes of an ``.ipynb``. Raises NotebookProblem when
    the notebook cannot be read at all."""
    what = what if what is not None else tr("nb.the_notebook")
    data = load_bounded(raw, what)
    cells = data.get("cells") if isinstance(data, dict) else None
    if not isinstance(cells, list):
        raise NotebookProblem(tr("nb.problem.no_cells", what=what))
    if len(cells) > MAX_CELLS:
        raise NotebookProblem(tr("nb.problem.too_many_cells", what=what, n=len(cells), max=MAX_CELLS))
    tagged: list[tuple[dict[str, str], str, str, int]] = []
    untagged = 0
    for n, cell in enumerate(cells, 1):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        text = _text(cell.get("source", ""))
        if text is None:
            continue
        tag, body = _tag(cell, text)
        if tag is None:
            untagged += any(line.strip() and not line.lstrip().startswith(("#", "%", "!"))
                            for line in text.split("\n"))
            continue
        # the cell's place in the notebook, and its execution number when the saved notebook has one
        count = cell.get("execution_count")
        where = (tr("nb.where.cell_run", what=what, n=n, count=count)
                 if isinstance(count, int) and not isinstance(count, bool) and 0 < count < 10**9
                 else tr("nb.where.cell", what=what, n=n))
        tagged.append((tag, body, where, int(body is not text)))
    out = assemble(tagged, modules)
    if untagged:
        out.notes.append(tr("nb.note.untagged", what=what, n=untagged))
    return out


def extract_history(inputs: Iterable[str], modules: Iterable[str] | None = None, first: int = 1) -> Extracted:
    """Modules from the cells a kernel ran (``In``, oldest first): for every tagged part
    (module + part) the LAST run wins; parts keep the order they were first run in."""
    latest: dict[tuple[str, str], tuple[dict[str, str], str, str, int]] = {}
    first_run: dict[tuple[str, str], int] = {}
    for n, text in enumerate(inputs, first):  # n: the execution number (IPython's In[0] is "")
        if not isinstance(text, str):
            continue
        text = text.lstrip("\n")
        if not _MARKER.match(text.partition("\n")[0].strip()):
            continue
        tag, body = _tag({}, text)
        if tag is None:
            continue
        key = (tag.get("module", ""), tag.get("part", tag.get("exercise", "")))
        first_run.setdefault(key, n)
        latest[key] = (tag, body, tr("nb.where.history", n=n), 1)
    ordered = sorted(latest, key=lambda k: first_run[k])
    return assemble((latest[k] for k in ordered), modules)


@dataclass
class Choice:
    """Which source a chapter is graded from, when it may be a notebook."""

    files: dict[str, bytes]  # module -> source bytes, as the worker gets them
    source: str  # "py" | "notebook"
    note: str = ""  # one line for the report: which source was graded and why
    notes: list[str] = field(default_factory=list)  # from extraction (dropped magics, ...)
    problem: str = ""  # the notebook could not be read (recorded; the .py files are graded)
    spans: dict[str, list[tuple[int, int, str, int]]] = field(default_factory=dict)  # see Extracted


def choose(modules: Iterable[str], py: dict[str, bytes], py_time: float | None,
           notebook: bytes | None, notebook_time: float | None, notebook_name: str, py_name: str) -> Choice:
    """Grade a chapter from its ``.py`` files or from its notebook: the notebook when it
    is the only one, or when both exist and it was changed last (ties: the ``.py``)."""
    modules = list(modules)
    if notebook is None:
        return Choice(py, "py")
    try:
        found = extract(notebook, notebook_name, modules)
    except NotebookProblem as exc:
        return Choice(py, "py", tr("nb.choice.py_unreadable", py=py_name, problem=exc), problem=str(exc))
    nb_files = {m: t.encode("utf-8") for m, t in found.modules.items()}
    if not nb_files:
        if py:
            return Choice(py, "py", tr("nb.choice.py_no_cells", py=py_name, nb=notebook_name), found.notes)
        return Choice({}, "notebook", tr("nb.choice.nothing", nb=notebook_name), found.notes)
    if not py:
        return Choice(nb_files, "notebook", tr("nb.choice.notebook", nb=notebook_name), found.notes, spans=found.spans)
    if notebook_time is not None and py_time is not None and notebook_time > py_time:
        return Choice(nb_files, "notebook", tr("nb.choice.notebook_newer", nb=notebook_name, py=py_name), found.notes,
                      spans=found.spans)
    return Choice(py, "py", tr("nb.choice.py_newer", py=py_name, nb=notebook_name))


def choose_in_folder(exercises: Path, chapter_id: str, modules: Iterable[str]) -> Choice:
    """``choose`` for a workspace's ``exercises/`` folder (file modification times)."""
    modules = list(modules)
    folder = exercises / chapter_id
    py: dict[str, bytes] = {}
    times: list[float] = []
    for path in sorted(folder.glob("*.py")) if folder.is_dir() else []:
        if path.is_file() and path.stem.isidentifier():
            py[path.stem] = path.read_bytes()[:MAX_MODULE_BYTES]
            times.append(path.stat().st_mtime)
    nb_path = exercises / f"{chapter_id}.ipynb"
    raw: bytes | None = None
    nb_time: float | None = None
    if nb_path.is_file():
        nb_time = nb_path.stat().st_mtime
        with open(nb_path, "rb") as f:
            raw = f.read(MAX_NOTEBOOK_BYTES + 1)
    return choose(modules, py, max(times) if times else None, raw, nb_time,
                  f"exercises/{chapter_id}.ipynb", f"exercises/{chapter_id}/*.py")


def write_modules(exercises: Path, chapter_id: str, files: dict[str, bytes]) -> Path:
    """Lay ``files`` out as ``exercises/chapterN/<module>.py``; return ``exercises``."""
    folder = exercises / chapter_id
    folder.mkdir(parents=True, exist_ok=True)
    for module, data in files.items():
        if module.isidentifier():
            (folder / f"{module}.py").write_bytes(data)
    return exercises


# "File "exercises/chapter3/activations.py", line 36", "activations.py, line 36", "activations.py:36"
_LOCATION = re.compile(r'(?:File ")?(?:[^\s"]*/)?(?P<mod>\w+)\.py(?P<sep>", line |, line | line |:)(?P<line>\d+)')


def cell_of(module: str, line: int, spans: dict[str, list[tuple[int, int, str, int]]]) -> tuple[str, int] | None:
    """(the cell, the line in it) that line ``line`` of the assembled ``module`` came from."""
    for lo, hi, where, first in spans.get(module, []):
        if lo <= line <= hi:
            return where, first + line - lo
    return None


def locate(message: str, spans: dict[str, list[tuple[int, int, str, int]]]) -> str:
    """``message`` with every ``module.py", line N`` of code that came from a notebook
    replaced by the cell and the line in it (``chapter3.ipynb cell 12 (In [7]), line 4``): the
    student never saw the assembled ``.py`` file, only the cells."""

    def put(m: re.Match[str]) -> str:
        found = cell_of(m.group("mod"), int(m.group("line")), spans)
        return tr("nb.at_line", where=found[0], line=found[1]) if found else m.group(0)

    return _LOCATION.sub(put, message) if spans else message
