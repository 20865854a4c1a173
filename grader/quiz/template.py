"""Calculation questions as templates: numbers per student, key and distractors by formula.

A template question in a bank file (``grader/quiz/bank.py``) adds to an ordinary question::

    where = ["(H + 2*P - F) % S == 0"]   # optional: every instance must satisfy these
    decimals = 2                          # optional: decimals shown for non-integer numbers
    [question.params]                     # each parameter: "lo..hi" (integers) or a list
    H = "5..12"
    S = [1, 2]
    [question.let]                        # optional: named formulas, in order
    OH = "(H + 2*P - F) // S + 1"
    [[question.option]]
    id = "o1"
    value = "OH"                          # the number this option shows, by formula
    text = "{value}×{value}"              # {name} fills in a parameter, a let, or value

Every text (question, options, feedback, explanation, in both languages) may use
``{name}`` or ``{name:N}`` (N decimals). The instances are every combination of the
parameters that meets ``where``, in a fixed order; a student's instance is chosen by a
hash of their id, the chapter, the question id and the bank's ``variant_salt``
(``variant_index``). Formulas are parsed with ``ast`` and evaluated by a small
interpreter over an allow-list of operators and math functions: nothing from a bank is
ever handed to ``eval``.

An instance's options get ids that depend on the numbers shown (``o1-3f2a9c``), so an
answer recorded for one student's numbers is an unknown option in another student's.
"""

from __future__ import annotations

import ast
import hashlib
import itertools
import math
import operator
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

MAX_COMBINATIONS = 20000  # parameter combinations a template may enumerate
MAX_INSTANCES = 2000  # instances a template may have (what a keyless bank ships)
MAX_FORMULA = 400  # characters
MAX_MAGNITUDE = 1e12
Number = int | float


class TemplateError(ValueError):
    """A template that cannot be used: a bad formula, a parameter range, an instance error."""


# --- the formula interpreter -----------------------------------------------------------

_BIN = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_CMP = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
}
FUNCTIONS: dict[str, Any] = {
    "sqrt": math.sqrt,
    "exp": math.exp,
    "log": math.log,
    "abs": abs,
    "min": min,
    "max": max,
    "round": round,
    "floor": math.floor,
    "ceil": math.ceil,
    "distinct": lambda *args: int(len(set(args)) == len(args)),  # for where: options that differ
}
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class Formula:
    source: str
    tree: ast.expr = field(compare=False, repr=False)
    names: frozenset[str] = field(default=frozenset(), compare=False)

    def __call__(self, env: dict[str, Number]) -> Number:
        return _eval(self.tree, env, self.source)


def compile_formula(source: str) -> Formula:
    """Parse and check a formula: only numbers, names, + - * / // % **, comparisons,
    ``and``/``or``/``not``, ``a if c else b`` and calls of ``FUNCTIONS``."""
    text = str(source)
    if len(text) > MAX_FORMULA:
        raise TemplateError(f"formula longer than {MAX_FORMULA} characters")
    try:
        tree = ast.parse(text.strip(), mode="eval").body
    except SyntaxError:
        raise TemplateError(f"formula {text!r} is not an expression") from None
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            if node.id in FUNCTIONS:
                continue
            names.add(node.id)
        elif isinstance(node, ast.Call):
            if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS or node.keywords:
                raise TemplateError(f"formula {text!r}: only {', '.join(FUNCTIONS)} may be called")
        elif isinstance(node, ast.Constant):
            if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
                raise TemplateError(f"formula {text!r}: only numbers may be written in it")
        elif not isinstance(node, (ast.BinOp, ast.UnaryOp, ast.Compare, ast.BoolOp, ast.IfExp, ast.Load,
                                   ast.operator, ast.unaryop, ast.cmpop, ast.boolop)):
            raise TemplateError(f"formula {text!r}: {type(node).__name__} is not allowed")
        if isinstance(node, ast.BinOp) and type(node.op) not in _BIN:
            raise TemplateError(f"formula {text!r}: operator {type(node.op).__name__} is not allowed")
        if isinstance(node, ast.UnaryOp) and not isinstance(node.op, (ast.USub, ast.UAdd, ast.Not)):
            raise TemplateError(f"formula {text!r}: operator {type(node.op).__name__} is not allowed")
        if isinstance(node, ast.Compare) and any(type(op) not in _CMP for op in node.ops):
            raise TemplateError(f"formula {text!r}: only == != < <= > >= compare")
    return Formula(text, tree, frozenset(names))


