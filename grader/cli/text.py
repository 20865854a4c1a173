"""The command line's own words in the session's language: help texts, click's and typer's words
(``Usage:``, ``Options:``, ``[default: ...]``, ``Show this message and exit.``) and their usage
errors (``Missing argument``, ``No such option``, ``Try 'grade --help' for help.``).

The root ``grade`` group is a ``LocalGroup``. Each run it

* reads ``--lang`` from the raw arguments wherever it stands: click handles ``--help`` before any
  option callback, so ``grade check --help --lang zh`` would otherwise be formatted too early;
* puts every command's and parameter's help text into that language. The texts are catalogue
  messages (``help.*``), found by their text in either language, so help written at import time
  in one language follows a ``--lang`` given later;
* in a language other than English, gives every command a context whose help formatter writes
  click's headings, usage prefix and ``[default: ...]`` notes from the catalogue (``click.*``),
  and shows usage errors in that language.

Click's words are looked up by their English text, as they reach the formatter and the error:
typer 0.28 ships its own copy of click with them as plain literals (no gettext to hook), older
typer runs on the click package, which passes them through gettext. A word or an error the
catalogue does not know stays English; English output is click's own, untouched. Only typer and
the stdlib are imported (the patterns compile on first use): this runs at start-up.
"""

from __future__ import annotations

import contextlib
import functools
import re
import sys
from collections.abc import Iterator, Sequence
from typing import Any

import typer.core

from grader.util.i18n import LANGS, catalogue, session_lang, set_lang, t

# the click that typer runs on: its own copy (typer._click) or the click package
_click: Any = getattr(typer.core, "_click", None) or sys.modules["click"]


def lang_in(args: Sequence[str]) -> str | None:
    """The value of the last ``--lang X`` / ``--lang=X`` before a ``--``, if it is a language."""
    found = None
    for i, arg in enumerate(args):
        if arg == "--":
            break
        if arg == "--lang" and i + 1 < len(args):
            found = args[i + 1]
        elif arg.startswith("--lang="):
            found = arg.partition("=")[2]
    return found if found in LANGS else None


# --- help texts ------------------------------------------------------------------------------


@functools.cache
def _help_ids() -> dict[str, str]:
    """Help texts (ours and click's option helps), in either language, -> message id."""
    ids: dict[str, str] = {}
    for msg_id, entry in catalogue().items():
        if msg_id.startswith(("help.", "click.option.")):
            for lang in LANGS:
                ids.setdefault(entry[lang], msg_id)
    return ids


def localize(text: str, lang: str) -> str:
    """A help text in ``lang``; a text the catalogue does not hold is returned as it is."""
    msg_id = _help_ids().get(text.strip())
    return t(msg_id, lang) if msg_id else text


def localize_command(cmd: Any, lang: str) -> None:
    """Put the help texts of ``cmd`` and of every command under it into ``lang``.

    The command objects are built afresh by typer for each run, so changing them is safe."""
    for attr in ("help", "short_help"):
        if getattr(cmd, attr, None):
            setattr(cmd, attr, localize(getattr(cmd, attr), lang))
    if lang != "en" and cmd.help and not cmd.short_help:
        cmd.short_help = _short_help(cmd.help)
    for param in cmd.params:
        if getattr(param, "help", None):
            param.help = localize(param.help, lang)
    if lang != "en":
        cmd.context_class = _LocalContext
    for sub in getattr(cmd, "commands", {}).values():
        localize_command(sub, lang)


def _short_help(text: str, columns: int = 50) -> str | None:
    """The command list's line for a Chinese help text: all of it if it fits in ``columns``, else
    its first clause (None for other text: click shortens it). Click shortens at spaces, which
    Chinese has few of, and counts a Chinese character as one column where a terminal shows two."""
    import unicodedata

    widths = [2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text]
    if 2 not in widths:
        return None
    text = " ".join(text.split()).removesuffix("。")
    return text if sum(widths) <= columns else re.split(r"[（：；，。]", text, maxsplit=1)[0]


# --- the help formatter ----------------------------------------------------------------------

_HEADINGS = {"Arguments": "click.heading.arguments", "Options": "click.heading.options",
             "Commands": "click.heading.commands", "Instructor commands": "click.heading.instructor"}
