"""The ``grade watch`` screen: header, status lines and footer around the check report."""

from __future__ import annotations

from rich.console import Console
from rich.text import Text


def start(out: Console, header: str, reason: str, *, clear: bool = True) -> None:
    """A fresh screen in a terminal (a separator line when the output is a file or pipe), then the header."""
    if out.is_terminal and clear:
        out.clear()
    elif not out.is_terminal:
        out.rule(style="grade.dim")
    out.print(Text(header, style="grade.title") + Text(" · " + reason, style="grade.dim"))
    out.print()


def redraw(out: Console, header: str, reason: str) -> None:
    """In a terminal, clear the 'checking…' line away before the report; elsewhere append."""
    if out.is_terminal:
        out.clear()
        out.print(Text(header, style="grade.title") + Text(" · " + reason, style="grade.dim"))
        out.print()


def say(out: Console, text: str, style: str = "dim") -> None:
    out.print(Text(text, style=f"grade.{style}"))


def footer(out: Console, done: str | None, keys: str) -> None:
    out.print()
    if done:
        out.print(Text(done, style="grade.pass"))
    out.print(Text(keys, style="grade.hint"))