def _check(value: Any, source: str) -> Number:
    if isinstance(value, bool):
        return int(value)
    if not isinstance(value, (int, float)) or not math.isfinite(value) or abs(value) > MAX_MAGNITUDE:
        raise TemplateError(f"formula {source!r} gives {value!r}, not a number of sensible size")
    return value


def _eval(node: ast.expr, env: dict[str, Number], source: str) -> Number:
    if isinstance(node, ast.Constant):
        return _check(node.value, source)
    if isinstance(node, ast.Name):
        if node.id not in env:
            raise TemplateError(f"formula {source!r}: {node.id!r} is not a parameter or an earlier let")
        return env[node.id]
    if isinstance(node, ast.UnaryOp):
        value = _eval(node.operand, env, source)
        if isinstance(node.op, ast.Not):
            return int(not value)
        return _check(-value if isinstance(node.op, ast.USub) else +value, source)
    if isinstance(node, ast.BinOp):
        left, right = _eval(node.left, env, source), _eval(node.right, env, source)
        if isinstance(node.op, ast.Pow) and abs(right) > 64:
            raise TemplateError(f"formula {source!r}: exponent {right} too large")
        try:
            return _check(_BIN[type(node.op)](left, right), source)
        except (ZeroDivisionError, OverflowError, ValueError) as exc:
            raise TemplateError(f"formula {source!r}: {exc}") from None
    if isinstance(node, ast.Compare):
        left = _eval(node.left, env, source)
        for op, comp in zip(node.ops, node.comparators, strict=True):
            right = _eval(comp, env, source)
            if not _CMP[type(op)](left, right):
                return 0
            left = right
        return 1
    if isinstance(node, ast.BoolOp):
        values = (_eval(v, env, source) for v in node.values)
        return int(all(values) if isinstance(node.op, ast.And) else any(values))
    if isinstance(node, ast.IfExp):
        return _eval(node.body if _eval(node.test, env, source) else node.orelse, env, source)
    if isinstance(node, ast.Call):
        assert isinstance(node.func, ast.Name)
        args = [_eval(a, env, source) for a in node.args]
        try:
            return _check(FUNCTIONS[node.func.id](*args), source)
        except (TypeError, ValueError, OverflowError) as exc:
            raise TemplateError(f"formula {source!r}: {exc}") from None
    raise TemplateError(f"formula {source!r}: {type(node).__name__} is not allowed")  # compile_formula refused it


# --- numbers shown --------------------------------------------------------------------

_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)(?::(\d))?\}")


def show_number(value: Number, decimals: int) -> str:
    """An integer as an integer; anything else rounded to ``decimals`` places, trailing zeros
    dropped (0.30000000000000004 shows as 0.3; "-0" is never shown)."""
    if isinstance(value, int) or (isinstance(value, float) and value.is_integer() and abs(value) < 1e15):
        return str(int(value))
    text = f"{value:.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def placeholders(text: str) -> set[str]:
    return {m.group(1) for m in _PLACEHOLDER.finditer(text)}


def fill(text: str, env: dict[str, Number], decimals: int) -> str:
    """``text`` with every ``{name}``/``{name:N}`` replaced by its number (unknown names stay)."""

    def sub(m: re.Match[str]) -> str:
        name = m.group(1)
        if name not in env:
            return m.group(0)
        return show_number(env[name], int(m.group(2)) if m.group(2) else decimals)

    return _PLACEHOLDER.sub(sub, text)


