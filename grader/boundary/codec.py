"""Plain-data codec for the channel between the grader and the student worker.

Both sides load this file: the trusted side imports it as ``grader.boundary.codec``;
the worker receives its source text and executes it (the worker has no ``grader``
package on its path). It must therefore depend on the standard library, msgpack and
numpy only, and import numpy lazily.

What crosses: None, bool, int, float, str, bytes, lists, dicts, tuples, numpy arrays
(numeric or bool dtypes only, sent as dtype + shape + raw bytes) and numpy scalars.
Everything else is refused by the trusted side's decoder. Two extra kinds exist only
as references: a *handle* names an object that stays in the worker, a *callback*
names a function that stays on the trusted side. Nothing is ever pickled.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import Any

import msgpack

EXT_NDARRAY = 1
EXT_HANDLE = 2
EXT_CALLBACK = 3
EXT_TUPLE = 4
EXT_SCALAR = 5
# Trusted side to worker only: a public test's function as the text of its formula (with its
# named constants and the argument it takes), run in the worker instead of one round trip per call.
EXT_FORMULA = 6
# Trusted side to worker only: an attribute of a handle, named without being fetched first
# (a method the worker listed with the handle); the worker looks it up when the request runs.
EXT_ATTR = 7
MAX_METHODS = 256  # names a handle may list as its methods (each at most 100 characters)

# Array kinds allowed across the channel: bool, signed, unsigned, float, complex.
ALLOWED_KINDS = frozenset("biufc")
# Bounds on what one message from the worker may be, checked before it is decoded. A
# frame is as large as a legitimate reply gets (a test's arrays are at most a few MB; a
# chapter-8 model archive well under that). Each value costs at least one byte of the
# frame but up to ~64 bytes once decoded, so the count of values is bounded on its own.
MAX_FRAME = 64 * 1024 * 1024
MAX_DEPTH = 32  # nesting of lists, dicts and tuples
MAX_VALUES = 200_000  # every value in the message, nested ones included
MAX_NDIM = 32
_HEADER = struct.Struct(">I")
# Bound when the codec loads, so student code that rebinds builtins.int cannot break it.
_PLAIN_BASES = (bool, int, float, str, bytes)


class CodecError(ValueError):
    """A message that is not well-formed plain data."""


# Sizes of what follows a msgpack type byte: fixed-size scalars, and the width of the
# length field for variable ones (bin/str/ext, arrays, maps).
_FIXED = {0xCA: 4, 0xCB: 8, 0xCC: 1, 0xCD: 2, 0xCE: 4, 0xCF: 8, 0xD0: 1, 0xD1: 2, 0xD2: 4, 0xD3: 8}
_BYTES = {0xC4: 1, 0xC5: 2, 0xC6: 4, 0xD9: 1, 0xDA: 2, 0xDB: 4}
_EXT = {0xC7: 1, 0xC8: 2, 0xC9: 4}
_FIXEXT = {0xD4: 1, 0xD5: 2, 0xD6: 4, 0xD7: 8, 0xD8: 16}
_ARRAY = {0xDC: 2, 0xDD: 4}
_MAP = {0xDE: 2, 0xDF: 4}


def needs_walk(data: bytes, max_values: int = MAX_VALUES) -> bool:
    """Whether a message must be walked (``check_message``) before it is built. One that is no
    longer than ``max_values`` bytes cannot hold more values than that (each costs a byte), and
    msgpack bounds every length by the message's own: built, it is small (at most ~100 bytes
    per byte of message), and ``check_built`` bounds its nesting. Walking it first in Python
    cost more than decoding it (a few % of a batch's CPU: nearly every reply is this small)."""
    return len(data) > max_values


def check_built(value: Any, max_depth: int = MAX_DEPTH) -> None:
    """Refuse a decoded message whose lists, dicts and tuples nest deeper than ``max_depth``
    (as ``check_message`` refuses its bytes); arrays, scalars and handles are leaves."""
    stack = [(value, 0)]
    pop, push = stack.pop, stack.append
    while stack:
        item, depth = pop()
        kind = type(item)
        if kind is list or kind is tuple:
            children = item
        elif kind is dict:
            children = [*item.keys(), *item.values()]
        else:
            continue
        if not children:
            continue
        if depth >= max_depth:
            raise CodecError("message nested too deeply")
        for child in children:
            kind = type(child)
            if kind is list or kind is tuple or kind is dict:
                push((child, depth + 1))


def check_message(data: bytes, max_depth: int = MAX_DEPTH, max_values: int = MAX_VALUES) -> None:
    """Walk a message's structure without building it: refuse anything nested deeper
    than ``max_depth`` or holding more than ``max_values`` values (extension payloads
    -- tuples, arrays, handles -- are walked as nested messages), truncated or with
    trailing bytes. Only after this may ``unpack`` build Python objects from it."""
    budget = [max_values]
    view = memoryview(data)
    if _walk(view, 0, 0, max_depth, budget) != len(view):
        raise CodecError("malformed message (trailing bytes)")


def _int(view: memoryview, pos: int, width: int) -> int:
    if pos + width > len(view):
        raise CodecError("malformed message (truncated)")
    return int.from_bytes(view[pos : pos + width], "big")


def _walk(view: memoryview, pos: int, depth: int, max_depth: int, budget: list[int]) -> int:
    """Skip one value starting at ``pos``; its end position."""
    pending = [1]  # values still to skip at each open level
    end = len(view)
    while pending:
        if pending[-1] == 0:
            pending.pop()
            continue
        pending[-1] -= 1
        budget[0] -= 1
        if budget[0] < 0:
            raise CodecError("too many values in one message")
        if pos >= end:
            raise CodecError("malformed message (truncated)")
        b = view[pos]
        pos += 1
        count = -1
        if b <= 0x7F or b >= 0xE0 or b in (0xC0, 0xC2, 0xC3):
            continue
        if b <= 0x8F:
            count = 2 * (b & 0x0F)
        elif b <= 0x9F:
            count = b & 0x0F
        elif b <= 0xBF:
            pos += b & 0x1F
        elif b in _FIXED:
            pos += _FIXED[b]
        elif b in _BYTES:
            pos += _BYTES[b] + _int(view, pos, _BYTES[b])
        elif b in _ARRAY:
            count = _int(view, pos, _ARRAY[b])
            pos += _ARRAY[b]
        elif b in _MAP:
            count = 2 * _int(view, pos, _MAP[b])
            pos += _MAP[b]
        elif b in _EXT or b in _FIXEXT:
            if b in _EXT:
                size = _int(view, pos, _EXT[b])
                pos += _EXT[b]
            else:
                size = _FIXEXT[b]
            pos += 1  # the extension's type code
            if pos + size > end:
                raise CodecError("malformed message (truncated)")
            # Every extension we use carries a msgpack value: walk it one level deeper.
            if depth + len(pending) > max_depth:
                raise CodecError("message nested too deeply")
            payload = view[pos : pos + size]
            if _walk(payload, 0, depth + len(pending), max_depth, budget) != size:
                raise CodecError("malformed message (extension payload)")
            pos += size
        else:
            raise CodecError("malformed message (unknown type byte)")
        if pos > end:
            raise CodecError("malformed message (truncated)")
        if count >= 0:
            if depth + len(pending) > max_depth:
                raise CodecError("message nested too deeply")
            pending.append(count)
    return pos


def _np():
    import numpy

    return numpy


def encode_array(arr: Any, packb: Callable[[Any], bytes] = msgpack.packb) -> bytes:
    np = _np()
    arr = np.ndarray.view(arr, np.ndarray)
    if not arr.flags.c_contiguous:
        arr = arr.copy(order="C")  # (np.ascontiguousarray would turn 0-d into 1-d)
    if arr.dtype.kind not in ALLOWED_KINDS or arr.dtype.hasobject:
        raise CodecError(f"arrays of dtype {arr.dtype} cannot be sent")
    return packb([arr.dtype.str, list(arr.shape), arr.tobytes()])


def decode_array(data: bytes) -> Any:
    """Rebuild an array from dtype + shape + bytes, validating every part."""
    np = _np()
    try:
        dtype_str, shape, raw = msgpack.unpackb(data, use_list=True, raw=False)
    except Exception as exc:
        raise CodecError("malformed array payload") from exc
    if not isinstance(dtype_str, str) or not isinstance(raw, bytes) or not isinstance(shape, list):
        raise CodecError("malformed array payload")
    if len(dtype_str) > 8:
        raise CodecError("malformed array dtype")
    try:
        dtype = np.dtype(dtype_str)
    except TypeError as exc:
        raise CodecError("unknown array dtype") from exc
    if dtype.kind not in ALLOWED_KINDS or dtype.hasobject or dtype.fields is not None:
        raise CodecError(f"arrays of dtype {dtype} are not accepted")
    if len(shape) > MAX_NDIM or not all(type(n) is int and n >= 0 for n in shape):
        raise CodecError("malformed array shape")
    count = 1
    for n in shape:
        count *= n
    if count * dtype.itemsize != len(raw):
        raise CodecError("array size does not match its shape")
    return np.frombuffer(raw, dtype=dtype).reshape(shape).copy()


def encode_scalar(value: Any, packb: Callable[[Any], bytes] = msgpack.packb) -> bytes:
    np = _np()
    return encode_array(np.asarray(value).reshape(()), packb)


def decode_scalar(data: bytes) -> Any:
    arr = decode_array(data)
    if arr.shape != ():
        raise CodecError("malformed scalar payload")
    return arr[()]


def argument_problem(shape: Any, args: Any, kwargs: Any) -> str | None:
    """Why the arguments given to a test's function are not the one it declared (None when
    they are): an array of ``shape`` (a tuple) and a float dtype, or, with ``shape`` None, a
    real number. Both sides ask it: the trusted side before the test's function runs, the
    worker before a formula sent to it does, with the same words."""
    np = _np()
    if shape is not None:
        wanted = f"an array of shape {tuple(shape)} and a float dtype"
    else:
        wanted = "a real number"
    if kwargs or len(args) != 1:
        return f"it takes one argument, {wanted} (it was given {len(args)} and {len(kwargs)} by name)"
    value = args[0]
    if shape is not None:
        if not isinstance(value, np.ndarray):
            return f"it takes {wanted}, not a {type(value).__name__}"
        if value.shape != tuple(shape) or value.dtype.kind != "f":
            return f"it takes {wanted}, not an array of shape {value.shape} and dtype {value.dtype}"
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating, np.ndarray)):
        return f"it takes {wanted}, not a {type(value).__name__}"
    if isinstance(value, np.ndarray) and (value.shape != () or value.dtype.kind not in "iuf"):
        return f"it takes {wanted}, not an array of shape {value.shape} and dtype {value.dtype}"
    return None


