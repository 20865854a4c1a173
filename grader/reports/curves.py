"""Learning curves in the report: a small text plot for the terminal and a PNG beside it.

Suites attach curves to the report as plain data (``student.attach({"kind":
"learning_curve", "exercise": ..., "title": ..., "series": {"loss": [...], ...}})``);
``render_artifacts`` draws each one. The PNG is written by a tiny encoder of our own
(zlib + the PNG chunk layout, a 3×5 pixel font): matplotlib would add tens of
megabytes and seconds of import time for one line chart.
"""

from __future__ import annotations

import itertools
import math
import struct
import zlib
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.text import Text

from grader.grading.results import CheckReport
from grader.util.i18n import t

# terminal: (marker, style) per series, in order
MARKERS = [("●", "cyan"), ("×", "magenta"), ("+", "yellow"), ("o", "green")]
# PNG: RGB per series, in the same order (blue, orange, olive, green)
COLORS = [(31, 119, 180), (255, 127, 14), (188, 189, 34), (44, 160, 44)]
MAX_POINTS = 1000


# --- data --------------------------------------------------------------------------------


def clean_series(series: Any) -> dict[str, list[float]]:
    """Only what can be drawn: str names mapped to lists of finite numbers."""
    out: dict[str, list[float]] = {}
    if not isinstance(series, dict):
        return out
    for name, values in list(series.items())[: len(MARKERS)]:
        if not isinstance(name, str) or not isinstance(values, list):
            continue
        row = [float(v) for v in values[:MAX_POINTS] if isinstance(v, (int, float)) and not isinstance(v, bool)]
        row = [v for v in row if math.isfinite(v)]
        if row:
            out[name[:40]] = row
    return out


def _range(series: dict[str, list[float]]) -> tuple[float, float]:
    values = [v for row in series.values() for v in row]
    lo, hi = min(values), max(values)
    if hi - lo < 1e-12:
        pad = abs(hi) * 0.05 or 1.0
        lo, hi = lo - pad, hi + pad
    return lo, hi


def best_epoch(series: dict[str, list[float]]) -> tuple[str, int, float] | None:
    """The epoch (1-based) with the lowest validation loss, when there is one."""
    for name in ("val_loss", "loss"):
        row = series.get(name)
        if row:
            i = min(range(len(row)), key=row.__getitem__)
            return name, i + 1, row[i]
    return None


# --- terminal ------------------------------------------------------------------------------


