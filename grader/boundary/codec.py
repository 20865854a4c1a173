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
from typing import Any, Callable

import msgpack

EXT_NDARRAY = 1
EXT_HANDLE = 2
EXT_CALLBACK = 3
EXT_TUPLE = 4
EXT_SCALAR = 5

# Array kinds allowed across the channel: bool, signed, unsigned, float, complex.
ALLOWED_KINDS = frozenset("biufc")
MAX_FRAME = 512 * 1024 * 1024  # a single message larger than this is refused
MAX_NDIM = 32
_HEADER = struct.Struct(">I")


class CodecError(ValueError):
    """A message that is not well-formed plain data."""


def _np():
    import numpy

    return numpy


def encode_array(arr: Any) -> bytes:
    np = _np()
    arr = np.ndarray.view(arr, np.ndarray)
    # ascontiguousarray turns a 0-d array into shape (1,): keep the original shape
    arr = np.ascontiguousarray(arr).reshape(arr.shape)
    if arr.dtype.kind not in ALLOWED_KINDS or arr.dtype.hasobject:
        raise CodecError(f"arrays of dtype {arr.dtype} cannot be sent")
    return msgpack.packb([arr.dtype.str, list(arr.shape), arr.tobytes()])


def decode_array(data: bytes) -> Any:
    """Rebuild an array from dtype + shape + bytes, validating every part."""
    np = _np()
    try:
        dtype_str, shape, raw = msgpack.unpackb(data, use_list=True, raw=False)
    except Exception as exc:  # noqa: BLE001 - any malformed payload is a codec error
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


def encode_scalar(value: Any) -> bytes:
    np = _np()
    return encode_array(np.asarray(value).reshape(()))


def decode_scalar(data: bytes) -> Any:
    arr = decode_array(data)
    if arr.shape != ():
        raise CodecError("malformed scalar payload")
    return arr[()]


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

    def _default(self, obj: Any) -> Any:
        np = _np()
        if isinstance(obj, tuple):
            return msgpack.ExtType(EXT_TUPLE, self.pack(list(obj)))
        if isinstance(obj, np.ndarray) and obj.dtype.kind in ALLOWED_KINDS and not obj.dtype.hasobject:
            return msgpack.ExtType(EXT_NDARRAY, encode_array(obj))
        if isinstance(obj, np.generic) and np.dtype(type(obj)).kind in ALLOWED_KINDS:
            return msgpack.ExtType(EXT_SCALAR, encode_scalar(obj))
        # Subclasses of plain types are reduced to their base value: whatever a
        # subclass overrides (__eq__, __repr__, ...) stays behind.
        for base in (bool, int, float, str, bytes):
            if isinstance(obj, base):
                return base(obj) if base is not bool else bool(obj)
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
            value = self.unpack(data)
            if not isinstance(value, list):
                raise CodecError("malformed tuple payload")
            return tuple(value)
        return self._on_ext(code, data)

    def pack(self, value: Any) -> bytes:
        return msgpack.packb(value, default=self._default, strict_types=True, use_bin_type=True)

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
        except Exception as exc:  # noqa: BLE001 - msgpack raises many types on bad input
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


def read_frame(fd: int) -> bytes | None:
    header = read_exact(fd, _HEADER.size)
    if header is None:
        return None
    (length,) = _HEADER.unpack(header)
    if length > MAX_FRAME:
        raise CodecError("message too large")
    return read_exact(fd, length)
