"""Checking inside a notebook (Jupyter, JupyterLab, Colab, Kaggle).

    %load_ext grader
    %grade check chapter3            (or %grade check chapter3.softmax)
    %grade hint chapter3.softmax     (one more hint each time; N for a given one)

or, without magics: ``from grader.notebook import check, hint; check("chapter3.softmax")``.

The kernel is the student's own process, so nothing here trusts it or uses its objects:
the chapter's modules are rebuilt from SOURCE TEXT only — the saved ``.ipynb`` when the
notebook file is known (``__session__``/``JPY_SESSION_NAME``, which Jupyter sets, or
``check(..., notebook="path.ipynb")``), else the kernel's input history of cells that
carry the ``# dl-grade:`` marker — with the one extraction collection uses
(``grader.notebook.sources``). They are written to a temporary folder laid out like
``exercises/`` and graded by ``runner.run_check`` in a FRESH pytest process, with the
same suites, worker and sandbox as ``grade check``; numpy and pytest are not imported
into the kernel for it. The report is the terminal report rendered as HTML (with a
plain-text fallback), in English or Chinese, and says which source it graded and which
isolation was available (no bubblewrap on Colab or Kaggle: the report says so).

Scores seen here are advice to the student, like ``grade check``'s: official scores
come from the instructor's collection.
"""

from __future__ import annotations

import dataclasses
import importlib.abc
import importlib.machinery
import io
import os
import re
import shlex
import sys
import tempfile
import types
from pathlib import Path
from typing import Any

from grader.util.i18n import LANGS, session_lang, t

UNSAVED = "unsaved"  # the note that the kernel ran other code than the saved notebook holds
last_report: Any = None  # the CheckReport of the latest check(), for code that wants the numbers
_hints_seen: dict[str, int] = {}


def _lang(lang: str | None) -> str:
    return lang if lang in LANGS else session_lang()


def _ipython() -> Any:
    try:
        from IPython import get_ipython  # type: ignore[import-not-found]
    except ImportError:
        return None
    return get_ipython()


def _notebook_path(explicit: str | os.PathLike[str] | None) -> Path | None:
    """The saved notebook: given, else what Jupyter tells the kernel (``__session__`` in
    the user namespace, ``JPY_SESSION_NAME`` in the environment), when it is a file."""
    candidates: list[Any] = [explicit] if explicit is not None else []
    ip = _ipython()
    if explicit is None and ip is not None:
        candidates.append(ip.user_ns.get("__session__"))  # ipykernel, from the Jupyter server
        candidates.append(ip.user_ns.get("__vsc_ipynb_file__"))  # VS Code
    if explicit is None:
        candidates.append(os.environ.get("JPY_SESSION_NAME"))
    for c in candidates:
        if isinstance(c, (str, os.PathLike)) and str(c).endswith(".ipynb"):
            path = Path(c).expanduser()
            # a server may give the path relative to its root; the kernel runs in the notebook's folder
            for p in (path, Path.cwd() / path.name):
                if p.is_file():
                    return p.resolve()
    if explicit is not None:
        raise FileNotFoundError(t("nb.no_such_notebook", session_lang(), path=explicit))
    return None


def _history() -> list[str]:
    """The raw text of the cells this kernel ran, oldest first, indexed as ``In``: item k is
    In[k] (IPython keeps an empty In[0])."""
    ip = _ipython()
    if ip is None:
        return []
    raw = getattr(getattr(ip, "history_manager", None), "input_hist_raw", None)
    if isinstance(raw, list):
        return [s for s in raw if isinstance(s, str)]
    return [s for s in ip.user_ns.get("In", []) if isinstance(s, str)]


def sources_for(chapter: Any, notebook: str | os.PathLike[str] | None = None) -> tuple[Any, str, list[str]]:
    """(Extracted: modules and where their lines come from, which source, notes) for
    ``chapter``: the saved notebook when it is known and has the chapter's cells, else
    the kernel's history. ``UNSAVED`` among the notes: the kernel ran cells that differ
    from the saved notebook (the report says so first)."""
    from grader.notebook.sources import MAX_NOTEBOOK_BYTES, extract, extract_history

    lang_free_notes: list[str] = []
    path = _notebook_path(notebook)
    history = _history()
    if path is not None:
        with open(path, "rb") as f:
            found = extract(f.read(MAX_NOTEBOOK_BYTES + 1), path.name, chapter.modules)
        if found.modules:
            ran = extract_history(history, chapter.modules, first=0) if history else None
            if ran is not None and any(key in found.parts and found.parts[key] != text
                                       for key, text in ran.parts.items()):
                lang_free_notes.append(UNSAVED)
            return found, f"saved:{path}", found.notes + lang_free_notes
    found = extract_history(history, chapter.modules, first=0)
    return found, "history", found.notes


