"""Proxies: how the trusted side holds objects that stay in the worker.

A ``Proxy`` stands for a module, function, class or instance living in the student's
worker. Attribute reads, attribute writes, item reads and calls become requests over
the channel; values come back as plain data (copies) or as new proxies.
"""

from __future__ import annotations

from typing import Any, Protocol

from grader.boundary.codec import argument_problem, compile_formula


class Requester(Protocol):
    """What a proxy needs of the channel's ``WorkerClient``: requests and calls. Named here
    so that this module does not import the channel (which imports the proxies)."""

    def request(self, message: list[Any]) -> list[Any]: ...

    def call(self, target: Proxy, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any: ...


class Proxy:
    __slots__ = ("_grader_callable", "_grader_client", "_grader_gen", "_grader_id", "_grader_methods", "_grader_type")

    def __init__(self, client: Requester, gen: int, hid: int, type_name: str, is_callable: bool,
                 methods: dict[str, str] | None = None) -> None:
        object.__setattr__(self, "_grader_client", client)
        object.__setattr__(self, "_grader_gen", gen)
        object.__setattr__(self, "_grader_id", hid)
        object.__setattr__(self, "_grader_type", type_name)
        object.__setattr__(self, "_grader_callable", is_callable)
        object.__setattr__(self, "_grader_methods", methods)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        methods = object.__getattribute__(self, "_grader_methods")
        if methods is not None and name in methods:
            return Method(self, name, methods[name])
        return self._grader_client.request(["getattr", self, name])[1]

    def __setattr__(self, name: str, value: Any) -> None:
        self._grader_client.request(["setattr", self, name, value])

    def __getitem__(self, key: Any) -> Any:
        return self._grader_client.request(["getitem", self, key])[1]

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._grader_client.call(self, args, kwargs)

    def __repr__(self) -> str:
        return f"<student {self._grader_type}>"


class Method(Proxy):
    """A method (or a module's function or class) of an object in the worker, named without
    a round trip: the worker listed it with the object's handle (functions of the object's
    class in the student's module, not shadowed by the instance; a student module's functions
    and classes). It stands for ``getattr(obj, name)`` looked up by the worker when a request
    that uses it runs, so ``layer.forward(x)`` is one round trip, not two, and a lookup that
    fails raises what the ``getattr`` would have raised."""

    __slots__ = ("_grader_name", "_grader_owner")

    def __init__(self, owner: Proxy, name: str, type_name: str) -> None:
        client = object.__getattribute__(owner, "_grader_client")
        super().__init__(client, object.__getattribute__(owner, "_grader_gen"), -1, type_name, True)
        object.__setattr__(self, "_grader_owner", owner)
        object.__setattr__(self, "_grader_name", name)


class Synced:
    """An argument whose in-place changes by the student's code are copied back into
    the test's own object after the call (optimizers' ``params``, and only where a test
    asks). Every other argument reaches the student as a copy that nothing flows back from.

    ``opt.update(Synced(params), grads)``

    After the call, ``changed`` says whether what came back differs from what was sent in any
    way (an array's shape, dtype or bytes; a dict's keys; a value's type), and ``reshaped``
    whether an array came back with another shape or dtype: then it could not be copied into
    the test's own array, which still looks untouched, so a test that checks for side effects
    must ask ``reshaped`` (or ``changed``) too.
    """

    __slots__ = ("changed", "reshaped", "value")

    def __init__(self, value: Any) -> None:
        self.value = value
        self.changed: bool | None = None
        self.reshaped: bool | None = None


class Callback:
    """A function of the test's handed to the student's code, with the one argument it takes
    declared by an example (``like``): an array of that shape and a float dtype, or a real
    number. It runs on the trusted side with whatever the student's code passes, so the
    argument is checked before ``fn`` computes anything: a 60 MB bool array that the test's
    function would broadcast into gigabytes is refused, and the student's code gets the error.

    ``numerical_gradient(Callback(f, like=x), fresh(x))``

    ``portable`` (set by ``grader.grading.checks.Callback`` in public tests only) lets a
    ``Formula`` run in the worker instead: the student's code then calls it without a round
    trip per call, with the same check of its argument and the same errors.
    """

    __slots__ = ("fn", "like", "portable")

    def __init__(self, fn: Any, like: Any, portable: bool = False) -> None:
        self.fn = fn
        self.like = like
        self.portable = portable

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        problem = self.refuses(args, kwargs)
        if problem:
            raise CallbackRefused(problem)
        return self.fn(*args)

    def refuses(self, args: tuple[Any, ...] | list[Any], kwargs: dict[str, Any]) -> str | None:
        """Why the arguments are not what the test declared (None when they are)."""
        return argument_problem(self.like_shape(), args, kwargs)

    def like_shape(self) -> tuple[int, ...] | None:
        """The declared argument: an array's shape, or None for a real number."""
        import numpy as np

        return self.like.shape if isinstance(self.like, np.ndarray) else None


class Formula:
    """A test's function given as the text of an expression in ``x`` (numpy is ``np``; other
    names are the constants passed by keyword), e.g. ``Formula("float(np.sum(b * np.cos(x)))", b=b)``.

    Here it is compiled and called like any function. Handed to the student's code in a
    public test (``Callback(formula, like=x)``), the text and constants go to the worker, which
    evaluates it there: a public test's function is no secret (the student has the file), and
    whatever the student's code makes of it changes only its own result, which the test
    judges against this side's own evaluation. In a hidden test it always runs here.
    """

    __slots__ = ("_fn", "expr", "names", "origin")

    def __init__(self, expr: str, **names: Any) -> None:
        import sys
        from types import MappingProxyType

        import numpy as np

        def constant(value: Any) -> Any:
            if isinstance(value, np.ndarray):
                value = value.copy()
                value.flags.writeable = False
            return value

        # Immutable, so that a suite may keep one at module level (a batch's suites live through
        # every student): its text, read-only copies of its constants, where it was written.
        fixed = {k: constant(v) for k, v in names.items()}
        object.__setattr__(self, "expr", str(expr))
        object.__setattr__(self, "names", MappingProxyType(fixed))
        object.__setattr__(self, "origin", sys._getframe(1).f_code.co_filename)  # a hidden suite's never leaves
        object.__setattr__(self, "_fn", compile_formula(expr, fixed))

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("a Formula cannot be changed")

    def __call__(self, x: Any) -> Any:
        return self._fn(x)


class CallbackRefused(ValueError):
    """A callback's arguments are not what the test declared."""


ANY_CALLBACK_VALUES = 10_000  # a function handed over without a declaration takes at most this many values


def checked_callback(fn: Any) -> Callback | Any:
    """The function as the channel runs it for the student's code: a ``Callback`` as declared,
    any other function only with small plain numbers and arrays."""
    return fn if isinstance(fn, Callback) else _Undeclared(fn)


class _Undeclared:
    __slots__ = ("fn",)

    def __init__(self, fn: Any) -> None:
        self.fn = fn

    def refuses(self, args: tuple[Any, ...] | list[Any], kwargs: dict[str, Any]) -> str | None:
        import numpy as np

        for value in [*args, *kwargs.values()]:
            if isinstance(value, np.ndarray):
                if value.size > ANY_CALLBACK_VALUES or value.dtype.kind not in "biuf":
                    return f"it takes arrays of at most {ANY_CALLBACK_VALUES} numbers, not one of shape {value.shape} and dtype {value.dtype}"
            elif value is not None and not isinstance(value, (bool, int, float, str)):
                return f"it takes numbers and arrays, not a {type(value).__name__}"
            elif isinstance(value, str) and len(value) > 1000:
                return "it takes numbers and arrays, not a long text"
        return None

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        problem = self.refuses(args, kwargs)
        if problem:
            raise CallbackRefused(problem)
        return self.fn(*args, **kwargs)


def type_name(value: Any) -> str:
    """The type of a value as the student would name it (a proxy names the remote type)."""
    if isinstance(value, Proxy):
        return object.__getattribute__(value, "_grader_type")
    return type(value).__name__


# --- Synced arguments: what the student's code changed in place, copied back -----------


def snapshot(value: Any) -> Any:
    """A private copy of a synced argument as it was sent (arrays copied, containers rebuilt)."""
    import numpy as np

    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, dict):
        return {k: snapshot(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(snapshot(v) for v in value)
    return value


def compare(sent: Any, new: Any) -> tuple[bool, bool]:
    """(changed, reshaped): whether ``new`` differs from ``sent`` at all (type, keys, an array's
    shape, dtype or bytes), and whether some array in it has another shape or dtype."""
    import numpy as np

    if isinstance(sent, np.ndarray):
        if not isinstance(new, np.ndarray):
            return True, True
        if new.shape != sent.shape or new.dtype != sent.dtype:
            return True, True
        return sent.tobytes() != new.tobytes(), False
    if isinstance(sent, dict):
        if not isinstance(new, dict):
            return True, True
        changed = set(map(repr, sent)) != set(map(repr, new))
        reshaped = False
        for key, value in sent.items():
            if key in new:
                c, r = compare(value, new[key])
                changed, reshaped = changed or c, reshaped or r
        return changed, reshaped
    if isinstance(sent, (list, tuple)):
        if not isinstance(new, (list, tuple)) or len(new) != len(sent):
            return True, True
        results = [compare(a, b) for a, b in zip(sent, new, strict=True)]
        return any(c for c, _ in results), any(r for _, r in results)
    return type(sent) is not type(new) or sent != new, False


def sync_in_place(original: Any, new: Any) -> None:
    """Copy the worker's view of an argument back into the trusted object."""
    import numpy as np

    if isinstance(original, np.ndarray):
        if isinstance(new, np.ndarray) and new.shape == original.shape and original.flags.writeable:
            np.copyto(original, new, casting="unsafe")
    elif isinstance(original, dict) and isinstance(new, dict):
        for key in list(original):
            if key not in new:
                del original[key]
        for key, value in new.items():
            if key in original and isinstance(original[key], (np.ndarray, dict, list)):
                sync_in_place(original[key], value)
                if not isinstance(original[key], np.ndarray) or not isinstance(value, np.ndarray):
                    if type(original[key]) is not type(value):
                        original[key] = value
                elif value.shape != original[key].shape:
                    original[key] = value
            else:
                original[key] = value
    elif isinstance(original, list) and isinstance(new, list):
        for i, value in enumerate(new[: len(original)]):
            if isinstance(original[i], (np.ndarray, dict, list)):
                sync_in_place(original[i], value)
            else:
                original[i] = value
        del original[len(new) :]
        original.extend(new[len(original) :])
