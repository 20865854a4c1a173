"""Assertions for suites that talk to the student and never give the answer away.

Every failure is a ``Feedback`` whose text is shown to the student as it is: what was
called (shapes, dtype, seed), what was wrong (type, shape, dtype, worst element and its
relative error against the tolerance) — never the expected value or the test's code.
Shape and dtype problems are reported before values.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from grader.boundary import proxy
from grader.boundary.proxy import Formula as Formula  # re-exported for the suites
from grader.boundary.proxy import Proxy, type_name
from grader.boundary.proxy import Synced as Synced  # re-exported for the suites
from grader.util.i18n import tr


class Feedback(AssertionError):
    """A failed check, phrased for the student."""


def describe_array(x: Any) -> str:
    if isinstance(x, np.ndarray):
        return tr("fb.array_of", dtype=str(x.dtype), shape=str(x.shape))
    return type_name(x)


_DTYPE_TEXT: dict[tuple[Any, str], str] = {}  # (dtype, "str" | "name") -> its text: numpy builds it anew each time


def dtype_text(dtype: Any, form: str = "str") -> str:
    """``str(dtype)`` (or ``dtype.name``), remembered per dtype: numpy spends microseconds
    building it, and every call described in a test (``call_text``) names its arrays' dtypes.
    Only dtypes of the test's own arrays come here, so the memo stays a handful of entries."""
    key = (dtype, form)
    text = _DTYPE_TEXT.get(key)
    if text is None:
        text = dtype.name if form == "name" else str(dtype)
        if len(_DTYPE_TEXT) < 256:
            _DTYPE_TEXT[key] = text
    return text


def call_text(name: str, *args: Any, seed: int | None = None, **kwargs: Any) -> str:
    """A readable description of a call: arrays by dtype and shape, scalars by value.

    ``seed`` records which generator made the inputs, for the suite's reader; it is not shown:
    a student cannot rerun a seed without the suite's code, so public tests add a snippet that
    rebuilds the inputs (``rebuild_snippet``) and hidden ones keep to shapes."""

    hidden = in_hidden_test()

    def show(v: Any) -> str:
        if isinstance(v, np.ndarray):
            return f"<{dtype_text(v.dtype)} {v.shape}>"
        if isinstance(v, Proxy):  # a class name the student's code may have chosen
            return "<object>" if hidden else f"<{type_name(v)}>"
        if callable(v):
            return "f"
        if isinstance(v, dict):
            return "{" + ", ".join(f"{k!r}: {show(x)}" for k, x in v.items()) + "}"
        if isinstance(v, tuple):
            return "(" + ", ".join(show(x) for x in v) + ("," if len(v) == 1 else "") + ")"
        if isinstance(v, list):
            return "[" + ", ".join(show(x) for x in v) + "]"
        return repr(v)

    parts = [show(a) for a in args] + [f"{k}={show(v)}" for k, v in kwargs.items()]
    text = f"{name}({', '.join(parts)})"
    if not hidden:
        _remember_rebuild(name, args, kwargs)
    return text


REBUILD_MAX_VALUES = 40  # arrays up to this size are written out in full
REBUILD_MAX_CHARS = 1500
_rebuild: list[str] = []  # the last public call's inputs as code (see rebuild_snippet)


