"""NumPy scalars and 0-d arrays cross the channel with their shape (losses return np.float64)."""

from __future__ import annotations

import numpy as np
import pytest

from grader.boundary import codec


def _codec() -> codec.Codec:
    return codec.Codec(lambda obj: pytest.fail(f"unexpected object {obj!r}"), lambda code, data: None)


@pytest.mark.parametrize("value", [np.float64(1.5), np.int64(-3), np.bool_(True), np.float32(2.0)])
def test_numpy_scalars_round_trip(value):
    c = _codec()
    back = c.unpack(c.pack(value))
    assert back == value
    assert np.asarray(back).shape == ()
    assert np.asarray(back).dtype == np.asarray(value).dtype


def test_zero_d_array_keeps_its_shape():
    c = _codec()
    back = c.unpack(c.pack(np.array(2.5)))
    assert isinstance(back, np.ndarray)
    assert back.shape == ()
    assert float(back) == 2.5


def test_non_contiguous_array_round_trips():
    c = _codec()
    a = np.arange(12.0).reshape(3, 4).T
    back = c.unpack(c.pack(a))
    assert back.shape == (4, 3)
    assert np.array_equal(back, a)