# --- templates and their instances ----------------------------------------------------


@dataclass(frozen=True)
class Template:
    """The formulas of a keyed template, or (in a keyless bank) its rendered instances."""

    params: tuple[tuple[str, tuple[Number, ...]], ...] = ()
    lets: tuple[tuple[str, Formula], ...] = ()
    where: tuple[Formula, ...] = ()
    values: tuple[tuple[str, Formula], ...] = ()  # option id -> the formula of the number it shows
    decimals: int = 2
    rendered: tuple[dict[str, Any], ...] = ()  # keyless: per instance {"text", "text_zh", "options": [[en, zh]...]}

    @property
    def keyless(self) -> bool:
        return not self.values and bool(self.rendered)


def parse_param(name: str, spec: Any) -> tuple[Number, ...]:
    if not _NAME.match(name) or name in FUNCTIONS or name == "value":
        raise TemplateError(f"parameter name {name!r} is not usable")
    if isinstance(spec, str):
        m = re.fullmatch(r"\s*(-?\d+)\s*\.\.\s*(-?\d+)\s*", spec)
        if not m or int(m.group(1)) > int(m.group(2)):
            raise TemplateError(f"parameter {name}: {spec!r} is not a range 'lo..hi' of integers")
        return tuple(range(int(m.group(1)), int(m.group(2)) + 1))
    if isinstance(spec, list) and spec and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in spec):
        return tuple(dict.fromkeys(spec))
    raise TemplateError(f"parameter {name}: give 'lo..hi' or a list of numbers")


def template_from_dict(q: dict[str, Any]) -> Template | None:
    """The template part of a question's TOML table, or None for an ordinary question."""
    if "instances" in q:  # a keyless bank: rendered instances only
        rendered = tuple(dict(i) for i in q["instances"])
        if not rendered:
            raise TemplateError("a keyless template needs instances")
        return Template(rendered=rendered)
    if "params" not in q:
        return None
    params = tuple((str(k), parse_param(str(k), v)) for k, v in dict(q["params"]).items())
    lets = tuple((str(k), compile_formula(v)) for k, v in dict(q.get("let", {}) or {}).items())
    for name, _ in lets:
        if not _NAME.match(name) or name in FUNCTIONS or name == "value":
            raise TemplateError(f"let name {name!r} is not usable")
    where = tuple(compile_formula(w) for w in q.get("where", []) or [])
    values = tuple((str(o["id"]), compile_formula(o["value"])) for o in q.get("option", []) if "value" in o)
    if len(values) != len(q.get("option", [])):
        raise TemplateError("every option of a template needs a value formula")
    decimals = int(q.get("decimals", 2))
    if not 0 <= decimals <= 6:
        raise TemplateError("decimals must be 0 to 6")
    return Template(params, lets, where, values, decimals)


def environments(t: Template) -> list[dict[str, Number]]:
    """Every instance's numbers (parameters, lets, ``value:<option id>``), in a fixed order."""
    total = math.prod(len(v) for _, v in t.params)
    if total > MAX_COMBINATIONS:
        raise TemplateError(f"{total} parameter combinations (at most {MAX_COMBINATIONS})")
    names = [n for n, _ in t.params]
    out: list[dict[str, Number]] = []
    for combo in itertools.product(*(v for _, v in t.params)):
        env: dict[str, Number] = dict(zip(names, combo, strict=True))
        for name, f in t.lets:
            env[name] = f(env)
        if not all(w(env) for w in t.where):
            continue
        for oid, f in t.values:
            env[f"value:{oid}"] = f(env)
        out.append(env)
    if not out:
        raise TemplateError("no parameter combination satisfies 'where'")
    if len(out) > MAX_INSTANCES:
        raise TemplateError(f"{len(out)} instances (at most {MAX_INSTANCES}): narrow the ranges")
    return out