def _remember_rebuild(name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    """Python that rebuilds a public call's inputs: small arrays written out (float repr
    round-trips exactly), bigger ones by dtype and shape; the test's file has the rest."""
    lines: list[str] = []
    names: list[str] = []

    def value(v: Any, label: str) -> str:
        if isinstance(v, np.ndarray):
            if v.size <= REBUILD_MAX_VALUES and v.dtype.kind in "biuf":
                lines.append(f"{label} = np.array({v.tolist()!r}, dtype=np.{dtype_text(v.dtype, 'name')})")
                return label
            return f"<{dtype_text(v.dtype)} {v.shape}>"
        if isinstance(v, dict):
            return "{" + ", ".join(f"{k!r}: {value(x, f'{label}_{k}')}" for k, x in v.items()) + "}"
        if isinstance(v, Proxy):
            return f"<{type_name(v)}>"
        if callable(v):
            return "f"
        return repr(v)

    for i, a in enumerate(args):
        names.append(value(a, "x" if len(args) == 1 else f"x{i}"))
    names += [f"{k}={value(v, k)}" for k, v in kwargs.items()]
    _rebuild.clear()
    if lines:
        _rebuild.append("\n".join(_within(lines, REBUILD_MAX_CHARS) + [f"{name}({', '.join(names)})"]))


def _within(lines: list[str], limit: int) -> list[str]:
    """``lines`` up to about ``limit`` characters, cut only between two numbers of an array
    literal (never inside a number or a name), the cut marked with ``...``."""
    kept: list[str] = []
    used = 0
    for line in lines:
        if used + len(line) <= limit:
            kept.append(line)
            used += len(line) + 1
            continue
        room = max(0, limit - used)
        cut = line.rfind(", ", 0, room)
        head = line[:cut] if cut > line.find("[") >= 0 else line[: line.find("[") + 1]
        kept.append(head + ", ...  # cut here: the whole input is in the test's file")
        break
    return kept


def rebuild_snippet() -> str:
    """The code that rebuilds the last public call's inputs ('' when none was recorded)."""
    return _rebuild[-1] if _rebuild else ""


def forget_rebuild() -> None:
    _rebuild.clear()


def _nothing_returned(call: str) -> Feedback:
    return Feedback(tr("fb.returned_none", call=call))


def expect_int01(value: Any, call: str) -> int:
    """A gate's output: the Python int 0 or 1 (bool and numpy types are refused)."""
    if value is None:
        raise _nothing_returned(call)
    if type(value) is not int:
        raise Feedback(tr("fb.gate_type", call=call, type=_type(value), value=_echo(_short(value))))
    if value not in (0, 1):
        raise Feedback(tr("fb.gate_value", call=call, value=_echo(str(value))))
    return value


def expect_value(value: Any, expected: Any, call: str, what: str = "result") -> None:
    """Exact comparison for small discrete answers; the message names the call only."""
    if value != expected:
        raise Feedback(tr("fb.wrong_value", call=call, value=_echo(_short(value))))


def expect_array(value: Any, call: str, shape: tuple[int, ...] | None = None, kind: str = "f") -> np.ndarray:
    """Type, then shape, then dtype kind ('f' float, 'b' bool, 'i' int, 'n' any number)."""
    if value is None:
        raise _nothing_returned(call)
    if not isinstance(value, np.ndarray):
        raise Feedback(tr("fb.not_array", call=call, type=_type(value)))
    if shape is not None and value.shape != tuple(shape):
        raise Feedback(tr("fb.shape", call=call, got=_echo(str(value.shape)), want=str(tuple(shape))))
    if kind == "f" and value.dtype.kind != "f":
        raise Feedback(tr("fb.dtype_float", call=call, dtype=str(value.dtype)))
    if kind == "n" and value.dtype.kind not in "iuf":
        raise Feedback(tr("fb.dtype_numeric", call=call, dtype=str(value.dtype)))
    if kind in ("b", "i") and value.dtype.kind not in (kind + ("u" if kind == "i" else "")):
        text = tr("fb.dtype_bool", call=call, dtype=str(value.dtype)) if kind == "b" else tr("fb.dtype_int", call=call, dtype=str(value.dtype))
        raise Feedback(text)
    return value


def expect_number(value: Any, call: str) -> float:
    """A Python or numpy real scalar (or a 0-d array); returns it as float."""
    if value is None:
        raise _nothing_returned(call)
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating, np.ndarray)):
        raise Feedback(tr("fb.not_number", call=call, type=_type(value)))
    if isinstance(value, np.ndarray):
        if value.size != 1 or value.dtype.kind not in "iuf":
            raise Feedback(tr("fb.not_number", call=call, type=_echo(describe_array(value))))
        value = value.reshape(())[()]
    return float(value)


