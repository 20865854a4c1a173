"""Suites hand the student fresh (or frozen) inputs and compute their expected values from
private copies, so nothing a submission does to what it is given can change what it is
compared with.

- A *poisoner* (each chapter's reference solution, wrapped so that every call the grader makes
  runs on private copies and then zeroes, in place, every array argument it did not write an
  answer into) scores exactly what the reference scores — except where a test asks for an
  argument back on purpose (``Synced``), and there the poisoning is seen and loses the points.
- A *zeroing liar* (zeroes ``W``/``b``/``gamma``/``beta``/the network it was given, then computes
  from the zeros) gets nothing where its answer depends on those inputs.
- A *hostile channel*: the suites run on the reference solutions while every array a suite
  passes to a student call (other than ``Synced``) is zeroed on the trusted side after the call
  — what a channel that let the student's changes flow back would allow. Full marks still: no
  suite reuses an array after handing it over.
- Module-level arrays of the suites are frozen, and no suite passes a module-level name
  straight into a call that may reach the student (checked on the source).
- A batch: a malicious first target cannot change the second target's score.
"""

from __future__ import annotations

import ast
import builtins
import importlib.util
import textwrap
from pathlib import Path

import corpus
import numpy as np
import pytest

from grader.grading.catalog import SUITES_DIR, load_catalog
from grader.grading.runner import run_check
from grader.instructor.batch import run_batch
from tests.conftest import REPO

CATALOG = load_catalog()
CHAPTERS = [f"chapter{n}" for n in range(2, 8)]

# -- the poisoner ---------------------------------------------------------------------------

POISON_MODULE = '''
"""Wraps a module's own functions and classes: a call from outside (the grader) runs on private
copies of its arguments; afterwards every argument the real code left as it was is zeroed in
place, and every argument it changed (an answer written in place) gets the new values."""
import functools
import numpy as np

_depth = [0]


def _fresh(v):
    if isinstance(v, np.ndarray):
        return v.copy()
    if isinstance(v, dict):
        return {k: _fresh(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_fresh(x) for x in v]
    if isinstance(v, tuple):
        return tuple(_fresh(x) for x in v)
    return v


def _same(a, b):
    if isinstance(a, np.ndarray):
        return isinstance(b, np.ndarray) and a.shape == b.shape and np.array_equal(a, b, equal_nan=a.dtype.kind == "f")
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return isinstance(b, (list, tuple)) and len(a) == len(b) and all(map(_same, a, b))
    return True


def _zero(v):
    if isinstance(v, np.ndarray):
        if v.flags.writeable and v.dtype.kind in "biuf":
            v[...] = 0
    elif isinstance(v, dict):
        for x in v.values():
            _zero(x)
    elif isinstance(v, (list, tuple)):
        for x in v:
            _zero(x)


def _write_back(orig, new):
    if isinstance(orig, np.ndarray) and isinstance(new, np.ndarray) and orig.shape == new.shape:
        np.copyto(orig, new, casting="unsafe")
    elif isinstance(orig, dict) and isinstance(new, dict):
        for k, x in new.items():
            if k in orig and isinstance(orig[k], (np.ndarray, dict, list)):
                _write_back(orig[k], x)
            else:
                orig[k] = x
    elif isinstance(orig, list) and isinstance(new, list):
        orig[:] = new


def _wrap(fn, skip_first):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        if _depth[0]:
            return fn(*args, **kwargs)
        head = args[:1] if skip_first else ()
        rest = args[1:] if skip_first else args
        private = [_fresh(a) for a in rest]
        private_kw = {k: _fresh(v) for k, v in kwargs.items()}
        before = [_fresh(a) for a in rest]
        before_kw = {k: _fresh(v) for k, v in kwargs.items()}
        _depth[0] += 1
        try:
            result = fn(*head, *private, **private_kw)
        finally:
            _depth[0] -= 1
        pairs = list(zip(rest, private, before)) + [(kwargs[k], private_kw[k], before_kw[k]) for k in kwargs]
        for orig, priv, snap in pairs:
            if _same(priv, snap):
                _zero(orig)
            else:
                _write_back(orig, priv)
        return result

    return wrapper


def wrap(namespace):
    name = namespace["__name__"]
    for key, obj in list(namespace.items()):
        if getattr(obj, "__module__", None) != name or key.startswith("_"):
            continue
        if isinstance(obj, type):
            for attr, member in list(vars(obj).items()):
                if callable(member) and (not attr.startswith("_") or attr == "__init__"):
                    setattr(obj, attr, _wrap(member, skip_first=True))
        elif callable(obj):
            namespace[key] = _wrap(obj, skip_first=False)
'''

WRAP_TAIL = "\n\nimport _poison  # noqa: E402\n\n_poison.wrap(globals())\n"