def _target(what: str) -> tuple[Any, str | None]:
    from grader.grading.catalog import load_catalog, normalize_chapter

    catalog = load_catalog()
    name = what.strip()
    if normalize_chapter(name) in catalog.chapters:
        return catalog.chapter(name), None
    exercise = catalog.exercise(name)
    return catalog.chapter(exercise.chapter), exercise.id


class Output:
    """What a check or a hint shows: HTML for notebooks, plain text elsewhere.

    ``check()`` displays its report and returns it; as the last line of a cell the returned
    value would be displayed again, so an output already displayed in the running cell
    does not display itself a second time (``_ipython_display_``)."""

    def __init__(self, html: str, text: str) -> None:
        self.html, self.text = html, text
        self.shown_in: int | None = None  # the execution count of the cell that displayed it

    def _ipython_display_(self) -> None:
        ip = _ipython()
        if ip is not None and self.shown_in is not None and self.shown_in == getattr(ip, "execution_count", None):
            return
        _show(self)

    def _repr_html_(self) -> str:
        return self.html

    def __repr__(self) -> str:
        return self.text


def _render(draw: Any) -> Output:
    from grader import reports

    buffer = io.StringIO()
    out = reports.console(buffer, width=110)
    out.is_jupyter = False  # rich would display its own copy in a kernel; we display one output, ours
    out.record = True
    draw(out)
    text = out.export_text(clear=False)
    body = out.export_html(inline_styles=True, code_format="<pre style=\"font-family: monospace; "
                           "line-height: 1.3; white-space: pre-wrap\">{code}</pre>")
    return Output(f'<div class="dl-grade-report">{body}</div>', text)


def _show(output: Output) -> None:
    ip = _ipython()
    if ip is not None:
        from IPython.display import display  # type: ignore[import-not-found]

        display({"text/html": output.html, "text/plain": output.text}, raw=True)
        output.shown_in = getattr(ip, "execution_count", None)
    else:
        sys.stdout.write(output.text)


def check(what: str, *, notebook: str | os.PathLike[str] | None = None, lang: str | None = None,
          sandbox: str = "auto", show: bool = True) -> Output:
    """Grade ``what`` ("chapter3" or an exercise such as "chapter3.softmax") from this
    notebook's source text, in a fresh process behind the worker boundary, and show the
    report. Returns the shown output (``.text``, ``.html``)."""
    from grader.util import i18n

    language = _lang(lang)
    before = i18n._chosen  # the language set for this process (None: from the environment)
    i18n.set_lang(language)  # notes, cell names and the grading process's feedback: in ``language``
    try:
        return _check(what, notebook, language, sandbox, show)
    finally:
        i18n.set_lang(before)


def _check(what: str, notebook: str | os.PathLike[str] | None, language: str, sandbox: str, show: bool) -> Output:
    global last_report
    from grader.grading.catalog import load_catalog
    from grader.grading.runner import locate_in_cells, run_check
    from grader.notebook.sources import NotebookProblem, write_modules

    chapter, exercise_id = _target(what)
    try:
        found, source, notes = sources_for(chapter, notebook)
    except (NotebookProblem, OSError) as exc:  # the saved notebook cannot be read: say why, no traceback
        output = Output(f"<p>{_escape(str(exc))}</p>", f"{exc}\n")
        if show:
            _show(output)
        return output
    if source.startswith("saved:"):
        where = t("notebook.source.saved", language, path=source[len("saved:"):])
    else:
        where = t("notebook.source.history", language)
    modules = found.modules
    if not modules:
        output = Output(f"<p>{_escape(t('notebook.nothing', language, chapter=chapter.id, where=where))}</p>",
                        t("notebook.nothing", language, chapter=chapter.id, where=where) + "\n")
        if show:
            _show(output)
        return output
    with tempfile.TemporaryDirectory(prefix="grade-notebook-") as tmp:
        exercises = write_modules(Path(tmp) / "exercises", chapter.id,
                                  {m: s.encode("utf-8") for m, s in modules.items()})
        report = run_check(chapter, exercises, sandbox=sandbox)  # a fresh pytest process, never in_process
    report = locate_in_cells(report, found.spans)
    if exercise_id is not None:
        report = dataclasses.replace(report, tests=tuple(x for x in report.tests if x.exercise == exercise_id))
    unsaved = UNSAVED in notes
    report = dataclasses.replace(report, source="; ".join([where, *(n for n in notes if n != UNSAVED)]))
    last_report = report
    catalog = load_catalog()

    def draw(out: Any) -> None:
        from grader import reports

        if unsaved:  # before the table: the table grades the saved cells, not the ones just run
            reports.render_notice(out, t("nb.unsaved", language))
        for ex_id in reports.render_check(report, catalog, out, language):
            _hints_seen[ex_id] = max(_hints_seen.get(ex_id, 0), 1)  # shown as "start here": %grade hint goes on

    output = _render(draw)
    # in a notebook the command is the magic: "grade hint chapter3.relu" -> "%grade hint chapter3.relu"
    output = Output(*(re.sub(r"(?<![%\w])grade hint ", "%grade hint ", x) for x in (output.html, output.text)))
    if show:
        _show(output)
    return output