def assert_close(
    actual: Any,
    expected: Any,
    call: str,
    rtol: float = 1e-6,
    atol: float = 1e-9,
    kind: str = "f",
) -> None:
    """Compare an array (or scalar) with the reference, reporting only the student's side."""
    expected_arr = np.asarray(expected)
    if expected_arr.ndim == 0 and not isinstance(actual, np.ndarray):
        number = expect_number(actual, call)
        _check_values(np.asarray(number), expected_arr, call, rtol, atol)
        return
    arr = expect_array(actual, call, shape=expected_arr.shape, kind=kind)
    _check_values(arr, expected_arr, call, rtol, atol)


def _check_values(arr: np.ndarray, expected: np.ndarray, call: str, rtol: float, atol: float) -> None:
    arr = arr.astype(np.float64, copy=False)
    expected = expected.astype(np.float64, copy=False)
    finite = np.isfinite(arr)
    if not finite.all() and np.isfinite(expected).all():
        idx = _index(np.argmax(~finite), arr.shape)
        value = arr[idx] if arr.ndim else arr
        msg_id = "fb.not_finite_nan" if np.isnan(value) else "fb.not_finite"
        if msg_id == "fb.not_finite_nan" and "softmax" in call.split("(", 1)[0].lower():
            msg_id = "fb.not_finite_softmax"  # exp overflowed to inf, then inf / inf
        raise Feedback(tr(msg_id, call=call, value=value, where=_where(idx)))
    excess = np.abs(arr - expected) - (atol + rtol * np.abs(expected))
    if np.all(excess <= 0):
        return
    nudge = _nudge(arr, expected, call)
    flat = int(np.argmax(excess))
    idx = _index(flat, arr.shape)
    got = float(arr[idx]) if arr.ndim else float(arr)
    ref = float(expected[idx]) if expected.ndim else float(expected)
    rel = abs(got - ref) / max(abs(ref), 1e-12)
    wrong = int(np.count_nonzero(excess > 0))
    if in_hidden_test():
        # the student's value and its relative error together give the expected value away
        # (expected = got / (1 ± rel)), and the student knows their value when they chose it
        # (a constant); a hidden test says only whether the worst value is near or far off
        text = tr("fb.values_off_hidden", call=call, wrong=wrong, total=max(arr.size, 1), where=_where(idx),
                  rel=_band(rel, HIDDEN_NEAR), allowed=f"{rtol:.0e}") if idx else \
            tr("fb.value_off_hidden", call=call, rel=_band(rel, HIDDEN_NEAR), allowed=f"{rtol:.0e}")
    elif idx:
        text = tr("fb.values_off", call=call, wrong=wrong, total=max(arr.size, 1), where=_where(idx),
                  got=f"{got:.6g}", rel=f"{rel:.2e}", allowed=f"{rtol:.0e}")
    else:  # one number: no "worst" of one
        text = tr("fb.value_off", call=call, got=f"{got:.6g}", rel=f"{rel:.2e}", allowed=f"{rtol:.0e}")
    raise Feedback(text + (" " + nudge if nudge else ""))


