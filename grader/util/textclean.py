"""Text that came from student code, made safe to show anywhere.

Exception messages, tracebacks, printed output and names can carry terminal escape
sequences (set the window title, write the clipboard, erase lines), carriage returns
that overwrite what was printed, bidirectional overrides that reorder what a reader
sees, and other control characters. ``clean`` removes them all, keeping newlines and
tabs; ``clean_tree`` does it to every string in plain data (results files, JSON for an
LMS). The plugin cleans every results file it writes, so the terminal report, the HTML
page, CSV exports and the gradebook all start from clean text.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from typing import Any

# C0 controls but tab and newline, DEL, C1 controls, zero-width and bidi controls,
# line/paragraph separators, and the byte-order mark.
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]")


# CSI (colours, cursor moves: ESC [ ... final byte), OSC (ESC ] ... BEL or ESC \\), and
# two-byte escapes: removed whole, so no "[1m" is left behind when ESC itself is dropped.
_ESCAPE = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[@-Z\\-_])")
# A progress bar as Keras (and tqdm-like code) prints it: "3/10 ━━━━━━ 0s 12ms/step - loss: ..."
PROGRESS_BAR = re.compile(r"^\s*\d+/\d+\s+\S*[━=>.#█]{3,}.*\d+\s*(?:s|ms|us)/step")


def settle(text: str) -> str:
    """Printed text as a terminal leaves it on screen: escape sequences removed whole, a
    carriage return or backspace overwriting what it moves back over (progress bars redraw
    a line this way), so what remains is the last state of each line, without fragments."""
    text = _ESCAPE.sub("", text)
    lines = []
    for line in text.split("\n"):
        if "\r" in line or "\b" in line:
            screen: list[str] = []
            col = 0
            for ch in line:
                if ch == "\r":
                    col = 0
                elif ch == "\b":
                    col = max(0, col - 1)
                else:
                    if col < len(screen):
                        screen[col] = ch
                    else:
                        screen.append(ch)
                    col += 1
            line = "".join(screen)
        lines.append(line)
    return "\n".join(lines)


def clean(text: str) -> str:
    """``text`` without control characters (newlines and tabs stay)."""
    return _UNSAFE.sub("", text)


def clean_line(text: object, limit: int = 300) -> str:
    """One line of text (an id, a file name, a manifest field): ``clean`` with newlines
    and tabs removed too, and at most ``limit`` characters."""
    line = _UNSAFE.sub("", str(text)).replace("\n", "").replace("\t", "")
    return line if len(line) <= limit else line[: limit - 1] + "…"


def clean_tree(value: Any) -> Any:
    """Every string in plain data (dict keys too) cleaned; everything else unchanged."""
    if isinstance(value, str):
        return clean(value)
    if isinstance(value, dict):
        return {clean_tree(k): clean_tree(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [clean_tree(v) for v in value]
    return value


def normalise_student(raw: str) -> str:
    """The gradebook's form of a student id: letters, digits and ``_ . @ + -``, lower case
    (``Alice`` and ``alice`` are one student), at most 64 characters. An id with other
    characters keeps a short hash of its full spelling (``张三`` -> ``__-1c5e…``): replacing
    them by ``_`` alone made ``张三`` and ``李四`` one student, the newer replacing the other."""
    text = clean_line(raw, 1000).strip()
    clean = re.sub(r"[^A-Za-z0-9_.@+-]", "_", text)
    if not text.isascii():
        folded = unicodedata.normalize("NFKC", text).casefold()
        clean = f"{clean[:55]}-{hashlib.sha256(folded.encode()).hexdigest()[:8]}"
    return clean[:64].lower() or "unknown"
