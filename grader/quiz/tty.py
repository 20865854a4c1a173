"""Arrow-key selection in a terminal, with prompt_toolkit (already a dependency of the dev
tools; imported only when a quiz runs in a TTY).

Single answer: up/down (or j/k) moves, Enter picks. Multiple answers: Space (or x) ticks,
Enter submits (at least one tick). Letters jump to an option (and tick it in checkbox
mode). Ctrl-D / Ctrl-C end the quiz: nothing is recorded for the unanswered questions.
"""

from __future__ import annotations

from typing import Any

from grader.quiz.session import LETTERS, STOP, Presented, Reply

_STOP = "__stop__"


def choose(
    title: str,
    labels: list[str],
    *,
    multi: bool,
    hint: str,
    input: Any = None,
    output: Any = None,
    lang: str = "en",
) -> list[int] | None:
    """Show ``title`` and ``labels``; return the chosen indexes, or None if the user quit.

    Text is wrapped at word boundaries (CJK text between any two characters) to the
    terminal's width, continuation lines indented under the option's text."""
    from prompt_toolkit.application import Application
    from prompt_toolkit.formatted_text import FormattedText
    from prompt_toolkit.key_binding import KeyBindings
    from prompt_toolkit.layout import HSplit, Layout, Window
    from prompt_toolkit.layout.controls import FormattedTextControl

    state: dict[str, Any] = {"pos": 0, "ticked": set(), "msg": ""}

    def width() -> int:
        from prompt_toolkit.application.current import get_app

        try:
            return max(20, get_app().output.get_size().columns - 1)
        except Exception:  # noqa: BLE001 - no size (a dummy output): a usual terminal's width
            return 79

    def render() -> FormattedText:
        cols = width()
        parts: list[tuple[str, str]] = [("bold", "\n".join(wrap_cells(title, cols)) + "\n")]
        for i, label in enumerate(labels):
            here = i == state["pos"]
            pointer = "❯ " if here else "  "
            box = ("[x] " if i in state["ticked"] else "[ ] ") if multi else ""
            style = "reverse" if here else ""
            head = f"{pointer}{box}{LETTERS[i]}. "
            lines = wrap_cells(label, cols - len(head))
            parts.append((style, head + ("\n" + " " * len(head)).join(lines)))
            parts.append(("", "\n"))
        parts.append(("italic", hint))
        if state["msg"]:
            parts.append(("fg:ansired", "\n" + state["msg"]))
        return FormattedText(parts)

    kb = KeyBindings()

    @kb.add("up")
    @kb.add("k")
    @kb.add("s-tab")
    def _up(event: Any) -> None:
        state["pos"] = (state["pos"] - 1) % len(labels)
        state["msg"] = ""

    @kb.add("down")
    @kb.add("j")
    @kb.add("tab")
    def _down(event: Any) -> None:
        state["pos"] = (state["pos"] + 1) % len(labels)
        state["msg"] = ""

    if multi:

        @kb.add(" ")
        @kb.add("x")
        def _tick(event: Any) -> None:
            state["ticked"] ^= {state["pos"]}
            state["msg"] = ""

    for i in range(len(labels)):

        def _jump(event: Any, i: int = i) -> None:
            state["pos"] = i
            if multi:
                state["ticked"] ^= {i}

        kb.add(LETTERS[i].lower())(_jump)
        kb.add(LETTERS[i])(_jump)

    @kb.add("enter")
    def _enter(event: Any) -> None:
        if multi:
            if not state["ticked"]:
                from grader.util.i18n import t

                state["msg"] = t("quiz.tick_one", lang)
                return
            event.app.exit(result=sorted(state["ticked"]))
        else:
            event.app.exit(result=[state["pos"]])

    @kb.add("c-d")
    @kb.add("c-c")
    def _quit(event: Any) -> None:
        event.app.exit(result=_STOP)

    control = FormattedTextControl(render, focusable=True, show_cursor=False)
    app: Application[Any] = Application(
        layout=Layout(HSplit([Window(control, always_hide_cursor=True, wrap_lines=True)])),
        key_bindings=kb,
        full_screen=False,
        erase_when_done=True,
        input=input,
        output=output,
    )
    try:
        result = app.run()
    except (EOFError, KeyboardInterrupt):
        return None
    if result == _STOP or result is None:
        return None
    return list(result)


def _cells(text: str) -> int:
    from prompt_toolkit.utils import get_cwidth

    return get_cwidth(text)


def _is_wide(ch: str) -> bool:
    import unicodedata

    return unicodedata.east_asian_width(ch) in ("W", "F")


def wrap_cells(text: str, width: int) -> list[str]:
    """``text`` in lines of at most ``width`` terminal cells: breaks at spaces, and between
    wide (CJK) characters, which need no space; a word longer than a line is cut only then."""
    width = max(4, width)
    lines: list[str] = []
    for paragraph in text.split("\n"):
        # tokens: a run of non-space narrow characters, a single wide character, or spaces
        tokens: list[str] = []
        for ch in paragraph:
            if ch.isspace():
                if tokens and tokens[-1].isspace():
                    tokens[-1] += ch
                else:
                    tokens.append(" ")
            elif _is_wide(ch) or not tokens or tokens[-1].isspace() or _is_wide(tokens[-1][-1]):
                tokens.append(ch)
            else:
                tokens[-1] += ch
        line, used = "", 0
        for tok in tokens:
            size = _cells(tok)
            if tok.isspace():
                if line and used + 1 <= width:
                    line, used = line + " ", used + 1
                continue
            if used + size > width and line.strip():
                lines.append(line.rstrip())
                line, used = "", 0
            while size > width:  # a word longer than a whole line
                cut = 0
                while _cells(tok[: cut + 1]) <= width - used:
                    cut += 1
                lines.append(line + tok[:cut])
                tok, line, used = tok[cut:], "", 0
                size = _cells(tok)
            line, used = line + tok, used + size
        lines.append(line.rstrip())
    return lines


def key_help(lang: str, multi: bool) -> str:
    """The key line under a question (from the shared message catalogue)."""
    from grader.util.i18n import t

    return t("quiz.keys_multi" if multi else "quiz.keys_single", lang)


class TtyAsker:
    """Arrow-key asker. ``input``/``output`` let tests drive it with a pipe and DummyOutput."""

    def __init__(self, echo: Any = None, input: Any = None, output: Any = None) -> None:
        self.echo = echo  # callable(presented, lang, chosen ids) that prints the answered question
        self.input = input
        self.output = output

    def ask(self, presented: Presented, lang: str) -> Reply:
        q = presented.question
        multi = q.type == "multiple"
        head = f"[{presented.number}/{presented.total}] {q.prompt(lang)}"
        if multi:
            from grader.util.i18n import t

            head += t("quiz.multi_short", lang)
        picks = choose(
            head,
            [o.label(lang) for o in presented.options],
            multi=multi,
            hint=key_help(lang, multi),
            input=self.input,
            output=self.output,
            lang=lang,
        )
        if picks is None:
            return STOP
        ids = presented.ids_for(picks)
        if self.echo is not None:
            self.echo(presented, lang, ids)
        return ids