def assert_equal_array(
    actual: Any, expected: Any, call: str, kind: str = "n", given: np.ndarray | None = None
) -> np.ndarray:
    """Exact comparison for arrays of small discrete values (0/1 masks, labels): type, shape,
    dtype kind, then the first wrong element — without the expected value. ``given`` (the
    input, same shape) lets the message show the input at that element."""
    expected_arr = np.asarray(expected)
    arr = expect_array(actual, call, shape=expected_arr.shape, kind=kind)
    wrong = arr != expected_arr
    if wrong.any():
        idx = _index(int(np.argmax(wrong)), arr.shape)
        got = arr[idx] if arr.ndim else arr[()]
        value = got.item() if hasattr(got, "item") else got
        if given is not None and not in_hidden_test():  # a hidden test's input is not shown
            text = tr("fb.values_wrong_input", call=call, wrong=int(np.count_nonzero(wrong)), total=max(arr.size, 1),
                      where=_where(idx), got=value, given=repr(float(np.asarray(given)[idx])))
        else:
            text = tr("fb.values_wrong", call=call, wrong=int(np.count_nonzero(wrong)), total=max(arr.size, 1),
                      where=_where(idx), got=_echo(str(value)))
        raise Feedback(text)
    return arr


def assert_gradient(
    analytic: Any,
    numeric: np.ndarray,
    call: str,
    good: float = 1e-7,
    wrong: float = 1e-2,
    threshold: float = 1e-5,
    backward: bool | None = None,
) -> None:
    """Compare a backward pass with a numerical gradient using the relative error
    |a - n| / max(|a|, |n|): below ``good`` is right, above ``wrong`` is a bug."""
    arr = expect_array(analytic, call, shape=numeric.shape)
    denom = np.maximum(np.maximum(np.abs(arr), np.abs(numeric)), 1e-8)
    rel = np.abs(arr - numeric) / denom
    worst = float(rel.max()) if rel.size else 0.0
    if worst <= threshold:
        return
    idx = _index(int(np.argmax(rel)), rel.shape)
    if backward is None:  # a numerical gradient has no backward pass to blame
        backward = "numerical_gradient" not in call
    verdict = tr(("fb.gradcheck.bug_backward" if backward else "fb.gradcheck.bug") if worst > wrong else "fb.gradcheck.suspicious")
    # hidden: a chosen analytic value a and rel = |a - n| / max(|a|, |n|) give n away; the band only
    shown = _band(worst, wrong) if in_hidden_test() else f"{worst:.2e}"
    nudge = ""
    ratio = _constant_ratio(arr, numeric, rtol=1e-4)
    if ratio is not None:
        nudge = " " + (tr("fb.nudge.batch_factor") if in_hidden_test() else
                       tr("fb.nudge.batch_factor_n", factor=f"{ratio:g}" if ratio >= 1 else f"1/{1 / ratio:g}"))
    raise Feedback(
        tr("fb.gradcheck", call=call, worst=shown, where=_where(idx), good=f"{good:.0e}",
           wrong=f"{wrong:.0e}", verdict=verdict) + nudge
    )


# Arguments whose defaults a test relies on (it leaves them out): a wrong default is a common slip.
DEFAULTS = {
    "gradient_descent": ("lr", "lr=0.01, step_num=100"),
    "leaky_relu": ("alpha", "alpha=0.01"),
    "SGD": ("lr", "lr=0.01"),
    "Momentum": ("lr", "lr=0.01, momentum=0.9"),
    "AdaGrad": ("lr", "lr=0.01"),
    "RMSprop": ("lr", "lr=0.01, decay_rate=0.99"),
    "Adam": ("lr", "lr=0.001, beta1=0.9, beta2=0.999"),
}


def Callback(fn: Any, like: Any) -> proxy.Callback:  # noqa: N802 - the suites' name for it
    """A test's function for the student's code, taking one argument like ``like``
    (``proxy.Callback``). A ``Formula`` written in a public suite and handed over in a public
    test runs in the worker (no round trip per call); anything else runs here."""
    portable = isinstance(fn, Formula) and not fn.origin.endswith("_hidden.py") and not in_hidden_test()
    return proxy.Callback(fn, like, portable=portable)


def in_hidden_test() -> bool:
    """Whether the check runs for a hidden test (a ``*_hidden.py`` suite is on the stack):
    then messages name shapes only, never anything computed from the expected values."""
    import sys

    frame = sys._getframe(1)
    while frame is not None:
        if frame.f_code.co_filename.endswith("_hidden.py"):
            return True
        frame = frame.f_back
    return False


