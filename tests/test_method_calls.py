"""Issue 22: calling a student's method or function is one round trip, not two.

The worker lists, with a handle, what may be called on it: a student module's functions and
classes, an instance's methods from its class in the student's module (not shadowed by the
instance). ``obj.method(x)`` then names the method in the call request and the worker looks it
up as the request runs; a lookup that fails raises what a ``getattr`` would have. Anything
not listed (data attributes, objects that pick attributes themselves) is fetched as before."""

from __future__ import annotations

import textwrap

import msgpack
import numpy as np
import pytest

from grader.boundary import codec
from grader.boundary.channel import WorkerClient, WorkerConfig
from grader.boundary.proxy import Method, Proxy, type_name
from grader.util.errors import ChannelViolation, StudentCodeError

STUDENT = textwrap.dedent("""
    import numpy as np

    class Layer:
        def __init__(self):
            self.W = np.ones(2)
            self.shadowed = lambda x: "instance"

        def forward(self, x):
            return x * self.W

        def shadowed(self, x):
            return "class"

        def vanish(self):
            del Layer.forward
            return 1

    class Dynamic:
        def __getattr__(self, name):
            return lambda *a: name

    def double(x):
        return 2 * x

    def apply(f, x):
        return f(x)
""")


@pytest.fixture()
def client():
    c = WorkerClient(WorkerConfig(sources={"m": ("m.py", STUDENT.encode())}, sandbox="none"))
    yield c
    c.close()


def _count(client) -> list[str]:
    sent: list[str] = []
    request = client.request

    def counted(message):  # type: ignore[no-untyped-def]
        sent.append(message[0])
        return request(message)

    client.request = counted  # type: ignore[method-assign]
    return sent


def test_a_method_call_is_one_round_trip_with_getattrs_answers(client):
    m = client.load("m")
    sent = _count(client)
    layer = m.Layer()
    assert np.array_equal(layer.forward(np.array([1.0, 2.0])), [1.0, 2.0])
    assert m.double(3) == 6
    assert sent == ["call", "call", "call"]
    # what a fetched attribute would have been called
    assert isinstance(m.double, Method) and type_name(m.double) == "function"
    assert type_name(m.Layer) == "type" and type_name(layer.forward) == "method"
    # data and instance attributes are fetched as before
    assert np.array_equal(layer.W, [1.0, 1.0]) and layer.shadowed(0) == "instance"
    assert sent == ["call", "call", "call", "getattr", "getattr", "call"]


def test_a_method_gone_by_the_time_it_is_called_raises_what_getattr_would(client):
    layer = client.load("m").Layer()
    forward = layer.forward  # listed when the layer was made
    assert layer.vanish() == 1
    with pytest.raises(StudentCodeError) as late:
        forward(np.ones(2))
    with pytest.raises(StudentCodeError) as fetched:
        client.request(["getattr", layer, "forward"])
    assert str(late.value) == str(fetched.value) and "forward" in str(late.value)


def test_objects_that_choose_their_attributes_are_asked_each_time(client):
    dynamic = client.load("m").Dynamic()
    assert object.__getattribute__(dynamic, "_grader_methods") is None
    assert not isinstance(dynamic.anything, Method) and dynamic.anything() == "anything"


def test_a_method_handed_to_the_students_code_is_looked_up_there(client):
    m = client.load("m")
    assert m.apply(m.double, 4) == 8
    layer = m.Layer()
    assert np.array_equal(m.apply(layer.forward, np.array([3.0, 4.0])), [3.0, 4.0])


@pytest.mark.parametrize("methods", [
    ["not", "a", "dict"],
    {str(i): "method" for i in range(codec.MAX_METHODS + 1)},
    {"x" * 101: "method"},
    {"forward": 7},
])
def test_a_handle_listing_malformed_methods_is_refused(client, methods):
    handle = msgpack.ExtType(codec.EXT_HANDLE, msgpack.packb([1, "Layer", False, methods]))
    with pytest.raises(ChannelViolation):
        client._decode(msgpack.packb(["ok", handle]))


def test_a_handle_listing_methods_is_read(client):
    handle = msgpack.ExtType(codec.EXT_HANDLE, msgpack.packb([1, "Layer", False, {"forward": "method"}]))
    value = client._decode(msgpack.packb(["ok", handle]))[1]
    assert isinstance(value, Proxy) and isinstance(value.forward, Method)