def hint(exercise: str, number: int | None = None, *, lang: str | None = None, all: bool = False,  # noqa: A002
         show: bool = True) -> Output:
    """The next hint for ``exercise`` (one more each call), hint ``number``, or ``all``."""
    from grader.grading.catalog import load_catalog
    from grader.util.errors import UsageError

    language = _lang(lang)
    ex = load_catalog().exercise(exercise)
    n = len(ex.hints)
    if not n:
        raise UsageError(t("hint.none", language, id=ex.id))
    if number is not None and not 1 <= number <= n:
        raise UsageError(t("hint.range", language, id=ex.id, n=n))
    if all:
        index: int | None = None
        footer = ""
    else:
        index = number if number is not None else min(_hints_seen.get(ex.id, 0) + 1, n)
        if number is None:
            _hints_seen[ex.id] = index
        footer = (t("notebook.hint.more", language, next=index + 1, n=n) if index < n
                  else t("notebook.hint.none_left", language, id=ex.id, n=n))

    def draw(out: Any) -> None:
        from grader import reports

        reports.render_hint(ex, index, out, language)
        if footer:
            out.print(footer, style="grade.dim", markup=False)

    output = _render(draw)
    if show:
        _show(output)
    return output


def _escape(text: str) -> str:
    import html

    return html.escape(text)


# -- the IPython extension ---------------------------------------------------------------------


def grade_magic(line: str) -> None:
    """%grade check chapter3[.name] [--lang zh] [--notebook PATH] | %grade hint ID [N] [--all] [--lang zh]"""
    from grader.util.errors import GraderError

    words = shlex.split(line)
    lang = None
    options: dict[str, Any] = {}
    rest: list[str] = []
    i = 0
    while i < len(words):
        w = words[i]
        if w in ("--lang", "--notebook", "--sandbox") and i + 1 < len(words):
            options[w[2:]] = words[i + 1]
            i += 2
            continue
        if w == "--all":
            options["all"] = True
        else:
            rest.append(w)
        i += 1
    lang = options.pop("lang", None)
    try:
        if len(rest) == 2 and rest[0] == "check":
            check(rest[1], lang=lang, **options)
            return
        if rest and rest[0] == "hint" and len(rest) in (2, 3):
            number = int(rest[2]) if len(rest) == 3 and rest[2].isdigit() else None
            hint(rest[1], number, lang=lang, all=bool(options.get("all")))
            return
        sys.stdout.write(t("notebook.usage", _lang(lang)) + "\n")
    except GraderError as exc:  # a usage error is a message, not a traceback
        from grader.util.i18n import error_text

        sys.stdout.write(error_text(exc, _lang(lang)) + "\n")


class _CellModules(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Lets a cell run ``from activations import sigmoid`` as its ``.py`` twin does: a
    chapter module name that nothing else provides resolves to the notebook's own names
    (the cells that define them must have run). Last on sys.meta_path: real modules win."""

    def __init__(self, names: set[str], user_ns: dict[str, Any]) -> None:
        self.names, self.user_ns = names, user_ns

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> Any:
        if fullname in self.names and path is None:
            return importlib.machinery.ModuleSpec(fullname, self)
        return None

    def create_module(self, spec: Any) -> types.ModuleType:
        module = types.ModuleType(spec.name, "the notebook's cells (dl-grade)")
        user_ns = self.user_ns

        def __getattr__(name: str) -> Any:  # noqa: N807 - PEP 562
            try:
                return user_ns[name]
            except KeyError:
                raise AttributeError(t("nb.not_defined_yet", session_lang(), name=name)) from None

        module.__getattr__ = __getattr__  # type: ignore[method-assign]
        return module

    def exec_module(self, module: types.ModuleType) -> None:
        pass


def load_ipython_extension(ipython: Any) -> None:
    from grader.grading.catalog import load_catalog

    ipython.register_magic_function(grade_magic, magic_kind="line", magic_name="grade")
    names = {m for c in load_catalog().chapters.values() for m in c.modules}
    if not any(isinstance(f, _CellModules) for f in sys.meta_path):
        sys.meta_path.append(_CellModules(names, ipython.user_ns))
