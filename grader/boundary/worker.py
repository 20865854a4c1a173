"""The untrusted side: a worker process that runs student code on request.

This file is never imported by the grader. The trusted side reads its source and sends
it, with the codec's source, to ``python -I -S -c BOOTSTRAP``; so the worker has no
``grader`` package, no suites and no solutions on its path, and it receives the
student's module sources as text (it needs no read access to any grader file).

Before the first line of student code runs, the worker confines itself (``confine.py``, sent
and run beside it as ``_grader_confine``): without
bubblewrap it carries out the trusted side's mount plan (``enter_allow_list``: private
mount, network and IPC namespaces, a new root holding only the allow-listed runtime,
uid nobody), or, without namespaces, enters the chroot jail the trusted side laid out
(``enter_jail``); a child of a bubblewrap fork server makes an IPC namespace of its own
(``enter_private_ipc``); it applies its limits: memory (its own cgroup where the trusted side made one,
else RLIMIT_AS), output size (RLIMIT_FSIZE), CPU
time, no core files; then a seccomp filter denies creating processes, exec, ptrace,
signals, mounts, network sockets, IPC objects and raising limits. What it applied is reported once
in the ``ready`` message, which is sent before any student code has run.
"""

# mypy: ignore-errors
from __future__ import annotations

import builtins
import faulthandler
import importlib.abc
import importlib.util
import json
import os
import random
import signal
import sys
import time
import traceback

import _grader_codec as codec  # installed in sys.modules by the bootstrap
from _grader_confine import (  # installed in sys.modules by the bootstrap (boundary/confine.py)
    apply_limits,
    drop_capabilities,
    drop_privileges,
    enter_allow_list,
    enter_jail,
    enter_private_ipc,
    install_seccomp,
    join_cgroup,
)

READ_FD: int
WRITE_FD: int
STACK_FD: int  # where the stack is written shortly before a request's deadline (-1: nowhere)

ALARM_SAME_S = 0.005  # an armed stack alarm due at most this much before a request's is kept for it
_monotonic = time.monotonic  # bound before student code runs (it may replace time.monotonic)
_setitimer = getattr(signal, "setitimer", None)  # (bound before student code runs, as above)


def _stack_alarm():
    """How the worker arms its stack alarm: ``arm(seconds)`` dumps every thread's stack to
    STACK_FD after that many seconds, replacing the alarm armed before.

    A one-shot timer (``setitimer``) whose SIGALRM ``faulthandler`` answers in C: about 1.5 µs
    to arm, where ``faulthandler.dump_traceback_later`` starts a watchdog thread and joins the
    previous one, ~50 µs of CPU, once per test. The signal handler needs no GIL, so the dump is
    written as the thread's was, also while the code is stuck in C. Student code that takes
    SIGALRM or the timer for itself only loses the location in its own report: the trusted
    side's deadline and kill are unchanged. Where there is no such timer, the thread."""
    if STACK_FD < 0:
        return None
    if _setitimer is not None:
        try:
            faulthandler.register(signal.SIGALRM, file=STACK_FD, all_threads=True)
            return lambda seconds: _setitimer(signal.ITIMER_REAL, seconds)
        except (AttributeError, ValueError, OSError, RuntimeError):
            pass
    return lambda seconds: faulthandler.dump_traceback_later(seconds, file=STACK_FD)

MAX_MESSAGE = 2000
MAX_TRACEBACK = 4000


# --- student modules ------------------------------------------------------------------


class SourceFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Serves the student's modules from the sources the trusted side sent."""

    def __init__(self, sources: dict, not_run: list) -> None:
        self.sources = sources  # module name -> [display path, source bytes]
        self.not_run = not_run  # [file, line, function] of student frames that ran out of time before

    def find_spec(self, fullname, path=None, target=None):
        if fullname in self.sources:
            return importlib.util.spec_from_loader(fullname, self, origin=self.sources[fullname][0])
        return None

    def create_module(self, spec):
        return None

    def exec_module(self, module):
        filename, source = self.sources[module.__name__]
        module.__file__ = filename
        code = compile(source, filename, "exec", dont_inherit=True)
        _remember_code(code)
        exec(code, module.__dict__)
        if self.not_run:
            _stop_functions(module, filename, self.not_run)