# (compiled on first use, by re's cache: nothing to pay at start-up in English)
_EXTRA_BLOCK = r"(?P<help>.*?)(?P<gap>(?:^|  ))\[(?P<extra>[^\[\]]*)\]"
_EXTRAS = (
    (r"default: (?P<default>.*)", "click.extra.default"),
    (r"env var: (?P<var>.*)", "click.extra.env_var"),
    (r"required", "click.extra.required"),
)


def _help_cell(text: str, lang: str) -> str:
    """The help column of an option row: its text, then click's ``[default: ...; required]``."""
    match = re.fullmatch(_EXTRA_BLOCK, text, flags=re.S)
    if match is None:
        return localize(text, lang)
    items = []
    for item in match["extra"].split("; "):
        for pattern, msg_id in _EXTRAS:
            found = re.fullmatch(pattern, item, flags=re.S)
            if found:
                item = t(msg_id, lang, **found.groupdict())
                break
        items.append(item)
    return f"{localize(match['help'], lang)}{match['gap']}[{'; '.join(items)}]"


class _LocalFormatter(_click.formatting.HelpFormatter):  # type: ignore[misc]
    """Click's help formatter with its own words in the session's language."""

    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        super().write_usage(prog, args, t("click.usage", session_lang()) if prefix is None else prefix)

    def write_heading(self, heading: str) -> None:
        msg_id = _HEADINGS.get(heading)
        if msg_id is None:
            super().write_heading(heading)
        else:
            self.write(f"{'':>{self.current_indent}}{t(msg_id, session_lang())}\n")

    def write_dl(self, rows: Sequence[tuple[str, str]], col_max: int = 30, col_spacing: int = 2) -> None:
        lang = session_lang()
        super().write_dl([(first, _help_cell(second, lang)) for first, second in rows], col_max, col_spacing)


class _LocalContext(_click.Context):  # type: ignore[misc]
    formatter_class = _LocalFormatter


# --- usage errors ----------------------------------------------------------------------------

_NAMES = r"'[^']*'(?: / '[^']*')*"
# (pattern, message id): a group named 'reason' or 'more' is translated in turn ('more' follows
# the message); 'type' is a click type name. Click 8.1 words are matched too (older typer).
_ERRORS: tuple[tuple[str, str], ...] = (
    (rf"Missing argument (?P<name>{_NAMES})\.(?: (?P<more>.+))?", "click.err.missing_argument"),
    (rf"Missing option (?P<name>{_NAMES})\.(?: (?P<more>.+))?", "click.err.missing_option"),
    (r"Missing parameter:? (?P<name>.+?)\.?", "click.err.missing_parameter"),
    (r"Choose from:(?P<choices>.*)", "click.err.choose_from"),
    (r"Missing command\.", "click.err.missing_command"),
    (r"No such command (?P<name>'.*?')\.(?: (?P<more>.+))?", "click.err.no_such_command"),
    (r"Did you mean (?P<names>.+)\?", "click.err.did_you_mean"),
    (r"No such option: (?P<name>\S+)(?: (?P<more>.+))?", "click.err.no_such_option"),
    (r"\(Possible options: (?P<names>.+)\)", "click.err.possible_options"),
    (r"Got unexpected extra arguments?(?:\(s\))? \((?P<args>.*)\)", "click.err.extra_args"),
    (r"Option (?P<name>'.+') requires an argument\.", "click.err.option_needs_value"),
    (r"Option (?P<name>'.+') requires (?P<n>\d+) arguments\.", "click.err.option_needs_values"),
    (r"Option (?P<name>'.+') does not take a value\.", "click.err.option_takes_no_value"),
    (r"Invalid value for (?P<param>.+?): (?P<reason>.+)", "click.err.invalid_value_for"),
    (r"Invalid value: (?P<reason>.+)", "click.err.invalid_value"),
    (r"(?P<value>.+) is not one of (?P<choices>.+)\.", "click.err.not_one_of"),
    (r"(?P<value>.+) is not in the range (?P<range>.+)\.", "click.err.not_in_range"),
    (r"(?P<value>.+) is not a valid (?P<type>[\w ]+)\.", "click.err.not_valid"),
)
_TYPES = {"int": "click.type.int", "integer": "click.type.int", "int range": "click.type.int",
          "integer range": "click.type.int", "float": "click.type.float", "float range": "click.type.float",
          "boolean": "click.type.boolean", "datetime": "click.type.datetime"}


