"""Everything shown to a person: the terminal (this module, ``status``, ``watch``, ``quiz``,
``curves``, ``instructor``, ``late``, ``similarity``) and HTML (``html``).

Owns: wording, layout and colour of results. The only package that imports rich.
May import: grading, quizzes, the instructor side (to draw their results) and the utilities.
Must never: import the commands (they call in); compute a grade or change stored state
(it draws what it is given); show a hidden test's code or expected values, or anything
from student code that was not cleaned (``grader.util.textclean``).
"""

from __future__ import annotations

import sys
from typing import IO

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text
from rich.theme import Theme

from grader.grading.catalog import Catalog, Chapter, Exercise
from grader.grading.live import SYMBOL as LIVE_SYMBOL
from grader.grading.results import CheckReport, TestResult
from grader.util.i18n import t

THEME = Theme(
    {
        "grade.pass": "bold green",
        "grade.fail": "bold red",
        "grade.todo": "yellow",
        "grade.error": "bold magenta",
        "grade.hint": "cyan",
        "grade.dim": "dim",
        "grade.title": "bold",
    }
)

_STYLE = {
    "passed": "grade.pass",
    "failed": "grade.fail",
    "not_attempted": "grade.todo",
    "error": "grade.error",
    "timeout": "grade.error",
    "resource": "grade.error",
    "not_run": "grade.dim",
}
SYMBOL = {status: (LIVE_SYMBOL[status], style) for status, style in _STYLE.items()}  # one set of marks: live's

LABEL = {status: t(f"status.{status}", "en") for status in SYMBOL}  # English labels, for existing callers


def label(status: str, lang: str = "en") -> str:
    """The word for a test status ('passed', 'not attempted', ...) in ``lang``."""
    return t(f"status.{status}", lang)


def console(file: IO[str] | None = None, *, stderr: bool = False, width: int | None = None) -> Console:
    return Console(
        file=file,
        stderr=stderr,
        theme=THEME,
        width=width,
        highlight=False,
        soft_wrap=False,
    )


def error(message: str, lang: str = "en") -> None:
    console(stderr=True).print(Text(t("error.prefix", lang), style="grade.fail") + Text(message), soft_wrap=True)


def render_notice(out: Console, message: str) -> None:
    """Something to act on before reading what follows (e.g. unsaved notebook cells): first,
    marked, in the warning colour."""
    out.print(Text("⚠ ", style="grade.todo") + Text(message, style="grade.todo"))
    out.print()


def note(message: str) -> None:
    """A one-line aside on stderr (e.g. an ignored progress file)."""
    console(stderr=True).print(Text(message, style="grade.dim"))


def plain(text: str, file: IO[str] | None = None) -> None:
    (file or sys.stdout).write(text + "\n")


def _exercise_status(tests: list[TestResult]) -> str:
    statuses = {t.status for t in tests}
    if statuses == {"passed"}:
        return "passed"
    if statuses == {"not_attempted"}:
        return "not_attempted"
    for bad in ("timeout", "resource", "error", "failed", "not_run"):
        if bad in statuses:
            return bad
    return "failed"