HIDDEN_NEAR = 1e-3  # a hidden values-off message says only whether the worst error is below this


def _band(rel: float, edge: float) -> str:
    """A relative error as which side of ``edge`` it is on: an interval this coarse around the
    expected value cannot be bisected by resubmitting chosen values."""
    return f"<{edge:.0e}" if rel < edge else f">{edge:.0e}"


def _called(call: str) -> str:
    return call.split("(", 1)[0].rsplit(".", 1)[-1]


def _nudge(arr: np.ndarray, expected: np.ndarray, call: str) -> str:
    """A pointer at a common mistake the wrong values look like, or ''."""
    name = _called(call)
    if name == "numerical_gradient" and arr.size and not arr.any() and expected.any():
        return tr("fb.nudge.zero_gradient")
    if name == "forward" and arr.ndim >= 1 and arr.shape[-1] > 1:
        if np.allclose(arr.sum(axis=-1), 1.0, atol=1e-6) and np.all(arr >= 0):
            return tr("fb.nudge.rows_sum_to_one")
    if name in DEFAULTS:
        argument, defaults = DEFAULTS[name]
        if f"{argument}=" not in call:
            return tr("fb.nudge.default", name=name, defaults=defaults)
    ratio = _constant_ratio(arr, expected)
    if ratio is not None:
        if in_hidden_test():
            return tr("fb.nudge.batch_factor")
        return tr("fb.nudge.batch_factor_n", factor=f"{ratio:g}" if ratio >= 1 else f"1/{1 / ratio:g}")
    return ""


def _constant_ratio(arr: np.ndarray, expected: np.ndarray, rtol: float = 1e-6) -> float | None:
    """N or 1/N (N a whole number from 2 to 4096) when every value is that multiple of the
    expected one: the signature of a division by the batch size missed or done twice."""
    mask = np.abs(expected) > 1e-12
    if arr.size < 2 or mask.sum() < 2:
        return None
    ratios = arr[mask] / expected[mask]
    r = float(np.median(ratios))
    if not np.allclose(ratios, r, rtol=rtol, atol=0) or not np.allclose(arr[~mask], 0, atol=1e-9):
        return None
    for candidate in (r, 1 / r if r else 0.0):
        n = round(candidate)
        if 2 <= n <= 4096 and abs(candidate - n) < rtol * n:
            return round(r) if r >= 1 else 1 / round(1 / r)
    return None