_ENV_CACHE: dict[int, tuple[Template, list[dict[str, Number]]]] = {}


def instance_count(t: Template) -> int:
    return len(t.rendered) if t.keyless else len(_envs(t))


def _envs(t: Template) -> list[dict[str, Number]]:
    hit = _ENV_CACHE.get(id(t))
    if hit is None or hit[0] is not t:
        hit = (t, environments(t))
        _ENV_CACHE[id(t)] = hit
    return hit[1]


def variant_index(n: int, *, student: str | None, chapter: str, question_id: str, salt: str = "") -> int:
    """The instance a student gets: a hash of the bank's salt, the student's id (in the
    gradebook's form), the chapter and the question id, modulo the number of instances."""
    from grader.util.textclean import normalise_student

    who = normalise_student(student) if student else "-"
    key = "\0".join(("dl-grade variant 1", salt, who, chapter, question_id)).encode()
    return int.from_bytes(hashlib.sha256(key).digest()[:8], "big") % n


def option_id(role: str, question_id: str, shown: str) -> str:
    """An instance's option id: the option's own id and a hash of what it shows."""
    digest = hashlib.sha256(f"{question_id}\0{role}\0{shown}".encode()).hexdigest()[:6]
    return f"{role}-{digest}"


def instantiate(question: Any, index: int) -> Any:
    """The concrete question of instance ``index`` of a template question (a ``Question``):
    every text filled in, option ids made from what each option shows."""
    from dataclasses import replace

    t: Template = question.template
    if t.keyless:
        shown = t.rendered[index]
        texts = [(str(en), str(zh)) for en, zh in shown.get("options", [])]
        if len(texts) != len(question.options):
            raise TemplateError(f"{question.id}: instance {index} has {len(texts)} options, not {len(question.options)}")
        options = tuple(
            replace(o, id=option_id(o.id, question.id, en), text=en, text_zh=zh)
            for o, (en, zh) in zip(question.options, texts, strict=True)
        )
        return replace(question, text=str(shown.get("text", "")), text_zh=str(shown.get("text_zh", "")),
                       options=options, template=None, variant=index)
    env = _envs(t)[index]
    d = t.decimals
    options = []
    for o in question.options:
        own = dict(env, value=env[f"value:{o.id}"])
        en = fill(o.text, own, d)
        options.append(replace(o, id=option_id(o.id, question.id, en), text=en, text_zh=fill(o.text_zh, own, d),
                               feedback=fill(o.feedback, own, d), feedback_zh=fill(o.feedback_zh, own, d)))
    return replace(question, text=fill(question.text, env, d), text_zh=fill(question.text_zh, env, d),
                   explanation=fill(question.explanation, env, d), explanation_zh=fill(question.explanation_zh, env, d),
                   options=tuple(options), template=None, variant=index)


def render_instances(question: Any) -> list[dict[str, Any]]:
    """What a keyless bank ships for a template question: each instance's texts, no formulas,
    no key (options in the bank's order)."""
    out = []
    for i in range(instance_count(question.template)):
        c = instantiate(question, i)
        out.append({"text": c.text, "text_zh": c.text_zh, "options": [[o.text, o.text_zh] for o in c.options]})
    return out