def render_check(report: CheckReport, catalog: Catalog, out: Console, lang: str = "en", show_output: bool = False) -> set[str]:
    """The check report. Returns the exercises whose first hint it showed ("start here"), so
    that the next ``grade hint`` goes on from there instead of repeating it."""
    chapter = catalog.chapter(report.chapter)
    grouped = report.by_exercise()
    title = f"{chapter.id} · {chapter.title_text(lang)}"
    table = Table(title=title, title_style="grade.title", show_edge=False, expand=False, pad_edge=False)
    table.add_column("", width=1)
    table.add_column(t("check.col.exercise", lang))
    table.add_column(t("check.col.tests", lang), justify="right")
    table.add_column(t("check.col.points", lang), justify="right")
    table.add_column(t("check.col.status", lang))
    order = [e.id for e in chapter.exercises] + [k for k in grouped if k not in catalog.exercises]
    for ex_id in order:
        tests = grouped.get(ex_id, [])
        if not tests:
            continue
        status = _exercise_status(tests)
        sym, style = SYMBOL[status]
        passed = sum(test.status == "passed" for test in tests)
        table.add_row(
            Text(sym, style=style),
            ex_id,
            f"{passed}/{len(tests)}",
            f"{sum(test.score for test in tests):g}/{sum(test.max_score for test in tests):g}",
            Text(label(status, lang), style=style),
        )
    out.print(table)
    out.print()
    _render_module_errors(report, out, lang)
    outputs = {
        (str(a.get("exercise")), str(a.get("test"))): a
        for a in report.artifacts
        if isinstance(a, dict) and a.get("kind") == "test_output"
    }
    shown_hint: set[str] = set()
    blocked = {m for m in (_blocked_message(test.message, lang) for test in report.tests) if m}
    said: set[str] = set()  # a module error's "Not run" line is said once, under the first test it blocks
    for ex_id in order:
        problems = [test for test in grouped.get(ex_id, []) if test.status != "passed"]
        if not problems:
            continue
        exercise = catalog.exercises.get(ex_id)
        if all(test.status == "not_attempted" for test in problems) and exercise is not None:
            _render_start_here(exercise, out, lang)
            shown_hint.add(ex_id)
            continue
        out.print(Text(ex_id, style="grade.title"))
        for test in problems:
            sym, style = SYMBOL[test.status]
            tag = t("check.hidden_tag", lang) if test.visibility == "hidden" else ""
            out.print(Text(f"  {sym} {test.name}{tag}", style=style) + Text(f"  {label(test.status, lang)}", style="grade.dim"))
            if not (test.message in blocked and test.message in said):
                said.add(test.message)
                for line in test.message.splitlines() or [""]:
                    out.print(indented(Text(line), 4, out))
            _render_output(outputs.get((ex_id, test.name)), out, lang)
        if exercise is not None and exercise.hints and any(test.status != "not_run" for test in problems):
            out.print(Text("    " + t("check.hint_line", lang, id=ex_id), style="grade.hint"))
        out.print()
    if show_output:  # --show-output: what the code printed in the tests not shown above
        passed = [(ex_id, test) for ex_id in order for test in grouped.get(ex_id, []) if test.status == "passed"]
        for ex_id, test in passed:
            if (ex_id, test.name) in outputs:
                sym, style = SYMBOL[test.status]
                out.print(Text(f"  {sym} {test.name}", style=style) + Text(f"  {ex_id}", style="grade.dim"))
                _render_output(outputs[(ex_id, test.name)], out, lang)
        if not outputs:
            out.print(Text(t("check.no_output", lang), style="grade.dim"))
        out.print()
    if report.artifacts:  # learning curves attached by a suite (chapter 8)
        from grader.reports.curves import render_artifacts

        render_artifacts(report, out, lang)
    _render_footer(report, out, lang)
    return {ex_id for ex_id in shown_hint if (e := catalog.exercises.get(ex_id)) is not None and e.hints}


def _render_output(artifact: dict | None, out: Console, lang: str) -> None:
    """What the student's code printed during a test (already capped and cleaned)."""
    if not artifact or not str(artifact.get("text", "")).strip():
        return
    out.print(Text("    " + t("check.output", lang), style="grade.dim"))
    for line in str(artifact["text"]).splitlines():
        out.print(Text("    │ ", style="grade.dim") + Text(line), overflow="fold")
    left = artifact.get("lines_left_out")
    if isinstance(left, int) and left > 0:
        out.print(Text("    │ " + t("check.output_more", lang, n=left), style="grade.dim"))
    if artifact.get("progress_bars") is True:
        out.print(indented(Text("    " + t("check.output_progress_bars", lang), style="grade.hint"), 4, out))


def _render_module_errors(report: CheckReport, out: Console, lang: str) -> None:
    """Each module that could not be loaded, once, as Python prints the error."""
    for artifact in report.artifacts:
        if not isinstance(artifact, dict) or artifact.get("kind") != "module_error":
            continue
        name = str(artifact.get("file", "?"))
        head = (t("check.module_error_cell", lang, where=name) if artifact.get("cell")  # code from a notebook
                else t("check.module_error", lang, file=name))
        out.print(Text("! ", style="grade.error") + Text(head, style="grade.title"))
        for line in str(artifact.get("text", "")).splitlines():
            out.print(Text("    " + line, style="grade.fail"), overflow="fold")
        if artifact.get("note"):
            out.print(indented(Text(str(artifact["note"]), style="grade.dim"), 4, out))
        out.print()


