"""Red team: every text a report, the gradebook or Gradescope shows passes one choke point.

A hidden test runs after the student's code has seen the test's inputs, so anything that code
chooses could carry them out: a dict's keys, a returned object's class name, the names and line
numbers of frames in a traceback, the text of a module that failed to load when it was tried
again. Each test below is a student who writes a hidden input into one such channel, and
asserts that the input's digits (or the marker written around them) appear nowhere in what a
student could read: the report's JSON and Gradescope's results. The last one returns 8 MB of
text into a message: every message and everything a test leaves is capped.
"""

from __future__ import annotations

import json
import re
import textwrap

import numpy as np

from grader.grading.catalog import load_catalog
from grader.grading.runner import run_check
from tests.conftest import REPO

CATALOG = load_catalog()


def grade(make_target, chapter_id: str, overrides: dict[str, str], **kwargs):
    """The chapter's solutions with definitions appended to some modules (a later definition wins)."""
    files = {}
    for module, override in overrides.items():
        path = REPO / "solutions" / chapter_id / f"{module}.py"
        source = path.read_text(encoding="utf-8") if path.exists() else ""
        files[f"{module}.py"] = source + "\n\n" + textwrap.dedent(override)
    return run_check(CATALOG.chapter(chapter_id), make_target(chapter_id, files), **kwargs)


def readable(report) -> str:
    """Everything of a check a student could read: the report and Gradescope's results."""
    return json.dumps(report.to_dict(), ensure_ascii=False) + json.dumps(report.to_gradescope(), ensure_ascii=False)


def readable_hidden(report) -> str:
    """What a student could read of the hidden tests (and every artifact)."""
    data = report.to_dict()
    tests = [t for t in data["tests"] if t["visibility"] == "hidden"]
    gradescope = [t for t in report.to_gradescope()["tests"] if t["visibility"] != "visible"]
    return json.dumps([tests, data["artifacts"], gradescope], ensure_ascii=False)


def hidden(report, name: str):
    return next(t for t in report.tests if t.name == name and t.visibility == "hidden")


def digits(values) -> list[str]:
    return [f"{abs(float(v)):.6f}".replace(".", "p") for v in values]


# -- (a) a dict's keys and (b) a returned object's class name -------------------------------------

KEYS_AND_CLASS_NAMES = {
    "gradients": """
    import builtins

    _solution_numerical_gradient = numerical_gradient


    def numerical_gradient(f, x):
        # remember a hidden input for the next module to write out
        builtins._SEEN = "_".join(f"{abs(float(v)):.6f}".replace(".", "p") for v in np.ravel(x)[:3])
        return _solution_numerical_gradient(f, x)
    """,
    "two_layer_net": """
    import builtins


    class TwoLayerNet(TwoLayerNet):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            seen = getattr(builtins, "_SEEN", "")
            if seen:  # a hidden test is on: params of a class named by what was seen
                self.params = type("ZQ_" + seen, (), {})()

        def numerical_gradient(self, x, t):
            # keys that are the hidden input, written out
            return {"ZK_" + "_".join(f"{abs(float(v)):.6f}".replace(".", "p") for v in x.ravel()[:3]): 1}
    """,
}


def test_a_hidden_input_written_into_dict_keys_or_a_class_name_is_not_shown(make_target):
    report = grade(make_target, "chapter4", KEYS_AND_CLASS_NAMES)
    text = readable_hidden(report)
    keys = hidden(report, "test_numerical_gradient_of_every_parameter")
    init = hidden(report, "test_init_scales_the_weights_by_weight_init_std")
    assert keys.status == init.status == "failed" and keys.score == init.score == 0
    x = np.random.default_rng(78).normal(size=(5, 3))  # the hidden test's input
    for secret in ["ZK_", "ZQ_", *digits(x.ravel()[:3])]:
        assert secret not in text, (secret, keys.message, init.message)
    assert "W1" in keys.message  # what was expected is still said (the suite's own keys)
    public = [t for t in report.tests if t.visibility == "public" and "ZQ_" in t.message]
    assert public  # a public test shows the class name: the student saw only public inputs then