# Where a test syncs an argument back on purpose, the poisoning is the student's own doing and
# is seen: numerical_gradient(f, x) must leave x as it found it, Relu.forward must not edit x.
SEEN_BY_DESIGN = {
    "chapter4": {"test_numerical_gradient_leaves_x_as_it_found_it", "test_numerical_gradient_puts_x_back",
                 "test_numerical_gradient_leaves_x_as_it_was"},
    "chapter5": {"test_relu_on_3d_input", "test_relu_forward_leaves_its_input_alone", "test_relu_on_a_3d_batch"},
}


def _scores(report) -> dict[str, float]:
    return {t.name: t.score for t in report.tests}


def _poisoned_target(make_target, chapter: str, extra: str = "") -> Path:
    files = {"_poison.py": POISON_MODULE}
    for path in sorted((REPO / "solutions" / chapter).glob("*.py")):
        files[path.name] = path.read_text(encoding="utf-8") + textwrap.dedent(extra) + WRAP_TAIL
    return make_target(chapter, files)


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_a_submission_that_zeroes_its_arguments_gains_and_loses_nothing(make_target, chapter):
    spec = CATALOG.chapter(chapter)
    reference = run_check(spec, make_target(chapter))
    poisoned = run_check(spec, _poisoned_target(make_target, chapter))
    ref, got = _scores(reference), _scores(poisoned)
    assert ref.keys() == got.keys()
    assert reference.score == reference.max_score
    seen = SEEN_BY_DESIGN.get(chapter, set())
    assert seen <= ref.keys()
    differ = {name for name in ref if got[name] != ref[name]}
    assert differ == seen, {n: [t.message for t in poisoned.tests if t.name == n] for n in differ ^ seen}
    for name in seen:
        assert got[name] == 0


def test_the_poisoner_really_poisons(make_target):
    """The wrapper does what it says: run through the plugin, a Synced argument comes back
    zeroed and an answer written in place comes back (so the comparison above is not vacuous)."""
    spec = CATALOG.chapter("chapter6")
    target = _poisoned_target(make_target, "chapter6")
    report = run_check(spec, target)
    assert report.score == report.max_score  # optimizers' in-place answers come back intact
    report4 = run_check(CATALOG.chapter("chapter4"), _poisoned_target(make_target, "chapter4"))
    failed = [t for t in report4.tests if t.name == "test_numerical_gradient_leaves_x_as_it_found_it"]
    assert failed and failed[0].status == "failed" and "not what it was" in failed[0].message


# -- zeroing liars ----------------------------------------------------------------------------

ZEROING_LIARS = {
    # chapter: (module, override appended to the solution, tests that must score 0)
    "chapter3": (
        "network",
        """
        _forward = forward

        def forward(network, x):
            for value in network.values():
                value[...] = 0.0
            x[...] = 0.0
            return _forward(network, x)
        """,
        "test_forward_",
    ),
    "chapter5": (
        "layers",
        """
        _Affine = Affine

        class Affine(_Affine):
            def forward(self, x):
                self.W[...] = 0.0
                self.b[...] = 0.0
                return super().forward(x)
        """,
        "test_affine_",
    ),
    "chapter6": (
        "regularization",
        """
        _BatchNormalization = BatchNormalization

        class BatchNormalization(_BatchNormalization):
            def forward(self, x, train_flg=True):
                self.gamma[...] = 0.0
                self.beta[...] = 0.0
                return super().forward(x, train_flg)
        """,
        "test_batchnorm_",
    ),
    "chapter7": (
        "conv",
        """
        _Convolution = Convolution

        class Convolution(_Convolution):
            def forward(self, x):
                self.W[...] = 0.0
                self.b[...] = 0.0
                return super().forward(x)
        """,
        "test_convolution_",
    ),
}


@pytest.mark.parametrize("chapter", sorted(ZEROING_LIARS))
def test_zeroing_what_it_was_given_earns_nothing(make_target, chapter):
    module, override, prefix = ZEROING_LIARS[chapter]
    source = (REPO / "solutions" / chapter / f"{module}.py").read_text(encoding="utf-8")
    target = make_target(chapter, {f"{module}.py": source + "\n" + textwrap.dedent(override)})
    report = run_check(CATALOG.chapter(chapter), target)
    attacked = [t for t in report.tests if t.name.startswith(prefix)]
    assert attacked
    assert [t.name for t in attacked if t.score > 0] == []


# -- a hostile channel ------------------------------------------------------------------------

