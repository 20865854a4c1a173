"""What a suite sees of the student's work: ``StudentCode`` (the ``student`` fixture) loads
the student's modules across the boundary as proxies; ``read_sources`` reads the files it
sends (bounded: at most ``MAX_SOURCE_FILES`` files of ``MAX_SOURCE_BYTES``); a module that
cannot be loaded blocks every test that needs it (``ModuleBlocked``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from grader.util.errors import NotAttempted, NotRunAfterTimeout, StudentCodeError

MAX_SOURCE_BYTES = 1_000_000
MAX_SOURCE_FILES = 50


class StudentCode:
    """What a suite sees of the student's work: modules loaded across the boundary."""

    def __init__(self, recorder: Any) -> None:  # the Recorder, or a batch Target
        self._recorder = recorder
        self._modules: dict[str, Any] = {}
        self._generation = -1

    @property
    def client(self) -> Any:
        return self._recorder.client

    def load(self, module: str) -> Any:
        """The student's module ``<chapter>/<module>.py`` as a proxy."""
        client = self.client
        if self._generation != client.generation or client.proc is None:
            self._modules.clear()
        if module not in client.config.sources:
            from grader.util.i18n import tr

            raise StudentCodeError("FileNotFoundError", tr("fb.missing_file", path=f"{self._recorder.display_dir}/{module}.py"))
        display = client.config.sources[module][0]
        if display in client.stuck_modules:  # its own top-level code ran out of time before
            raise NotRunAfterTimeout(display.rsplit("/", 1)[-1])
        if module not in self._modules:
            try:
                self._modules[module] = client.load(module)
            except NotAttempted:
                raise
            except StudentCodeError as exc:  # the module itself failed: syntax, imports, top-level code
                raise ModuleBlocked(module, exc) from None
            self._generation = client.generation
        return self._modules[module]

    def seed(self, seed: int) -> None:
        """Seed the student's random generators (np.random, random; keras when loaded)."""
        self.client.seed(seed)

    def library(self, name: str) -> Any:
        """A library the chapter needs (e.g. keras), as a proxy of the worker's copy:
        for a suite that builds its own objects there (a model to hand to the student)."""
        if name not in self._recorder.chapter.needs:
            raise ValueError(f"{name} is not in the chapter's needs")
        return self.client.load(name)

    def save_model(self, model: Any) -> bytes:
        """The bytes of a ``.keras`` archive of a model living in the worker."""
        return self.client.save_model(model)

    def attach(self, artifact: dict[str, Any]) -> None:
        """Attach plain data to the report (e.g. a learning curve to plot)."""
        self._recorder.artifacts.append(artifact)


class CurrentStudent:
    """The ``student`` fixture's value: the code of the target being graded, looked up at each
    call (the recorder's one ``StudentCode`` in a check, the current target's in a batch).

    It holds nothing of any student, so one serves the whole session: pytest sets it up once,
    not once per test and target (a fixture's set-up and finalizers cost ~30 µs a test)."""

    __slots__ = ("_recorder",)

    def __init__(self, recorder: Any) -> None:
        self._recorder = recorder

    def _code(self) -> StudentCode:
        recorder = self._recorder
        if recorder.batch is None:
            return recorder.student_code  # type: ignore[no-any-return]
        if recorder.current is None:  # between targets: no student's code to reach
            raise RuntimeError("the student's code outside a target")
        return recorder.current.student_code  # type: ignore[no-any-return]

    def load(self, module: str) -> Any:
        return self._code().load(module)

    def seed(self, seed: int) -> None:
        self._code().seed(seed)

    def library(self, name: str) -> Any:
        return self._code().library(name)

    def save_model(self, model: Any) -> bytes:
        return self._code().save_model(model)

    def attach(self, artifact: dict[str, Any]) -> None:
        self._code().attach(artifact)


class ModuleBlocked(StudentCodeError):
    """A student's module could not be loaded (its own error, or one in a module it imports):
    every test that needs it is blocked by that one error."""

    def __init__(self, module: str, cause: StudentCodeError) -> None:
        super().__init__(cause.type_name, cause.detail, cause.traceback)
        self.module = module


def read_sources(folder: Path, display_dir: str) -> dict[str, tuple[str, bytes]]:
    sources: dict[str, tuple[str, bytes]] = {}
    if not folder.is_dir():
        return sources
    for path in sorted(folder.glob("*.py"))[:MAX_SOURCE_FILES]:
        if not path.is_file() or not path.stem.isidentifier():
            continue
        try:
            data = path.read_bytes()[:MAX_SOURCE_BYTES]
        except OSError:
            continue
        sources[path.stem] = (f"{display_dir}/{path.name}", data)
    return sources