def compile_formula(expr: str, names: Any) -> Callable[[Any], Any]:
    """A test's ``Formula`` (the text of an expression in ``x``; numpy is ``np``, ``names`` its
    constants) as a function: the same on both sides, the trusted one and the worker."""
    code = compile(f"lambda x: {expr}", "<the test's function>", "eval")
    return eval(code, {"np": _np(), **names})  # the test's own text, never the student's


def callback_failure(detail: str) -> str:
    """What the student's code is told when a test's function it called fails (refused its
    argument, or raised): the trusted side's callbacks and the worker's formulas say the same."""
    return f"the function passed to your code failed: {detail}"


def checked_methods(methods: Any) -> dict[str, str] | None:
    """A handle's list of methods (name -> type name) as the worker sent it, bounded; a
    ``CodecError`` when it is not one."""
    if methods is None:
        return None
    if not (type(methods) is dict and len(methods) <= MAX_METHODS
            and all(type(k) is str and type(v) is str and len(k) <= 100 for k, v in methods.items())):
        raise CodecError("malformed handle")
    return {k: v[:100] for k, v in methods.items()}


class Codec:
    """msgpack packer/unpacker with the extension types above.

    ``on_object(obj) -> ExtType | None`` lets each side decide what to do with values
    that are not plain data (the worker turns them into handles, the trusted side
    into callbacks); ``on_ext(code, data)`` resolves handle/callback references.
    """

    def __init__(
        self,
        on_object: Callable[[Any], msgpack.ExtType],
        on_ext: Callable[[int, bytes], Any],
    ) -> None:
        self._on_object = on_object
        self._on_ext = on_ext
        # One packer per nesting level (a tuple's or array's payload is packed while the message
        # around it is), each kept: ``msgpack.packb`` makes a packer with a 256 KB buffer per call,
        # whose allocation cost more than the rest of a small message's round trip.
        self._packers: list[msgpack.Packer] = []
        self._depth = 0
        self._unpack_depth = 0  # tuples being unpacked inside each other (_ext_hook)

    def _default(self, obj: Any) -> Any:
        np = _np()
        if isinstance(obj, tuple):
            return msgpack.ExtType(EXT_TUPLE, self.pack(list(obj)))
        if isinstance(obj, np.ndarray) and obj.dtype.kind in ALLOWED_KINDS and not obj.dtype.hasobject:
            return msgpack.ExtType(EXT_NDARRAY, encode_array(obj, self.pack))
        if isinstance(obj, np.generic) and np.dtype(type(obj)).kind in ALLOWED_KINDS:
            return msgpack.ExtType(EXT_SCALAR, encode_scalar(obj, self.pack))
        # Subclasses of plain types are reduced to their base value: whatever a
        # subclass overrides (__eq__, __repr__, ...) stays behind.
        for base in _PLAIN_BASES:
            if isinstance(obj, base):
                return base(obj)
        if isinstance(obj, list):
            return [x for x in list.__iter__(obj)]
        if isinstance(obj, dict):
            return {k: v for k, v in dict.items(obj)}
        return self._on_object(obj)

    def _ext_hook(self, code: int, data: bytes) -> Any:
        if code == EXT_NDARRAY:
            return decode_array(data)
        if code == EXT_SCALAR:
            return decode_scalar(data)
        if code == EXT_TUPLE:
            # Each tuple's payload is unpacked inside the one around it (msgpack's C code under
            # this hook, each time): nested past MAX_DEPTH is refused before it goes deeper, so
            # no message can exhaust the C stack.
            if self._unpack_depth >= MAX_DEPTH:
                raise CodecError("message nested too deeply")
            self._unpack_depth += 1
            try:
                value = self.unpack(data)
            finally:
                self._unpack_depth -= 1
            if not isinstance(value, list):
                raise CodecError("malformed tuple payload")
            return tuple(value)
        return self._on_ext(code, data)

    def pack(self, value: Any) -> bytes:
        """``value`` as msgpack bytes (also what an extension's payload is packed with)."""
        depth = self._depth
        if depth == len(self._packers):
            self._packers.append(msgpack.Packer(default=self._default, strict_types=True, use_bin_type=True,
                                                buf_size=4096))
        self._depth = depth + 1
        try:
            return self._packers[depth].pack(value)  # (a packer that raises has reset itself)
        finally:
            self._depth = depth

    def unpack(self, data: bytes) -> Any:
        try:
            return msgpack.unpackb(
                data,
                ext_hook=self._ext_hook,
                raw=False,
                strict_map_key=False,
                use_list=True,
            )
        except CodecError:
            raise
        except Exception as exc:
            raise CodecError(f"malformed message ({type(exc).__name__})") from exc