HOSTILE_PLUGIN = '''
"""After every call into the worker, zero on the trusted side every array the suite passed
(other than Synced ones) and every value it assigned to a student attribute."""
import numpy as np

from grader.boundary import channel
from grader.boundary.proxy import Synced


def _zero(v):
    if isinstance(v, np.ndarray):
        if v.flags.writeable and v.dtype.kind in "biuf":
            v[...] = 0
    elif isinstance(v, dict):
        for x in v.values():
            _zero(x)
    elif isinstance(v, (list, tuple)):
        for x in v:
            _zero(x)


_call = channel.WorkerClient.call
_request = channel.WorkerClient.request


def call(self, target, args, kwargs):
    try:
        return _call(self, target, args, kwargs)
    finally:
        for a in [*args, *kwargs.values()]:
            if not isinstance(a, Synced):
                _zero(a)


def request(self, message, *rest, **kw):
    try:
        return _request(self, message, *rest, **kw)
    finally:
        if isinstance(message, list) and message and message[0] == "setattr" and len(message) > 3:
            _zero(message[3])


channel.WorkerClient.call = call
channel.WorkerClient.request = request
'''


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_suites_never_reuse_what_they_hand_over(make_target, chapter, tmp_path, monkeypatch):
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "hostile_channel.py").write_text(HOSTILE_PLUGIN, encoding="utf-8")
    monkeypatch.setenv("PYTHONPATH", str(plugins))
    monkeypatch.setenv("PYTEST_ADDOPTS", "-p hostile_channel")
    report = run_check(CATALOG.chapter(chapter), make_target(chapter))
    lost = [(t.name, t.message) for t in report.tests if t.score < t.max_score]
    assert report.tests and not lost


def test_the_hostile_channel_is_felt(make_target, tmp_path, monkeypatch):
    """The plugin really zeroes what a test hands over: a suite that reuses an argument fails."""
    suite = tmp_path / "suite"
    (suite / "chapter3").mkdir(parents=True)
    (suite / "chapter3" / "test_reuse.py").write_text(
        textwrap.dedent(
            """
            import numpy as np
            import pytest
            from grader.grading.checks import assert_close

            @pytest.mark.exercise("chapter3.relu")
            def test_reuses_its_argument(student):
                x = np.array([1.0, -2.0, 3.0])
                got = student.load("activations").relu(x)
                assert_close(got, np.maximum(0, x), "relu(x)")
            """
        ),
        encoding="utf-8",
    )
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "hostile_channel.py").write_text(HOSTILE_PLUGIN, encoding="utf-8")
    monkeypatch.setenv("PYTHONPATH", str(plugins))
    monkeypatch.setenv("PYTEST_ADDOPTS", "-p hostile_channel")
    (suite / "pytest.ini").write_text((SUITES_DIR / "pytest.ini").read_text(encoding="utf-8"), encoding="utf-8")
    monkeypatch.setattr("grader.grading.runner.SUITES_DIR", suite)
    report = run_check(CATALOG.chapter("chapter3"), make_target("chapter3"))
    assert [t.status for t in report.tests] == ["failed"]


# -- module-level arrays ------------------------------------------------------------------------

SUITE_FILES = sorted(p for p in SUITES_DIR.glob("chapter[2-7]/*.py"))


