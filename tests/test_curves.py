"""Learning curves in the report: the text plot, the PNG encoder, and the wiring from a
CheckReport's artifacts to `grade check` output. No TensorFlow needed."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

from grader.grading.catalog import load_catalog
from grader.grading.results import CheckReport
from grader.grading.results import TestResult as Result
from grader.reports import console, render_check
from grader.reports.curves import Canvas, best_epoch, clean_series, encode_png, plot_png, text_plot

CURVES = {"loss": [0.69, 0.4, 0.25, 0.2, 0.18, 0.17], "val_loss": [0.6, 0.35, 0.22, 0.21, 0.24, 0.3]}


def read_png(data: bytes) -> tuple[int, int, bytes]:
    """A strict little PNG reader: checks the signature and every CRC, returns RGB rows."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, chunks = 8, []
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        tag, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])
        assert crc == zlib.crc32(tag + body) & 0xFFFFFFFF, tag
        chunks.append((tag, body))
        pos += 12 + length
    assert [t for t, _ in chunks] == [b"IHDR", b"IDAT", b"IEND"]
    width, height, depth, color, _, _, _ = struct.unpack(">IIBBBBB", chunks[0][1])
    assert (depth, color) == (8, 2)
    raw = zlib.decompress(chunks[1][1])
    assert len(raw) == height * (1 + 3 * width)
    rows = [raw[y * (1 + 3 * width) : (y + 1) * (1 + 3 * width)] for y in range(height)]
    assert all(r[0] == 0 for r in rows)  # filter type 0
    return width, height, b"".join(r[1:] for r in rows)


def test_png_encoder_round_trips_pixels():
    canvas = Canvas(7, 5)
    canvas.set(3, 2, (10, 200, 30))
    canvas.line(0, 0, 6, 4, (1, 2, 3))
    width, height, rgb = read_png(canvas.png())
    assert (width, height) == (7, 5)
    assert rgb[3 * (2 * 7 + 3) : 3 * (2 * 7 + 3) + 3] in (bytes((10, 200, 30)), bytes((1, 2, 3)))
    assert rgb[0:3] == bytes((1, 2, 3)) and rgb[-3:] == bytes((1, 2, 3))  # both ends of the line
    assert rgb[3 * 6 : 3 * 7] == bytes((255, 255, 255))  # a corner the line misses stays white


def test_png_encoder_refuses_the_wrong_amount_of_pixels():
    try:
        encode_png(2, 2, b"\x00" * 11)
    except ValueError:
        return
    raise AssertionError("a short pixel buffer was accepted")


def test_learning_curve_png_has_both_series_colors():
    width, height, rgb = read_png(plot_png(CURVES, "train_classifier"))
    assert (width, height) == (640, 400)
    pixels = {rgb[i : i + 3] for i in range(0, len(rgb), 3)}
    assert bytes((31, 119, 180)) in pixels  # loss, blue
    assert bytes((255, 127, 14)) in pixels  # val_loss, orange


def test_text_plot_marks_every_epoch_and_labels_the_range():
    lines = [t.plain for t in text_plot(CURVES, width=30, height=8)]
    assert len(lines) == 8 + 3
    assert lines[0].strip().startswith("0.69")
    assert lines[7].strip().startswith("0.17")
    body = "".join(lines[:8])
    assert body.count("●") + body.count("×") >= 10  # 12 points, a few may overlap
    assert "epoch" in lines[9] and lines[9].rstrip().endswith("6")
    assert "lowest val_loss 0.21 at epoch 4" in lines[10]


def test_text_plot_of_a_flat_curve_does_not_divide_by_zero():
    lines = text_plot({"loss": [0.5, 0.5, 0.5]}, width=10, height=4)
    assert len(lines) == 7


def test_series_are_cleaned_before_drawing():
    assert clean_series({"loss": [1, float("nan"), True, "x", 0.5], 3: [1.0], "empty": []}) == {"loss": [1.0, 0.5]}
    assert clean_series("not a dict") == {}
    assert best_epoch({"loss": [3.0, 1.0, 2.0]}) == ("loss", 2, 1.0)


def report_with_curve(target: Path) -> CheckReport:
    test = Result("chapter8.train_classifier", "test_classifier_returns_its_learning_curves", "passed", 1, 1, "public", "")
    artifact = {"kind": "learning_curve", "exercise": "chapter8.train_classifier", "title": "loss per epoch", "series": CURVES}
    return CheckReport("chapter8", str(target), (test,), 1.0, (), (artifact,))


def test_check_report_keeps_artifacts_through_json():
    report = report_with_curve(Path("/nowhere/exercises"))
    again = CheckReport.from_dict(report.to_dict())
    assert again.artifacts == report.artifacts


def test_grade_check_report_shows_the_plot_and_writes_the_png(tmp_path):
    workspace = tmp_path / "course"
    (workspace / "exercises").mkdir(parents=True)
    out = io.StringIO()
    render_check(report_with_curve(workspace / "exercises"), load_catalog(), console(out, width=100))
    text = out.getvalue()
    png = workspace / ".grade" / "chapter8.train_classifier.png"
    assert "loss per epoch" in text and "● loss" in text and "× val_loss" in text
    assert f"PNG: {png}" in text
    assert read_png(png.read_bytes())[:2] == (640, 400)


def test_an_unwritable_workspace_still_shows_the_plot(tmp_path):
    blocked = tmp_path / "course"
    blocked.mkdir()
    (blocked / ".grade").write_text("a file where the folder should be")
    out = io.StringIO()
    render_check(report_with_curve(blocked / "exercises"), load_catalog(), console(out, width=100))
    text = out.getvalue()
    assert "● loss" in text and "could not be written" in text


def test_the_plot_follows_the_language(tmp_path):
    out = io.StringIO()
    report = report_with_curve(tmp_path / "exercises")
    render_check(report, load_catalog(), console(out, width=100), lang="zh")
    text = out.getvalue()
    assert "轮次" in text and "val_loss 最低为 0.21（第 4 轮）" in text and "PNG 图：" in text