class NotRun(BaseException):
    """Raised by a function that did not finish in an earlier test (see _stop_functions)."""


def _functions_of(module):
    for value in list(vars(module).values()):
        if isinstance(value, type) and getattr(value, "__module__", None) == module.__name__:
            for member in list(vars(value).values()):
                yield getattr(member, "__func__", member)
        else:
            yield value


def _stop_functions(module, filename, not_run) -> None:
    """A function that ran out of time in an earlier test raises NotRun instead of running
    again: whoever calls it (a test, or another of the student's functions) learns at once.
    For each stuck stack (its student frames, innermost first), the first frame that is a
    function of this module gets its code replaced."""
    for stack in not_run:
        for file, line, name in stack:
            func = _find_function(module, filename, file, line, name)
            if func is not None:
                stub = {}
                exec(compile(f"def {name}(*args, **kwargs):\n    raise __grader_not_run__({name!r})\n", "<not run>", "exec"), {}, stub)
                func.__code__ = stub[name].__code__
                func.__defaults__ = None
                func.__kwdefaults__ = None
                break


def _find_function(module, filename, file, line, name):
    if file != filename or not isinstance(name, str) or not name.isidentifier() or type(line) is not int:
        return None
    for func in _functions_of(module):
        code = getattr(func, "__code__", None)
        if code is None or code.co_filename != filename or code.co_name != name or code.co_freevars:
            continue
        last = max((n for _, _, n in code.co_lines() if n), default=code.co_firstlineno)
        if code.co_firstlineno <= line <= last:
            return func
    return None


# Code objects compiled from the submitted sources (kept alive, so their ids stay theirs): a
# frame running any other code (compiled by the student's code at run time, with a name and
# line numbers it chose) is shown without a location.
_SOURCE_CODE: dict[int, object] = {}
RUNTIME_CODE = "<code compiled at run time>"


def _remember_code(code) -> None:
    todo = [code]
    while todo:
        c = todo.pop()
        _SOURCE_CODE[id(c)] = c
        todo.extend(k for k in c.co_consts if isinstance(k, type(code)))


# --- the request loop -----------------------------------------------------------------