def message_ids() -> list[str]:
    """Every catalogue id this module asks for (a test checks they exist)."""
    return ["click.usage", "click.try_help", "click.error", *_HEADINGS.values(),
            *(msg_id for _, msg_id in (*_EXTRAS, *_ERRORS)), *_TYPES.values()]


def error_message(message: str, lang: str) -> str:
    """A click usage-error message in ``lang``; one the catalogue does not know stays English."""
    for pattern, msg_id in _ERRORS:
        match = re.fullmatch(pattern, message, flags=re.S)
        if match is None:
            continue
        fields = match.groupdict(default="")
        more = fields.pop("more", "")
        if "reason" in fields:
            fields["reason"] = error_message(fields["reason"], lang)
        if "type" in fields and fields["type"] in _TYPES:
            fields["type"] = t(_TYPES[fields["type"]], lang)
        text = t(msg_id, lang, **fields)
        if more:
            text += ("" if lang == "zh" else " ") + error_message(more, lang)
        return text
    return message


class _LocalUsageError(_click.exceptions.ClickException):  # type: ignore[misc]
    """A click error shown in the session's language (same exit code, same layout)."""

    def __init__(self, original: Any, lang: str) -> None:
        super().__init__(original.format_message())
        self.original, self.lang = original, lang
        self.exit_code = original.exit_code

    def show(self, file: Any = None) -> None:
        ctx = getattr(self.original, "ctx", None)
        lines = []
        if ctx is not None:
            lines.append(ctx.get_usage())
            if ctx.command.get_help_option(ctx) is not None:
                lines.append(t("click.try_help", self.lang, command=ctx.command_path, option=ctx.help_option_names[0]))
            lines.append("")
        lines.append(t("click.error", self.lang, message=error_message(self.message, self.lang)))
        color = ctx.color if ctx is not None else None
        _click.echo("\n".join(lines), file=file, err=file is None, color=color)


@contextlib.contextmanager
def _errors_in_session_lang() -> Iterator[None]:
    try:
        yield
    except _click.exceptions.ClickException as exc:
        lang = session_lang()
        no_args_help = getattr(_click.exceptions, "NoArgsIsHelpError", ())  # its message is the help page
        if lang == "en" or isinstance(exc, (_LocalUsageError, no_args_help)):
            raise
        raise _LocalUsageError(exc, lang) from None


INSTRUCTOR_PANEL = "instructor"  # ``rich_help_panel`` of the instructor's commands


class LocalGroup(typer.core.TyperGroup):
    """The root group: the language read from the arguments, help texts and click's words in it.
    ``grade --help`` lists the student's commands first and the instructor's (those with
    ``rich_help_panel=INSTRUCTOR_PANEL``) in a section of their own."""

    def format_commands(self, ctx: Any, formatter: Any) -> None:
        rows: dict[bool, list[tuple[str, Any]]] = {False: [], True: []}
        for name in self.list_commands(ctx):
            cmd = self.get_command(ctx, name)
            if cmd is not None and not cmd.hidden:
                rows[getattr(cmd, "rich_help_panel", None) == INSTRUCTOR_PANEL].append((name, cmd))
        width = formatter.width - 6 - max((len(n) for group in rows.values() for n, _ in group), default=0)
        for instructor, heading in ((False, "Commands"), (True, "Instructor commands")):
            if rows[instructor]:
                with formatter.section(heading):
                    formatter.write_dl([(n, c.get_short_help_str(width)) for n, c in rows[instructor]])

    def main(self, args: Sequence[str] | None = None, *rest: Any, **kwargs: Any) -> Any:
        from grader.util import i18n

        before = i18n._chosen  # a run's --lang ends with the run (tests invoke the app many times)
        set_lang(lang_in(sys.argv[1:] if args is None else list(args)))
        try:
            localize_command(self, session_lang())
            return super().main(args, *rest, **kwargs)
        finally:
            set_lang(before)

    def make_context(self, info_name: str | None, args: list[str], parent: Any = None, **extra: Any) -> Any:
        with _errors_in_session_lang():
            return super().make_context(info_name, args, parent, **extra)

    def invoke(self, ctx: Any) -> Any:
        with _errors_in_session_lang():
            return super().invoke(ctx)