def check_template(question: Any) -> list[str]:
    """Every instance of a keyed template: it computes, its options show distinct numbers and
    texts (English and Chinese), the key is among them and no distractor shows the key's
    number, every number is shown sensibly (not rounded to 0 or to another option's number,
    no leftover placeholder)."""
    t: Template = question.template
    where = f"question {question.id}"
    if t.keyless:
        return []
    known = {n for n, _ in t.params} | {n for n, _ in t.lets}
    problems = []
    for label, text in (("text", question.text), ("text_zh", question.text_zh),
                        ("explanation", question.explanation), ("explanation_zh", question.explanation_zh)):
        unknown = placeholders(text) - known
        if unknown:
            problems.append(f"{where}: {label} uses unknown {{{', '.join(sorted(unknown))}}}")
    for o in question.options:
        unknown = placeholders(o.text + o.text_zh + o.feedback + o.feedback_zh) - known - {"value"}
        if unknown:
            problems.append(f"{where}: option {o.id} uses unknown {{{', '.join(sorted(unknown))}}}")
    if problems:
        return problems
    try:
        envs = _envs(t)
    except TemplateError as exc:
        return [f"{where}: {exc}"]
    for i, env in enumerate(envs):
        c = instantiate(question, i)
        at = f"{where} instance {i} ({', '.join(f'{n}={show_number(env[n], t.decimals)}' for n, _ in t.params)})"
        shown = [show_number(env[f"value:{o.id}"], t.decimals) for o in question.options]
        if len(set(shown)) != len(shown):
            problems.append(f"{at}: options show the same number ({', '.join(shown)})")
        for lang in ("text", "text_zh"):
            texts = [getattr(o, lang) for o in c.options]
            if len(set(texts)) != len(texts):
                problems.append(f"{at}: two options read the same ({lang})")
        keys = [s for o, s in zip(question.options, shown, strict=True) if o.correct]
        if question.type != "multiple" and len(keys) != 1:
            problems.append(f"{at}: no single key")
        for o, s in zip(question.options, shown, strict=True):
            value = env[f"value:{o.id}"]
            if not o.correct and s in keys:
                problems.append(f"{at}: distractor {o.id} shows the key's number {s}")
            if value != 0 and float(s) == 0:
                problems.append(f"{at}: option {o.id} ({value!r}) is shown as 0")
            if isinstance(value, float) and not value.is_integer() and abs(float(s) - value) > 0.05 * abs(value):
                problems.append(f"{at}: option {o.id} ({value!r}) is shown as {s}, more than 5 % off")
        for text in (c.text, c.text_zh, *(o.text for o in c.options), *(o.text_zh for o in c.options)):
            if _PLACEHOLDER.search(text):
                problems.append(f"{at}: a placeholder was left unfilled")
                break
        if len(problems) > 20:
            problems.append(f"{where}: (more problems not listed)")
            break
    return problems


# --- writing ---------------------------------------------------------------------------


def _toml_number(value: float) -> str:
    return str(value) if isinstance(value, int) else repr(float(value))


def dump_template(q: Any, *, keyless: bool, quote: Callable[[str], str]) -> list[str]:
    """The template part of a question: its formulas, or in a keyless bank only each
    instance's rendered texts (the formulas would tell which option is the key)."""
    t = q.template
    assert t is not None
    if keyless or t.keyless:
        rendered = list(t.rendered) if t.keyless else render_instances(q)
        out = ["instances = ["]
        for inst in rendered:
            opts = ", ".join(f"[{quote(en)}, {quote(zh)}]" for en, zh in inst["options"])
            out.append(f"  {{ text = {quote(inst['text'])}, text_zh = {quote(inst['text_zh'])}, options = [{opts}] }},")
        return out + ["]"]
    out = []
    if t.where:
        out.append("where = [" + ", ".join(quote(w.source) for w in t.where) + "]")
    if t.decimals != 2:
        out.append(f"decimals = {t.decimals}")
    out.append("[question.params]")
    for name, values in t.params:
        ints = all(isinstance(v, int) for v in values)
        if ints and len(values) > 2 and list(values) == list(range(int(values[0]), int(values[-1]) + 1)):
            out.append(f'{name} = "{values[0]}..{values[-1]}"')
        else:
            out.append(f"{name} = [" + ", ".join(_toml_number(v) for v in values) + "]")
    if t.lets:
        out.append("[question.let]")
        out += [f"{name} = {quote(f.source)}" for name, f in t.lets]
    return out