class Worker:
    def __init__(self, read_fd: int, write_fd: int, student_files: set, student_modules: set = frozenset()) -> None:
        self.read_fd = read_fd
        self.write_fd = write_fd
        self.student_files = student_files
        self.student_modules = student_modules
        self.class_methods: dict = {}  # class -> its methods, as _methods_of lists them
        self.attrs_pending = False  # a request decoded with an _Attr in it
        self.objects: dict[int, object] = {}
        self.next_id = 1
        self.alarm_set = False
        self.alarm_due = None  # when the armed stack alarm fires (this process's monotonic clock)
        self.arm_alarm = _stack_alarm()  # None: no stack pipe
        self.codec = codec.Codec(self._to_handle, self._from_ext)
        self.reader = codec.FrameReader(read_fd)  # requests come only after "ready": nothing read ahead before

    # values that are not plain data stay here, behind a handle
    def _to_handle(self, obj):
        hid = self.next_id
        self.next_id += 1
        self.objects[hid] = obj
        name = type(obj).__name__
        described = [hid, str(name)[:100], bool(callable(obj))]
        try:
            methods = self._methods_of(obj)
        except Exception:  # noqa: BLE001 - an object the student made may fail anything
            methods = None
        if methods:
            described.append(methods)
        payload = self.codec.pack(described)
        return codec.msgpack.ExtType(codec.EXT_HANDLE, payload)

    def _methods_of(self, obj):
        """What the trusted side may call on ``obj`` without fetching it first (``proxy.Method``):
        a student module's functions and classes, or the functions of an instance's class from a
        student module (not shadowed by the instance), by name and type name. None for anything
        else, and for objects that choose their attributes themselves (``__getattr__``)."""
        import types

        if isinstance(obj, types.ModuleType):
            space = vars(obj)
            if space.get("__name__") not in self.student_modules or "__getattr__" in space:
                return None
            found = {k: type(v).__name__ for k, v in space.items()
                     if not k.startswith("__") and isinstance(v, (types.FunctionType, type))}
        else:
            cls = type(obj)
            if getattr(cls, "__module__", None) not in self.student_modules:
                return None
            found = self.class_methods.get(cls)
            if found is None:
                bases = [klass for klass in reversed(cls.__mro__) if klass is not object]
                found = {}
                if not any("__getattr__" in vars(k) or "__getattribute__" in vars(k) for k in bases):
                    for klass in bases:
                        for k, v in vars(klass).items():
                            if k.startswith("__"):
                                continue
                            if isinstance(v, types.FunctionType):
                                found[k] = "method"
                            else:
                                found.pop(k, None)  # a subclass's value shadows a base's method
                self.class_methods[cls] = found
            own = getattr(obj, "__dict__", None)
            if isinstance(own, dict):
                found = {k: v for k, v in found.items() if k not in own}
        return {k: str(v)[:100] for k, v in list(found.items())[: codec.MAX_METHODS] if len(k) <= 100} or None

    def _from_ext(self, code, data):
        if code == codec.EXT_HANDLE:
            hid = codec.msgpack.unpackb(data)[0]
            return self.objects[hid]
        if code == codec.EXT_CALLBACK:
            return self._make_callback(codec.msgpack.unpackb(data))
        if code == codec.EXT_FORMULA:
            return _make_formula(*self.codec.unpack(data))
        if code == codec.EXT_ATTR:
            hid, name = codec.msgpack.unpackb(data)
            self.attrs_pending = True
            return _Attr(self.objects[hid], name)
        raise codec.CodecError(f"unknown extension {code}")

    def _make_callback(self, cb_id):
        def callback(*args, **kwargs):
            self.send(["cb", cb_id, list(args), kwargs])
            reply = self.serve(until_callback_reply=True)
            if reply[0] == "cberr":
                raise RuntimeError(reply[1])
            return reply[1]

        callback.__name__ = "f"
        return callback

    def send(self, message) -> None:
        try:
            payload = self.codec.pack(message)
        except Exception as exc:  # noqa: BLE001 - e.g. an unsendable array dtype
            payload = self.codec.pack(["err", "TypeError", f"the value could not be sent to the grader: {exc}", ""])
        codec.write_frame(self.write_fd, payload)

    def _error(self, exc: BaseException) -> list:
        if isinstance(exc, NotRun):
            return ["err", "NotRun", str(exc.args[0])[:100] if exc.args else "", ""]
        frames = []
        for frame, lineno in traceback.walk_tb(exc.__traceback__):
            code = frame.f_code
            if code.co_filename not in self.student_files:
                continue
            if _SOURCE_CODE.get(id(code)) is code:
                frames.append(traceback.FrameSummary(code.co_filename, lineno, code.co_name, line=""))
            else:
                frames.append(traceback.FrameSummary(RUNTIME_CODE, 0, "?", line=""))
        text = "".join(traceback.format_list(frames))[-MAX_TRACEBACK:]
        if isinstance(exc, SystemExit):
            message = f"your code called sys.exit({exc.code!r})"
        else:
            try:
                message = str(exc)
            except Exception:  # noqa: BLE001
                message = "(the exception's message could not be read)"
        if isinstance(exc, OSError) and getattr(exc, "errno", None) == 27:  # EFBIG
            return ["err", "OutputLimit", "your code printed more output than allowed", text]
        return ["err", type(exc).__name__[:100], message[:MAX_MESSAGE], text]

    def handle(self, request) -> list:
        if self.attrs_pending:  # methods named without a lookup: looked up now, as getattr would
            self.attrs_pending = False
            request = _resolve(request)
        op = request[0]
        if op == "load":
            module = importlib.import_module(request[1])
            return ["ok", module]
        if op == "getattr":
            return ["ok", getattr(request[1], request[2])]
        if op == "setattr":
            setattr(request[1], request[2], request[3])
            return ["ok", None]
        if op == "getitem":
            return ["ok", request[1][request[2]]]
        if op == "call":
            target = request[1]
            args, kwargs = request[2], request[3]
            sync_pos, sync_keys = request[4], request[5]
            result = target(*args, **kwargs)
            # Only the arguments the test asked for go back (for syncing in place).
            synced = [args[i] for i in sync_pos if type(i) is int and 0 <= i < len(args)]
            synced_kw = {k: kwargs[k] for k in sync_keys if k in kwargs}
            return ["ok", result, synced, synced_kw]
        if op == "seed":
            import numpy

            random.seed(request[1])
            numpy.random.seed(request[1])
            keras = sys.modules.get("keras")
            if keras is not None:  # chapters that need keras: TF's generators too
                keras.utils.set_random_seed(request[1])
            return ["ok", None]
        if op == "save_model":
            return ["ok", save_model(request[1])]
        if op == "pin":  # keep to the grader's CPU while the two talk (affinity.py); best effort
            try:
                os.sched_setaffinity(0, {int(request[1])})
            except (OSError, ValueError, TypeError, AttributeError, OverflowError):
                pass
            return ["ok", None]
        if op == "release":
            for hid in request[1]:
                self.objects.pop(hid, None)
            return ["ok", None]
        raise ValueError(f"unknown request {op!r}")

    def serve(self, until_callback_reply: bool = False):
        while True:
            armed = False
            frame = self.reader.read()
            if frame is None:
                os._exit(0)
            try:
                request = self.codec.unpack(frame)
            except Exception as exc:  # noqa: BLE001
                self.send(["err", "ProtocolError", str(exc), ""])
                continue
            if until_callback_reply and request[0] in ("cbret", "cberr"):
                return request
            if request[0] == "timed" and len(request) == 3:
                # ["timed", seconds, request]: if it is still running after that many seconds
                # (shortly before the trusted side's deadline), the stacks go to STACK_FD, so
                # the report can say where the code was stuck. Requests nested in a callback
                # keep the outer alarm.
                # The requests of one test share its deadline: an alarm armed for the same moment
                # stays armed between them. One that went off while the worker waited is not the
                # next request's: the trusted side discards it (``_drain_stack``).
                if not self.alarm_set and self.arm_alarm is not None and isinstance(request[1], (int, float)):
                    seconds = max(0.01, float(request[1]))
                    now = _monotonic()
                    due = self.alarm_due
                    if due is None or now >= due or not 0.0 <= now + seconds - due <= ALARM_SAME_S:
                        self.arm_alarm(seconds)
                        self.alarm_due = now + seconds
                    self.alarm_set = armed = True
                request = request[2]
            try:
                reply = self.handle(request)
            except BaseException as exc:  # noqa: BLE001 - student code may raise anything
                reply = self._error(exc)
            finally:
                if armed:
                    self.alarm_set = False
            _flush_output()  # what the call printed reaches the trusted side's file before the reply
            self.send(reply)


