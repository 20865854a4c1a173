"""Proxies: how the trusted side holds objects that stay in the worker.

A ``Proxy`` stands for a module, function, class or instance living in the student's
worker. Attribute reads, attribute writes, item reads and calls become requests over
the channel; values come back as plain data (copies) or as new proxies.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from grader.boundary.channel import WorkerClient


class Proxy:
    __slots__ = ("_grader_callable", "_grader_client", "_grader_gen", "_grader_id", "_grader_type")

    def __init__(self, client: WorkerClient, gen: int, hid: int, type_name: str, is_callable: bool) -> None:
        object.__setattr__(self, "_grader_client", client)
        object.__setattr__(self, "_grader_gen", gen)
        object.__setattr__(self, "_grader_id", hid)
        object.__setattr__(self, "_grader_type", type_name)
        object.__setattr__(self, "_grader_callable", is_callable)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        return self._grader_client.request(["getattr", self, name])[1]

    def __setattr__(self, name: str, value: Any) -> None:
        self._grader_client.request(["setattr", self, name, value])

    def __getitem__(self, key: Any) -> Any:
        return self._grader_client.request(["getitem", self, key])[1]

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._grader_client.call(self, args, kwargs)

    def __repr__(self) -> str:
        return f"<student {self._grader_type}>"


class Synced:
    """An argument whose in-place changes by the student's code are copied back into
    the test's own object after the call (optimizers' ``params``, and only where a test
    asks). Every other argument reaches the student as a copy that nothing flows back from.

    ``opt.update(Synced(params), grads)``
    """

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value


def type_name(value: Any) -> str:
    """The type of a value as the student would name it (a proxy names the remote type)."""
    if isinstance(value, Proxy):
        return object.__getattribute__(value, "_grader_type")
    return type(value).__name__