def _index(flat: int, shape: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(int(i) for i in np.unravel_index(flat, shape)) if shape else ()


def _where(idx: tuple[int, ...]) -> str:
    return tr("fb.where.element", index=", ".join(map(str, idx))) if idx else tr("fb.where.value")


HIDDEN_ECHO = "…"  # in a hidden test, instead of anything the student's code chose to return


def _echo(text: str) -> str:
    """What the student's code returned (a value, a shape), shown in public tests only: in a
    hidden test the code could have written the test's input into it."""
    return HIDDEN_ECHO if in_hidden_test() else text


def _type(value: Any) -> str:
    """A returned value's type: a plain type's name, or a student class's name (public tests)."""
    return _echo(type_name(value)) if isinstance(value, Proxy) else type_name(value)


def _short(value: Any) -> str:
    if isinstance(value, np.ndarray):
        return describe_array(value)
    if isinstance(value, Proxy):
        return tr("fb.object_of", type=type_name(value))
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


REFERENCE_ENTRIES = 64  # reference values kept per grading session (the oldest go first)
_REFERENCE: dict[tuple[Any, ...], Any] = {}


def reference(fn: Any, *args: Any) -> Any:
    """``fn(*args)`` for a reference computation on the test's own data (a network's numerical
    gradient, say), computed once per grading session for the same function and the same
    inputs, bit for bit: a batch grades every student on the same inputs, and recomputing
    what cannot differ was a tenth of a chapter's CPU.

    Only for a pure function of its arguments, and the arguments may only be plain data
    (arrays, numbers, text, and tuples, lists and dicts of them): the key is their types,
    shapes and bytes, so a value is reused only where recomputing it would give the same
    value, and nothing computed from one student's data can stand in for another's. The
    caller gets its own copy (arrays included)."""
    key = (getattr(fn, "__module__", ""), getattr(fn, "__qualname__", repr(fn)), _data_key(args))
    if key not in _REFERENCE:
        value = fn(*args)
        if len(_REFERENCE) >= REFERENCE_ENTRIES:
            del _REFERENCE[next(iter(_REFERENCE))]
        _REFERENCE[key] = proxy.snapshot(value)
    return proxy.snapshot(_REFERENCE[key])


def _data_key(value: Any) -> Any:
    import hashlib

    if isinstance(value, np.ndarray):
        if value.dtype.hasobject:
            raise TypeError("reference() takes arrays of numbers, not of objects")
        return ("a", value.dtype.str, value.shape, hashlib.blake2b(np.ascontiguousarray(value).tobytes()).digest())
    if isinstance(value, (tuple, list)):
        return (type(value).__name__, *(_data_key(v) for v in value))
    if isinstance(value, dict):
        return ("d", *((_data_key(k), _data_key(v)) for k, v in value.items()))
    if value is None or type(value) in (bool, int, float, complex, str, bytes) or isinstance(value, np.generic):
        return (type(value).__name__, repr(value))
    raise TypeError(f"reference() takes plain data, not a {type(value).__name__}")


def central_difference_gradient(f: Any, x: np.ndarray, h: float = 1e-5, batched: bool = False) -> np.ndarray:
    """d f(x) / dx by central differences, computed on the trusted side.

    ``f`` maps an array shaped like ``x`` to a number (e.g. ``sum(reference_forward(x) * dout)``)
    and always receives a fresh copy, so ``x`` is left as it was. With ``batched=True`` it is
    called once with every perturbed copy stacked, shape ``(2 * x.size, *x.shape)`` (all the
    ``x + h*e_k``, then all the ``x - h*e_k``), and returns the ``2 * x.size`` values. Compare the
    result with a backward pass using ``assert_gradient``.
    """
    x = np.array(x, dtype=np.float64)
    if batched:
        eye = np.eye(x.size).reshape((x.size, *x.shape)) * h
        values = np.asarray(f(np.concatenate([x + eye, x - eye])), dtype=np.float64).reshape(-1)
        return ((values[: x.size] - values[x.size :]) / (2 * h)).reshape(x.shape)
    grad = np.zeros_like(x)
    flat = x.reshape(-1)
    out = grad.reshape(-1)
    for k in range(flat.size):
        old = flat[k]
        flat[k] = old + h
        plus = float(f(x.copy()))
        flat[k] = old - h
        minus = float(f(x.copy()))
        flat[k] = old
        out[k] = (plus - minus) / (2 * h)
    return grad


def fresh(value: Any) -> Any:
    """A private copy of a test input: arrays copied, dicts/lists/tuples rebuilt around copies.

    Suites hand the student ``fresh(x)`` and keep ``x`` for their expected values, so nothing a
    student does to what it was given can change what it is compared with."""
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, dict):
        return {k: fresh(v) for k, v in value.items()}
    if isinstance(value, list):
        return [fresh(v) for v in value]
    if isinstance(value, tuple):
        return tuple(fresh(v) for v in value)
    return value


def frozen(value: Any) -> Any:
    """Make a module-level constant read-only (arrays, also inside dicts/lists/tuples) and return
    it: a shared constant can then never be changed by accident or passed on to be changed."""
    if isinstance(value, np.ndarray):
        value.flags.writeable = False
    elif isinstance(value, dict):
        for v in value.values():
            frozen(v)
    elif isinstance(value, (list, tuple)):
        for v in value:
            frozen(v)
    return value