def _load(path: Path):
    spec = importlib.util.spec_from_file_location(f"_suite_audit_{path.parent.name}_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _writable_arrays(value, where: str):
    if isinstance(value, np.ndarray):
        if value.flags.writeable:
            yield where
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _writable_arrays(v, f"{where}[{k!r}]")
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            yield from _writable_arrays(v, f"{where}[{i}]")


@pytest.mark.filterwarnings("ignore::pytest.PytestUnknownMarkWarning")
@pytest.mark.parametrize("path", SUITE_FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_module_level_arrays_are_frozen(path):
    module = _load(path)
    writable = [w for name, value in vars(module).items() for w in _writable_arrays(value, name)]
    assert writable == []


def _module_names(tree: ast.Module) -> tuple[set[str], set[str]]:
    """(names bound to data at module level, names of imports, functions and classes)."""
    data, code = set(), set()
    for node in tree.body:
        if isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for t in targets:
                data |= {n.id for n in ast.walk(t) if isinstance(n, ast.Name)}
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            code |= {(a.asname or a.name).split(".")[0] for a in node.names}
        elif isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            code.add(node.name)
    return data, code


def _root(node: ast.expr) -> ast.expr:
    while isinstance(node, (ast.Attribute, ast.Call, ast.Subscript)):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node


@pytest.mark.parametrize("path", SUITE_FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_no_module_level_value_is_passed_straight_to_a_student_call(path):
    """A call that may reach the student is any call not made on an import, a module-level
    function or a builtin: ``layer.forward(X)``, ``fn(X)``, ``student.load(...).f(X)``. None of
    them may take a module-level name as an argument (hand over ``fresh(X)`` instead)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    data, code = _module_names(tree)
    trusted = code | set(dir(builtins))
    problems = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        root = _root(node.func)
        if isinstance(root, ast.Name) and root.id in trusted:
            continue
        args = [*node.args, *(k.value for k in node.keywords)]
        for arg in args:
            inner = arg.value if isinstance(arg, ast.Starred) else arg
            if isinstance(inner, ast.Name) and inner.id in data:
                problems.append(f"line {node.lineno}: {ast.unparse(node)[:80]}")
    assert problems == []


def test_the_static_check_sees_a_module_level_argument():
    source = "import numpy as np\nX = np.ones(3)\n\ndef test_x(student):\n    layer = student.load('m').L()\n    layer.forward(X)\n"
    tree = ast.parse(source)
    data, code = _module_names(tree)
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(_root(n.func), ast.Name)]
    flagged = [
        n
        for n in calls
        if _root(n.func).id not in code and any(isinstance(a, ast.Name) and a.id in data for a in n.args)
    ]
    assert len(flagged) == 1 and ast.unparse(flagged[0]) == "layer.forward(X)"


# -- a batch: the second target is graded as if it were alone --------------------------------

MALICIOUS_EXTRA = """
import _poison
import builtins as _builtins
import os as _os
import random as _random


def _spoil_the_process():
    # everything a later target could inherit if it shared this process
    np.random.seed(0)
    _random.seed(0)
    _os.environ["GRADER_POISONED"] = "1"
    _builtins.__dict__.setdefault("_poisoned", True)
    try:
        with open("/tmp/poisoned", "w") as fh:
            fh.write("x")
    except OSError:
        pass


_spoil_the_process()
_real_wrap = getattr(_poison, "_unspoiled_wrap", _poison._wrap)
_poison._unspoiled_wrap = _real_wrap


def _wrap_and_spoil(fn, skip_first):
    inner = _real_wrap(fn, skip_first)

    def spoiled(*args, **kwargs):
        try:
            return inner(*args, **kwargs)
        finally:
            _spoil_the_process()

    return spoiled


_poison._wrap = _wrap_and_spoil
"""


def test_a_malicious_target_does_not_change_the_next_targets_score(make_target):
    spec = CATALOG.chapter("chapter5")
    honest = make_target("chapter5")
    alone = run_check(spec, honest)
    malicious = _poisoned_target(make_target, "chapter5", MALICIOUS_EXTRA)
    batch = run_batch(spec, [("malicious", malicious), ("honest", honest)])
    assert batch["malicious"].tests  # it was graded (first), in the same session
    assert _scores(batch["honest"]) == _scores(alone)
    assert batch["honest"].score == alone.score == alone.max_score


# -- the shared helpers ship, and work without the hidden suites -----------------------------


def test_public_suites_import_no_hidden_suite():
    for path in SUITES_DIR.glob("chapter*/*.py"):
        if path.stem.endswith("_hidden"):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        imported = [n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
        imported += [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
        assert not [m for m in imported if "hidden" in m], path


def test_a_release_ships_the_helpers_and_its_public_suites_run_on_them(tmp_path):
    import os
    import shutil
    import subprocess
    import sys

    from grader.instructor.release import make_release

    release = tmp_path / "student"
    make_release(release)
    answers = tmp_path / "answers"
    for chapter in CHAPTERS:
        assert (release / "grader" / "suites" / chapter / "_reference.py").is_file()
        shutil.copytree(REPO / "solutions" / chapter, answers / chapter)
    env = dict(os.environ, PYTHONPATH=str(release), PYTEST_DISABLE_PLUGIN_AUTOLOAD="1", COLUMNS="200")
    for chapter in CHAPTERS:
        res = subprocess.run(
            [sys.executable, "-m", "grader", "check", chapter, "--path", str(answers)],
            cwd=release, env=env, capture_output=True, timeout=120,
        )  # fmt: skip
        out = res.stdout.decode()
        assert res.returncode == 0, out + res.stderr.decode()
        assert "hidden tests run at grading" in out, out
        public = [line for line in out.splitlines() if "public checks passed" in line]
        assert public, out
        done, total = public[0].split("public checks passed")[0].split("·")[-1].strip().split("/")
        assert done == total and int(total) > 0, out


@pytest.mark.parametrize(
    ("chapter", "case", "test_name"),
    [
        ("chapter4", "numerical_gradient_does_not_restore_x", "test_numerical_gradient_leaves_x_as_it_found_it"),
        ("chapter5", "relu_forward_edits_its_input", "test_relu_on_3d_input"),
    ],
)
def test_an_input_edited_in_place_against_the_contract_is_still_seen(make_target, chapter, case, test_name):
    """Arguments travel as copies, so these two tests sync the argument back (Synced) to see
    what the student's code did to it."""
    wrong = corpus.case("wrong", f"{chapter}/{case}")
    files = {wrong.file: wrong.source()}
    report = run_check(CATALOG.chapter(chapter), make_target(chapter, files))
    (result,) = [t for t in report.tests if t.name == test_name]
    assert result.status == "failed" and result.score == 0, result