class _Attr:
    """``getattr(obj, name)``, named by the trusted side (``codec.EXT_ATTR``) and looked up
    when the request that holds it is handled (``_resolve``): its errors are the request's."""

    __slots__ = ("name", "obj")

    def __init__(self, obj, name) -> None:
        self.obj = obj
        self.name = name


def _resolve(value):
    if isinstance(value, _Attr):
        return getattr(value.obj, value.name)
    if type(value) is list:
        return [_resolve(v) for v in value]
    if type(value) is tuple:
        return tuple(_resolve(v) for v in value)
    if type(value) is dict:
        return {k: _resolve(v) for k, v in value.items()}
    return value


def _make_formula(expr, names, shape):
    """A public test's function sent as its formula: evaluated here, its argument checked and
    its errors worded as the trusted side words a callback's (``channel._run_callback``)."""
    fn = codec.compile_formula(expr, names)
    shape = None if shape is None else tuple(shape)

    def f(*args, **kwargs):
        problem = codec.argument_problem(shape, args, kwargs)
        if problem:
            raise RuntimeError(codec.callback_failure(problem))
        try:
            return fn(*args)
        except Exception as exc:  # noqa: BLE001 - worded as a failed callback is
            raise RuntimeError(codec.callback_failure(f"{type(exc).__name__}: {exc}")) from None

    return f