def _blocked_message(message: str, lang: str) -> str:
    """``message`` when it is a module error's "Not run: ..." line (fb.blocked_*), else ''."""
    for msg_id in ("fb.blocked_syntax", "fb.blocked_import"):
        template = t(msg_id, lang)
        head = template[: template.index("{")]
        if head and message.startswith(head):
            return message
    return ""


def _render_start_here(exercise: Exercise, out: Console, lang: str) -> None:
    sym, style = SYMBOL["not_attempted"]
    out.print(Text(f"{sym} {exercise.id}", style=style) + Text(f" — {exercise.summary_text(lang)}", style="grade.dim"))
    if exercise.hints:
        out.print(hanging(Text(t("check.start_here", lang), style="grade.hint"), Text(exercise.hints[0].text(lang)), 4, out))
        if len(exercise.hints) > 1:
            out.print(Text("    " + t("check.more_hints", lang, id=exercise.id), style="grade.hint"))


def _render_footer(report: CheckReport, out: Console, lang: str = "en") -> None:
    public = [test for test in report.tests if test.visibility == "public"]
    hidden = [test for test in report.tests if test.visibility == "hidden"]
    n_public = sum(test.status == "passed" for test in public)
    parts = [t("check.footer.public", lang, passed=n_public, total=len(public))]
    if hidden:
        n_hidden = sum(test.status == "passed" for test in hidden)
        parts.append(t("check.footer.hidden", lang, passed=n_hidden, total=len(hidden)))
    else:
        kept_back = _hidden_in_release(report.chapter)
        if kept_back:
            parts.append(t("check.footer.hidden_at_grading", lang, n=kept_back))
    score = t("check.footer.score", lang, score=f"{report.score:g}", max=f"{report.max_score:g}")
    style = "grade.pass" if report.all_passed else ("grade.todo" if report.score == 0 else "grade.fail")
    out.print(Text(score, style=style) + Text(" · " + " · ".join(parts)) + Text(f" · {report.execution_time:.2f} s", style="grade.dim"))
    if report.interrupted:
        n = sum(test.status == "not_run" for test in report.tests)
        out.print(Text(t("check.interrupted", lang, n=n), style="grade.fail"))
    if report.weak_isolation:
        out.print(Text(t("check.footer.weak", lang), style="grade.fail"))
    if report.isolation:
        what = ", ".join(isolation_text(entry, lang) for entry in report.isolation)
        out.print(Text(t("check.footer.isolation", lang, what=what), style="grade.dim"))
    if report.source:  # notebooks: which source was graded (the .py files or the notebook's cells)
        out.print(Text(t("check.footer.source", lang, what=report.source), style="grade.dim"))


def indented(text: Text, indent: int, out: Console | None = None) -> Text:
    """``text`` wrapped to the console's width, every line starting with ``indent`` spaces."""
    plain = text.plain
    lead = len(plain) - len(plain.lstrip(" "))
    if lead:  # a line that starts indented (code, a traceback frame) wraps under its own start
        text = text[lead:]
        indent += lead
    width = max(20, (out.width if out is not None else 80) - indent)
    lines = text.wrap(out or console(width=80), width) if out is not None else [text]
    result = Text()
    for i, line in enumerate(lines):
        if i:
            result.append("\n")
        result.append(" " * indent)
        result.append_text(line)
    return result


_ISOLATION = (
    (r"bubblewrap sandbox: allow-listed runtime files only, no network, uid nobody$", "iso.bwrap"),
    (r"allow-list root: private mount and network namespaces, chroot, uid nobody$", "iso.chroot"),
    (r"memory (?P<n>\d+) MB$", "iso.memory"),
    (r"memory: cgroup (?P<n>\d+) MB$", "iso.memory_cgroup"),
    (r"memory: RLIMIT_AS (?P<n>\d+) MB$", "iso.memory_rlimit"),
    (r"output (?P<n>\d+) KB$", "iso.output"),
    (r"cpu (?P<n>[\d.]+) s$", "iso.cpu"),
    (r"seccomp: no processes, exec, ptrace, signals, mounts or network$", "iso.seccomp"),
    (r"seccomp: no processes, exec, ptrace, signals, mounts, network or IPC$", "iso.seccomp_ipc"),
    (r"own IPC namespace$", "iso.own_ipc"),
    (r"jail root: chroot into the allow-listed runtime, no /proc, uid nobody$", "iso.jail"),
    (r"no chroot jail: missing (?P<what>.+)$", "iso.no_jail"),
    (r"no chroot jail: the jail could not be built \((?P<what>.+)\)$", "iso.no_jail_built"),
    (r"isolation: weak", "iso.weak"),
)


