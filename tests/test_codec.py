"""The channel codec: plain data round-trips; anything else is refused, never unpickled."""

from __future__ import annotations

import msgpack
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from grader.boundary import codec


def plain_codec():
    def no_objects(obj):
        raise TypeError(type(obj).__name__)

    def no_ext(code, data):
        raise codec.CodecError(f"ext {code}")

    return codec.Codec(no_objects, no_ext)


@given(hnp.arrays(dtype=st.sampled_from([np.float64, np.float32, np.int64, np.int8, np.bool_, np.uint16, np.complex128]), shape=hnp.array_shapes(min_dims=0, max_dims=4, max_side=5)))
def test_arrays_round_trip_exactly(arr):
    c = plain_codec()
    back = c.unpack(c.pack(arr))
    assert back.dtype == arr.dtype and back.shape == arr.shape
    np.testing.assert_array_equal(back, arr)
    assert back.flags.writeable


@given(st.recursive(st.none() | st.booleans() | st.integers(-2**63, 2**63 - 1) | st.floats(allow_nan=False) | st.text(),
                    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=5), children, max_size=4), max_leaves=20))
def test_plain_values_round_trip(value):
    c = plain_codec()
    assert c.unpack(c.pack(value)) == value


def test_tuples_and_numpy_scalars_keep_their_kind():
    c = plain_codec()
    back = c.unpack(c.pack((1, np.float64(2.5), np.int32(3))))
    assert isinstance(back, tuple) and back[1] == 2.5 and back[2].dtype == np.int32


def test_object_arrays_are_refused_on_both_sides():
    c = plain_codec()
    with pytest.raises(TypeError):
        c.pack(np.array([object()]))
    payload = msgpack.packb(["|O", [1], b"\0" * 8])
    with pytest.raises(codec.CodecError):
        c.unpack(msgpack.packb(msgpack.ExtType(codec.EXT_NDARRAY, payload)))


@pytest.mark.parametrize(
    "payload",
    [
        msgpack.packb(["<f8", [3], b"\0" * 8]),  # size does not match the shape
        msgpack.packb(["<f8", [-1], b""]),  # negative dimension
        msgpack.packb(["V8", [1], b"\0" * 8]),  # void / structured dtypes
        msgpack.packb(["<f8"]),  # missing parts
        b"\xc1",  # not msgpack at all
    ],
)
def test_malformed_arrays_are_refused(payload):
    with pytest.raises(codec.CodecError):
        plain_codec().unpack(msgpack.packb(msgpack.ExtType(codec.EXT_NDARRAY, payload)))


def test_pickle_bytes_stay_bytes():
    import pickle

    data = pickle.dumps({"a": 1})
    c = plain_codec()
    assert c.unpack(c.pack(data)) == data


def test_subclasses_are_reduced_to_plain_values():
    class Liar(int):
        def __eq__(self, other):
            return True

        __hash__ = int.__hash__

    c = plain_codec()
    back = c.unpack(c.pack(Liar(0)))
    assert type(back) is int and back == 0 and back != 1