KEY_ADDED_TO_SYNCED_PARAMS = {
    "optimizers": """
    class Adam(Adam):
        def update(self, params, grads):
            if self.m is None:
                super().update(params, grads)  # a right first step, then a key that is the gradient
                params["ZK_" + "_".join(f"{abs(float(v)):.6f}".replace(".", "p") for v in grads["W1"].ravel()[:2])] = np.zeros(1)
            # and no second step: the test fails, describing the params it sends next
    """,
}


def test_a_key_added_to_synced_params_is_not_shown(make_target):
    report = grade(make_target, "chapter6", KEY_ADDED_TO_SYNCED_PARAMS)
    adam = [t for t in report.tests if t.exercise == "chapter6.Adam"]
    assert adam and all(t.score == 0 for t in adam)
    assert any(t.visibility == "hidden" and t.status == "failed" for t in adam)
    assert all("ZK_" not in t.message for t in report.tests if t.visibility == "hidden"), [t.message for t in adam]


# -- (c) function names "defined" in a comment and (d) lines of code compiled at run time ----------

CHOSEN_FRAMES = """
import types

# def d0(): ...   def d1(): ...   def d2(): ...   def d3(): ...   def d4(): ...
# def d5(): ...   def d6(): ...   def d7(): ...   def d8(): ...   def d9(): ...


def _raise(x):
    raise ValueError("no")


def _chain(names, x):
    # one frame per digit, each named after a "def" that only a comment holds
    if not names:
        return _raise(x)
    code = _chain.__code__.replace(co_name=names[0])
    return types.FunctionType(code, globals())(names[1:], x)


def relu(x):
    first = f"{abs(float(x.ravel()[0])):.6f}".split(".")[1][:5]
    return _chain(["d" + c for c in first], x)


def tanh(x):
    # a frame compiled at run time whose line number is the hidden input
    line = int(abs(float(x.ravel()[0])) * 1000) % 900 + 20
    source = "\\n" * (line - 1) + "def tanh(x):\\n    raise ValueError('no')\\n"
    scope = {}
    exec(compile(source, __file__, "exec"), scope)
    return scope["tanh"](x)
""" + "\n" * 1000 + "# the file is long enough for any line the code above picks\n"


def test_frames_a_student_chose_give_no_location_in_a_hidden_test(make_target):
    from grader.suites.chapter3._reference import random_array

    report = grade(make_target, "chapter3", {"activations": CHOSEN_FRAMES})
    relu = hidden(report, "test_relu_on_a_batch_returns_floats")
    tanh = hidden(report, "test_tanh_on_a_batch_over_a_wide_range")
    assert relu.status == tanh.status == "error"
    x_relu = random_array(14, (3, 2, 4), near_zero=-0.5).ravel()[0]
    x_tanh = random_array(16, (12,), near_zero=-0.5, scale=8.0).clip(-20, 20)[0]
    chosen = int(abs(float(x_tanh)) * 1000) % 900 + 20
    spelled = f"{abs(float(x_relu)):.6f}".split(".")[1][:5]
    assert not re.search(r"in d\d", relu.message), relu.message
    assert "".join(re.findall(r"in d(\d)", readable(report))) != spelled
    assert "line " in relu.message  # the verified frames (relu's own body) are still shown
    # the line the run-time code chose is not shown; tanh's own frame is
    solution_lines = (REPO / "solutions/chapter3/activations.py").read_text(encoding="utf-8").count("\n")
    lines = [int(n) for n in re.findall(r"line (\d+)", tanh.message)]
    assert lines and chosen not in lines and chosen + 1 not in lines and all(n < solution_lines + 40 for n in lines), tanh.message