def isolation_text(entry: str, lang: str) -> str:
    """One entry of the worker's isolation list (English, from the boundary) in ``lang``."""
    import re

    for pattern, msg_id in _ISOLATION:
        match = re.match(pattern, entry)
        if match:
            return t(msg_id, lang, **match.groupdict())
    return entry


def _hidden_in_release(chapter_id: str) -> int:
    """In a student release, how many hidden tests the chapter has (``grade release`` writes
    ``grader/suites/chapterN/hidden.json``, counts only); 0 elsewhere."""
    import json

    from grader.grading.catalog import SUITES_DIR

    try:
        data = json.loads((SUITES_DIR / chapter_id / "hidden.json").read_text(encoding="utf-8"))
        return int(data["hidden_tests"])
    except (OSError, ValueError, KeyError, TypeError):
        return 0


def render_hint(exercise: Exercise, index: int | None, out: Console, lang: str = "en") -> None:
    """The hint(s) under the exercise's title; a wrapped hint keeps its indent."""
    hints = exercise.hints
    chosen = list(enumerate(hints, 1)) if index is None else [(index, hints[index - 1])]
    out.print(Text(exercise.id, style="grade.title") + Text(f" — {exercise.summary_text(lang)}", style="grade.dim"), overflow="fold")
    for n, hint in chosen:
        label = f"{n}/{len(hints)}  "
        out.print(hanging(Text(label, style="grade.hint"), Text(hint.text(lang)), 2, out))
    out.print()


def hanging(label: Text, body: Text, indent: int, out: Console) -> Text:
    """``label`` then ``body``; the body's wrapped lines start under its first character."""
    lead = indent + label.cell_len
    lines = body.wrap(out, max(20, out.width - lead))
    result = Text(" " * indent) + label
    for i, line in enumerate(lines):
        if i:
            result.append("\n" + " " * lead)
        result.append_text(line)
    return result


def render_hints_left(exercise: Exercise, seen: int, all_shown: bool, out: Console, lang: str = "en", shown: int = 0) -> None:
    """After a hint: how many are left and how to see the next, or that this was the last."""
    left = len(exercise.hints) - seen
    if left <= 0 and not all_shown and shown < len(exercise.hints):
        out.print(Text(t("hint.all_seen", lang, n=len(exercise.hints), id=exercise.id), style="grade.dim"))
    elif all_shown or left <= 0:
        out.print(Text(t("hint.last", lang, n=len(exercise.hints)), style="grade.dim"))
    else:
        out.print(Text(t("hint.left", lang, n=left, id=exercise.id), style="grade.hint"))


def render_no_more_hints(exercise: Exercise, out: Console, lang: str = "en") -> None:
    out.print(Text(t("hint.no_more", lang, id=exercise.id, n=len(exercise.hints)), style="grade.hint"))


def render_list(catalog: Catalog, out: Console, lang: str = "en") -> None:
    for chapter in catalog.chapters.values():
        _render_chapter_list(chapter, out, lang)


def _render_chapter_list(chapter: Chapter, out: Console, lang: str) -> None:
    pts = sum(e.points for e in chapter.exercises)
    out.print(Text(f"{chapter.id}", style="grade.title") + Text(f"  {chapter.title_text(lang)}  " + t("list.points", lang, n=pts)))
    for e in chapter.exercises:
        out.print(Text(f"  {e.id:<34}", style="grade.hint") + Text(t("list.pts", lang, n=f"{e.points:>3}") + "  ") + Text(escape(e.summary_text(lang)), style="grade.dim"))
