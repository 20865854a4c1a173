"""Issue 22: a reference value of the test's own data is computed once per grading session.

A batch grades every student on the same inputs, and the suites recomputed the reference
network's numerical gradient for each (a tenth of chapter 5's CPU). ``checks.reference``
keeps the value keyed by the function and the exact bytes of its inputs, so it is reused only
where recomputing it would give the same value, whoever's grade it is for."""

from __future__ import annotations

import numpy as np
import pytest

from grader.boundary.proxy import Proxy
from grader.grading import checks


@pytest.fixture(autouse=True)
def _empty():
    checks._REFERENCE.clear()
    yield
    checks._REFERENCE.clear()


def _counted():
    calls = []

    def gradient(p, x):
        calls.append(1)
        return {"W": p["W"] * x.sum(), "n": float(x.size)}

    return gradient, calls


def test_the_same_inputs_give_the_kept_value_and_other_bytes_a_new_one():
    fn, calls = _counted()
    p, x = {"W": np.arange(6.0).reshape(2, 3)}, np.array([1.0, 2.0])
    first = checks.reference(fn, p, x)
    again = checks.reference(fn, {"W": p["W"].copy()}, x.copy())  # equal data, other objects
    assert len(calls) == 1 and np.array_equal(first["W"], again["W"])
    nudged = x.copy()
    nudged[0] = np.nextafter(nudged[0], 2.0)  # one bit apart
    checks.reference(fn, p, nudged)
    checks.reference(fn, p, x.astype(np.float32))  # same values, another dtype
    checks.reference(fn, {"W": p["W"].reshape(3, 2)}, x)  # same bytes, another shape
    assert len(calls) == 4


def test_each_caller_gets_its_own_copy():
    fn, _ = _counted()
    p, x = {"W": np.ones((2, 2))}, np.ones(2)
    got = checks.reference(fn, p, x)
    got["W"][:] = -1.0
    got["extra"] = 1
    again = checks.reference(fn, p, x)
    assert np.all(again["W"] == 2.0) and "extra" not in again


def test_only_plain_data_keys_a_reference():
    fn, calls = _counted()

    class Thing:
        pass

    for odd in (Thing(), lambda v: v, np.array([Thing()], dtype=object), Proxy(None, 0, 1, "x", False)):  # type: ignore[arg-type]
        with pytest.raises(TypeError):
            checks.reference(fn, {"W": np.ones(1)}, odd)
    assert calls == []


def test_the_oldest_values_go_first():
    fn, calls = _counted()
    for i in range(checks.REFERENCE_ENTRIES + 5):
        checks.reference(fn, {"W": np.ones(1)}, np.array([float(i)]))
    assert len(checks._REFERENCE) == checks.REFERENCE_ENTRIES
    checks.reference(fn, {"W": np.ones(1)}, np.array([0.0]))  # evicted: computed again
    assert len(calls) == checks.REFERENCE_ENTRIES + 6