def test_a_location_is_verified_against_the_syntax_tree_not_the_text():
    """The trusted side alone: a frame named after a def that only a comment or a string holds,
    or at a line outside that def's body, is not a location."""
    from grader.grading.failures import source_shape, verified_frames

    source = b"# def secret_1234(): pass\nx = 'def other_5678(): pass'\n\n\ndef real(x):\n    y = x\n    return y\n"
    shape = source_shape((("me/chapter3/activations.py", source),))
    tb = "".join(
        f'  File "me/chapter3/activations.py", line {line}, in {name}\n'
        for name, line in (("secret_1234", 1), ("other_5678", 2), ("real", 2), ("real", 900), ("real", 6), ("<module>", 2))
    )
    assert verified_frames(tb, shape) == [("me/chapter3/activations.py", 6, "real")]


# -- (e) a module that failed to load, tried again after the worker saw a hidden input --------------

RETRIED_IMPORT = {
    "activations": """
    import builtins


    def relu(x):
        builtins._SEEN = "ZR_" + "_".join(f"{abs(float(v)):.6f}".replace(".", "p") for v in x.ravel()[:3])
        return np.maximum(0, x).astype(float)
    """,
    "network": """
    import builtins

    import activations

    # fails in the public tests, and again in the hidden ones: by then with what relu saw
    _Seen = type(getattr(builtins, "_SEEN", "Nothing"), (ValueError,), {})
    raise _Seen(getattr(builtins, "_SEEN", "nothing seen yet"))
    """,
}


def test_a_module_load_retried_after_hidden_inputs_shows_nothing_it_chose(make_target):
    from grader.suites.chapter3._reference import random_array

    report = grade(make_target, "chapter3", RETRIED_IMPORT)
    blocked = [t for t in report.tests if t.exercise.startswith("chapter3.") and "network" in t.message]
    assert any(t.visibility == "hidden" for t in blocked)
    assert all(t.score == 0 for t in report.tests if t.exercise == "chapter3.forward")
    text = readable(report)
    x = random_array(14, (3, 2, 4), near_zero=-0.5).ravel()[:3]  # the hidden relu test's input
    for secret in digits(x):
        assert secret not in text, secret
    assert all("ZR_" not in t.message for t in report.tests if t.visibility == "hidden")
    public = [t for t in blocked if t.visibility == "public"]
    assert public and "ZR_" in public[0].message  # a public test keeps the whole text


# -- (f) no message and no test leaves more than its cap ----------------------------------------------

HUGE_TEXT = """
class TwoLayerNet(TwoLayerNet):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.params = {("W" * 8_000_000): 1}  # 8 MB of a key, echoed by "params has keys ..."
"""


def test_megabytes_returned_into_a_message_are_capped(make_target):
    from grader.grading.shown import MESSAGE_CHARS, TEST_BYTES

    report = grade(make_target, "chapter4", {"two_layer_net": HUGE_TEXT}, public_only=True)
    net = [t for t in report.tests if t.exercise == "chapter4.TwoLayerNet"]
    assert any(t.status == "failed" and "WWWW" in t.message for t in net)  # the key is echoed, capped
    assert all(len(t.message) <= MESSAGE_CHARS + 100 for t in report.tests)
    assert len(readable(report)) < 2 * TEST_BYTES + 200 * len(report.tests)


def test_every_field_the_student_could_choose_is_masked_in_a_hidden_message():
    """The choke point alone: a chapter-8 hidden message naming the student's curves (the
    keys of the History dict it returned), its class names and its error text; plain text the
    grader did not make from the catalogue. Public messages keep everything."""
    from grader.grading.shown import MASK, shown
    from grader.util.i18n import tr

    chosen = "ZK_0p123456"
    messages = [
        tr("k8.train.no_val_loss", call="train_model(<object>, <float64 (64, 5)>)", names=[chosen, "loss"]),
        tr("k8.returned_type", call="linear_unit(5)", type=chosen),
        tr("k8.load_failed", call="linear_unit(5)", error=chosen, detail=chosen),
        tr("fb.exited", code=chosen),
        "plain text " + chosen,
    ]
    for message in messages:
        assert chosen in shown(message, hidden=False)
        hidden = shown(message, hidden=True)
        assert chosen not in hidden and MASK in hidden, hidden
    assert "train_model(<object>, <float64 (64, 5)>)" in shown(messages[0], hidden=True)  # the suite's own call
