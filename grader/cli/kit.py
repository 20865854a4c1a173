"""Shared pieces of the command line: option types, language choice, error guard.

Command modules (``register(app)``) import from here; it stays light (typer + stdlib)."""

from __future__ import annotations

import enum
import functools
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

import typer

from grader.util.errors import GraderError

F = TypeVar("F", bound=Callable[..., Any])


class Lang(str, enum.Enum):
    en = "en"
    zh = "zh"


class Format(str, enum.Enum):
    text = "text"
    json = "json"
    gradescope = "gradescope"


class Sandbox(str, enum.Enum):
    auto = "auto"
    bwrap = "bwrap"
    none = "none"


def default_lang() -> str:
    from grader.util.i18n import session_lang

    return session_lang()


def _lang(lang: Lang | None) -> str:
    """The language of a command: its own ``--lang``, else one given before the command
    (``grade --lang zh check``), else the environment's. The choice holds for the whole
    process (the grading plugin writes its feedback in it)."""
    if lang is not None:
        from grader.util.i18n import set_lang

        set_lang(lang.value)
        return lang.value
    return default_lang()


def guard(fn: F) -> F:
    """Turn grader errors into a message on stderr and a named exit code."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except GraderError as exc:
            from grader import reports
            from grader.util.i18n import error_text

            chosen = getattr(kwargs.get("lang"), "value", kwargs.get("lang"))
            lang = chosen if chosen in ("en", "zh") else default_lang()
            reports.error(error_text(exc, lang), lang)
            raise typer.Exit(exc.exit_code) from None
        except KeyboardInterrupt:
            raise typer.Exit(130) from None

    return wrapper  # type: ignore[return-value]


_guard = guard


def _h(msg_id: str) -> str:
    """A ``--help`` text from the catalogue, in the locale's language (``GRADE_LANG=zh grade --help``);
    ``grader.cli.text`` moves it into the language of the command line (``--lang``) at each run."""
    from grader.util.i18n import t

    return t(msg_id, default_lang())


LangOpt = Annotated[Lang | None, typer.Option("--lang", help=_h("help.lang"))]