def write_frame(fd: int, payload: bytes) -> None:
    import os

    data = _HEADER.pack(len(payload)) + payload
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def read_exact(fd: int, n: int) -> bytes | None:
    """Read exactly n bytes; None on end of file."""
    import os

    chunks = []
    while n:
        chunk = os.read(fd, min(n, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


class FrameReader:
    """Frames from a blocking descriptor, in as few reads as they fit in (a small request is one
    ``read``, not two). Only for a reader that owns every byte after its first frame: what is
    read ahead stays in its buffer."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.buf = bytearray()

    def read(self) -> bytes | None:
        """The next frame; None on end of file."""
        import os

        buf = self.buf
        size = _HEADER.size
        while True:
            if len(buf) >= size:
                (length,) = _HEADER.unpack_from(buf)
                if length > MAX_FRAME:
                    raise CodecError("message too large")
                if len(buf) >= size + length:
                    frame = bytes(buf[size : size + length])
                    del buf[: size + length]
                    return frame
                want = size + length - len(buf)
            else:
                want = size
            chunk = os.read(self.fd, min(max(want, 1 << 16), 1 << 22))
            if not chunk:
                return None
            buf += chunk


def read_frame(fd: int) -> bytes | None:
    header = read_exact(fd, _HEADER.size)
    if header is None:
        return None
    (length,) = _HEADER.unpack(header)
    if length > MAX_FRAME:
        raise CodecError("message too large")
    return read_exact(fd, length)