def text_plot(series: dict[str, list[float]], width: int = 56, height: int = 12, lang: str = "en") -> list[Text]:
    """Rows of a character plot: y labels on the left, one marker per epoch, dots between."""
    series = clean_series(series)
    if not series:
        return []
    lo, hi = _range(series)
    n = max(len(row) for row in series.values())
    cells: list[list[tuple[str, str] | None]] = [[None] * width for _ in range(height)]

    def col(i: int) -> int:
        return 0 if n == 1 else round(i * (width - 1) / (n - 1))

    def row_of(v: float) -> int:
        return min(height - 1, max(0, round((hi - v) / (hi - lo) * (height - 1))))

    for k, values in enumerate(series.values()):
        _, style = MARKERS[k]
        for i in range(len(values) - 1):  # dots along the segment between two epochs
            c0, c1 = col(i), col(i + 1)
            for c in range(c0 + 1, c1):
                frac = (c - c0) / (c1 - c0)
                r = row_of(values[i] + frac * (values[i + 1] - values[i]))
                if cells[r][c] is None:
                    cells[r][c] = ("·", style)
    for k, values in enumerate(series.values()):
        mark, style = MARKERS[k]
        for i, v in enumerate(values):
            cells[row_of(v)][col(i)] = (mark, style)

    lines = []
    for r in range(height):
        label = ""
        if r in (0, height // 2, height - 1):
            label = f"{hi - r * (hi - lo) / (height - 1):.4g}"
        line = Text(f"{label:>9} ┤" if label else " " * 9 + " │", style="grade.dim")
        for cell in cells[r]:
            line.append(cell[0] if cell else " ", style=cell[1] if cell else "")
        lines.append(line)
    lines.append(Text(" " * 10 + "└" + "─" * width, style="grade.dim"))
    left, right = "1", f"{n}"
    middle = t("curves.epoch", lang)
    gap = width - len(left) - len(right) - Text(middle).cell_len
    lines.append(Text(" " * 11 + left + " " * (gap // 2) + middle + " " * (gap - gap // 2) + right, style="grade.dim"))
    legend = Text(" " * 11)
    for k, name in enumerate(series):
        mark, style = MARKERS[k]
        legend.append(f"{mark} {name}", style=style)
        legend.append("   ")
    best = best_epoch(series)
    if best is not None:
        legend.append(t("curves.lowest", lang, name=best[0], value=f"{best[2]:.4g}", epoch=best[1]), style="grade.dim")
    lines.append(legend)
    return lines


# --- PNG -----------------------------------------------------------------------------------

# 3×5 glyphs, rows top to bottom, "#" = ink. Text is drawn in capitals.
_FONT_ROWS = {
    "0": "### #.# #.# #.# ###", "1": ".#. ##. .#. .#. ###", "2": "### ..# ### #.. ###",
    "3": "### ..# .## ..# ###", "4": "#.# #.# ### ..# ..#", "5": "### #.. ### ..# ###",
    "6": "### #.. ### #.# ###", "7": "### ..# .#. .#. .#.", "8": "### #.# ### #.# ###",
    "9": "### #.# ### ..# ###", ".": "... ... ... ... .#.", "-": "... ... ### ... ...",
    "+": "... .#. ### .#. ...", "_": "... ... ... ... ###", ":": "... .#. ... .#. ...",
    " ": "... ... ... ... ...", "(": ".#. #.. #.. #.. .#.", ")": ".#. ..# ..# ..# .#.",
    "A": ".#. #.# ### #.# #.#", "B": "##. #.# ##. #.# ##.", "C": ".## #.. #.. #.. .##",
    "D": "##. #.# #.# #.# ##.", "E": "### #.. ##. #.. ###", "F": "### #.. ##. #.. #..",
    "G": ".## #.. #.# #.# .##", "H": "#.# #.# ### #.# #.#", "I": "### .#. .#. .#. ###",
    "J": "..# ..# ..# #.# .#.", "K": "#.# #.# ##. #.# #.#", "L": "#.. #.. #.. #.. ###",
    "M": "#.# ### ### #.# #.#", "N": "##. #.# #.# #.# #.#", "O": ".#. #.# #.# #.# .#.",
    "P": "##. #.# ##. #.. #..", "Q": ".#. #.# #.# ##. .##", "R": "##. #.# ##. #.# #.#",
    "S": ".## #.. .#. ..# ##.", "T": "### .#. .#. .#. .#.", "U": "#.# #.# #.# #.# ###",
    "V": "#.# #.# #.# #.# .#.", "W": "#.# #.# ### ### #.#", "X": "#.# #.# .#. #.# #.#",
    "Y": "#.# #.# .#. .#. .#.", "Z": "### ..# .#. #.. ###",
}
FONT = {ch: [row for row in rows.split()] for ch, rows in _FONT_ROWS.items()}

WHITE, BLACK, GRID, INK = (255, 255, 255), (40, 40, 40), (225, 225, 225), (90, 90, 90)


class Canvas:
    """An RGB pixel buffer with just enough drawing for a line chart."""

    def __init__(self, width: int, height: int, background: tuple[int, int, int] = WHITE) -> None:
        self.width, self.height = width, height
        self.pixels = bytearray(bytes(background) * (width * height))

    def set(self, x: int, y: int, color: tuple[int, int, int]) -> None:
        if 0 <= x < self.width and 0 <= y < self.height:
            i = 3 * (y * self.width + x)
            self.pixels[i : i + 3] = bytes(color)

    def fill(self, x0: int, y0: int, x1: int, y1: int, color: tuple[int, int, int]) -> None:
        for y in range(max(0, y0), min(self.height, y1 + 1)):
            for x in range(max(0, x0), min(self.width, x1 + 1)):
                self.set(x, y, color)

    def line(self, x0: int, y0: int, x1: int, y1: int, color: tuple[int, int, int], thick: int = 1) -> None:
        # Bresenham, with a square pen of side `thick`
        dx, dy = abs(x1 - x0), -abs(y1 - y0)
        sx, sy = (1 if x0 < x1 else -1), (1 if y0 < y1 else -1)
        err = dx + dy
        half = thick // 2
        while True:
            self.fill(x0 - half, y0 - half, x0 - half + thick - 1, y0 - half + thick - 1, color)
            if x0 == x1 and y0 == y1:
                return
            e2 = 2 * err
            if e2 >= dy:
                err += dy
                x0 += sx
            if e2 <= dx:
                err += dx
                y0 += sy

    def text(self, x: int, y: int, text: str, color: tuple[int, int, int] = BLACK, scale: int = 2) -> int:
        """Draw text with its top-left corner at (x, y); returns the x after it."""
        for ch in text.upper():
            glyph = FONT.get(ch, FONT[" "])
            for gy, row in enumerate(glyph):
                for gx, ink in enumerate(row):
                    if ink == "#":
                        self.fill(x + gx * scale, y + gy * scale, x + gx * scale + scale - 1, y + gy * scale + scale - 1, color)
            x += 4 * scale
        return x

    def png(self) -> bytes:
        return encode_png(self.width, self.height, bytes(self.pixels))


def text_width(text: str, scale: int = 2) -> int:
    return 4 * scale * len(text)


def encode_png(width: int, height: int, rgb: bytes) -> bytes:
    """8-bit RGB PNG: signature, IHDR, one zlib IDAT (filter 0 on every row), IEND."""
    if len(rgb) != width * height * 3:
        raise ValueError("pixel data does not match the size")
    stride = width * 3
    raw = b"".join(b"\x00" + rgb[y * stride : (y + 1) * stride] for y in range(height))

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")


def _ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    return [lo + i * (hi - lo) / (count - 1) for i in range(count)]


def plot_png(series: dict[str, list[float]], title: str = "", width: int = 640, height: int = 400) -> bytes:
    """A line chart of the curves: grid, y labels, epochs on x, a legend, the best epoch marked."""
    series = clean_series(series)
    canvas = Canvas(width, height)
    left, right, top, bottom = 78, 20, 56, 46
    pw, ph = width - left - right, height - top - bottom
    if title:
        canvas.text(left, 10, title[:70], BLACK, scale=2)
    if not series:
        canvas.text(left, top, "NO DATA", INK)
        return canvas.png()
    lo, hi = _range(series)
    n = max(len(row) for row in series.values())

    def px(i: float) -> int:
        return left + (0 if n == 1 else round(i * (pw - 1) / (n - 1)))

    def py(v: float) -> int:
        return top + round((hi - v) / (hi - lo) * (ph - 1))

    for v in _ticks(lo, hi):
        y = py(v)
        canvas.line(left, y, left + pw - 1, y, GRID)
        label = f"{v:.3g}"
        canvas.text(left - 8 - text_width(label), y - 5, label, INK)
    step = max(1, math.ceil(n / 10))
    for i in range(0, n, step):
        x = px(i)
        canvas.line(x, top + ph, x, top + ph + 4, INK)
        label = str(i + 1)
        canvas.text(x - text_width(label) // 2, top + ph + 8, label, INK)
    canvas.line(left, top, left, top + ph, BLACK)
    canvas.line(left, top + ph, left + pw - 1, top + ph, BLACK)
    canvas.text(left + pw // 2 - text_width("epoch") // 2, height - 18, "epoch", INK)

    best = best_epoch(series)
    if best is not None:  # a dashed vertical line at the best epoch
        x = px(best[1] - 1)
        for y in range(top, top + ph, 8):
            canvas.line(x, y, x, min(y + 3, top + ph), (150, 150, 150))
    for k, values in enumerate(series.values()):
        color = COLORS[k]
        points = [(px(i), py(v)) for i, v in enumerate(values)]
        for (x0, y0), (x1, y1) in itertools.pairwise(points):
            canvas.line(x0, y0, x1, y1, color, thick=2)
        if n <= 60:
            for x, y in points:
                canvas.fill(x - 2, y - 2, x + 2, y + 2, color)

    x = left
    for k, name in enumerate(series):
        canvas.fill(x, 36, x + 10, 44, COLORS[k])
        x = canvas.text(x + 16, 35, name, BLACK) + 18
    return canvas.png()


# --- the report ----------------------------------------------------------------------------


def png_path(report: CheckReport, artifact: dict[str, Any]) -> Path:
    """Where the PNG goes: ``.grade/`` in the workspace (the folder holding exercises/)."""
    name = str(artifact.get("exercise") or report.chapter)
    safe = "".join(ch if ch.isalnum() or ch in "._-" else "_" for ch in name)[:80] or "curve"
    return Path(report.target).parent / ".grade" / f"{safe}.png"


def render_artifacts(report: CheckReport, out: Console, lang: str = "en") -> list[Path]:
    """Draw every learning curve attached to the report; returns the PNGs written."""
    written = []
    for artifact in report.artifacts:
        if not isinstance(artifact, dict) or artifact.get("kind") != "learning_curve":
            continue
        series = clean_series(artifact.get("series"))
        if not series:
            continue
        title = str(artifact.get("title") or artifact.get("exercise") or "learning curve")[:80]
        shown = str(artifact.get("title_zh") or title)[:80] if lang == "zh" else title
        out.print(Text(shown, style="grade.title"))
        for line in text_plot(series, lang=lang):
            out.print(line)
        path = png_path(report, artifact)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(plot_png(series, title))
        except OSError as exc:
            out.print(Text(t("curves.png_failed", lang, reason=exc.strerror or exc), style="grade.dim"))
        else:
            written.append(path)
            out.print(Text(t("curves.png", lang, path=path), style="grade.dim"), soft_wrap=True)  # one line, to copy
        out.print()
    return written