def _flush_output() -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BaseException:  # noqa: BLE001 - a stream the student replaced may raise anything
            pass


def save_model(model) -> bytes:
    """A Keras model as the bytes of a ``.keras`` archive: the only way a model leaves.

    The trusted side never unpickles or imports anything of the student's: it checks
    the archive's config.json against a list of built-in layer classes and then loads
    it with ``safe_mode=True``.
    """
    import shutil
    import tempfile

    if not callable(getattr(model, "save", None)) or not callable(getattr(model, "get_config", None)):
        raise TypeError(f"a {type(model).__name__} is not a Keras model (build it with keras.Sequential)")
    folder = tempfile.mkdtemp(prefix="model-")
    try:
        path = os.path.join(folder, "model.keras")
        try:
            model.save(path)
        except OSError as exc:
            if exc.errno == 27:  # EFBIG: the file-size limit
                raise ValueError("the model is too large to hand in (its .keras file passes the size limit)") from None
            raise
        with open(path, "rb") as f:
            return f.read()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    # The configuration is the first frame on the request pipe (the student's sources
    # among it): read by this process alone, never by a fork server.
    frame = codec.read_frame(READ_FD)
    if frame is None:
        os._exit(3)
    config = json.loads(frame)
    config["sources"] = {k: (v[0], v[1].encode("latin-1")) for k, v in config["sources"].items()}
    os.chdir(config.get("cwd", "/"))
    in_cgroup = join_cgroup(globals().get("CGROUP_FD", -1))
    # The file system first, while this process has one thread (a process with threads,
    # as TensorFlow starts them, cannot enter new namespaces).
    confined = []
    if config.get("root_plan") is None and config.get("private_ipc") and enter_private_ipc():
        confined.append("own IPC namespace")
    jail = config.get("jail")
    if jail is not None:
        entered = enter_jail(jail["root"], jail["tmp"], {0, 1, 2, READ_FD, WRITE_FD, STACK_FD} - {-1})
        if entered:
            confined.append(entered)
        elif os.geteuid() == 0 and drop_capabilities():
            confined.append("root without capabilities")
    elif config.get("root_plan") is not None:
        entered = enter_allow_list(config["root_plan"], config["newroot"])
        if entered:
            confined.append(entered)
        else:
            # No namespaces: the worker sees the machine's file system (weak isolation).
            dropped = drop_privileges()
            if dropped:
                confined.append(dropped)
            elif os.geteuid() == 0 and drop_capabilities():
                confined.append("root without capabilities")
    # Imported before the limits, so the memory cap is for the student's own work.
    import collections  # noqa: F401

    # Heavy libraries a chapter needs (TensorFlow) are imported here too, before the
    # limits and the seccomp filter, while the trusted side is busy collecting tests.
    for name in config.get("preload", []):
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - the student's own import reports it
            pass

    student_files = set()
    sources = {}
    for name, (display, source) in config["sources"].items():
        sources[name] = (display, source)
        student_files.add(display)
    isolation = apply_limits(config.get("limits", {}), in_cgroup) + confined
    if config.get("seccomp", True) and install_seccomp():
        isolation.append("seccomp: no processes, exec, ptrace, signals, mounts, network or IPC")
    builtins.__grader_not_run__ = NotRun
    not_run = [[f for f in stack if isinstance(f, list) and len(f) == 3] for stack in config.get("not_run", [])]
    sys.meta_path.insert(0, SourceFinder(sources, not_run))
    sys.argv = ["student"]
    worker = Worker(READ_FD, WRITE_FD, student_files, set(sources))
    worker.send(["ready", isolation])
    del config, frame
    worker.serve()


# A fresh worker process runs its module as ``__grader_worker__`` and serves at once. A fork
# server runs it once under another name, defining everything without serving (no student's
# data exists yet), and each child it forks only sets its descriptors and calls ``main``.
if __name__ == "__grader_worker__":
    main()
