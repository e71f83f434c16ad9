"""Expression evaluation: scalar results match a reference model of the documented semantics,
and the vectorised evaluator (loop bodies) matches the scalar one element by element."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from pimisa.asm.diagnostics import AsmError
from pimisa.asm.expand import Ctx, Scope
from pimisa.asm.parse import fast_parse_line

LO, HI = -(2**63), 2**63 - 1


class Fail(Exception):
    """The reference model's error."""


def _fit(v: int) -> int:
    if not LO <= v <= HI:
        raise Fail("overflow")
    return v


def reference(op: str, a: int, b: int) -> int:
    """The documented semantics of each operator, on Python ints."""
    if op in "/%":
        if b == 0:
            raise Fail("zero")
        return _fit(a // b if op == "/" else a % b)
    if op == "<<":
        if not 0 <= b <= 63:
            raise Fail("shift")
        return _fit(a << b)
    if op == ">>":
        if b < 0:
            raise Fail("shift")
        return a >> b
    return _fit({"+": a + b, "-": a - b, "*": a * b, "&": a & b, "|": a | b, "^": a ^ b}[op])


@dataclass
class E:
    """An expression: its text and its value as a function of x (raises Fail)."""

    text: str
    fn: object

    def __call__(self, x: int) -> int:
        return self.fn(x)  # type: ignore[operator]


def _leaf(v: object) -> E:
    if v == "x":
        return E("x", lambda x: x)
    return E(str(v), lambda x, v=v: v)


def _bin(a: E, op: str, b: E) -> E:
    return E(f"({a.text} {op} {b.text})", lambda x: reference(op, a(x), b(x)))


def _un(op: str, a: E) -> E:
    def fn(x: int) -> int:
        v = a(x)
        return _fit(-v) if op == "-" else ~v if op == "~" else v
    return E(f"{op}({a.text})", fn)


LEAVES = st.one_of(st.just("x"), st.integers(-70, 70),
                   st.sampled_from([0, 1, -1, 63, 64, 2**31, 2**62, HI, -HI]))
EXPRS = st.recursive(LEAVES.map(_leaf), lambda inner: st.one_of(
    st.tuples(inner, st.sampled_from(["+", "-", "*", "/", "%", "<<", ">>", "&", "|", "^"]),
              inner).map(lambda t: _bin(*t)),
    st.tuples(st.sampled_from(["-", "+", "~"]), inner).map(lambda t: _un(*t)),
), max_leaves=8)


def _node(text: str):
    ins = fast_parse_line("q " + text)
    assert ins and not isinstance(ins, bool)
    return ins.operands[0]


def _ctx(x: object, dims: tuple[int, ...]) -> Ctx:
    scope = Scope()
    scope.vars["x"] = x
    return Ctx(scope, dims, (), bool(dims), 0, ())


def _scalar(node, x: int):
    try:
        return node.ev(_ctx(x, ()))
    except AsmError as exc:
        return ("error", exc.message)


@given(EXPRS, st.integers(-100, 100))
def test_scalar_evaluation_matches_the_reference(expr, x):
    got = _scalar(_node(expr.text), x)
    try:
        want = expr(x)
    except Fail:
        assert isinstance(got, tuple) and got[0] == "error"
    else:
        assert got == want


@given(EXPRS, st.lists(st.integers(-100, 100), min_size=1, max_size=12))
def test_vectorised_evaluation_matches_scalar_evaluation(expr, xs):
    node = _node(expr.text)
    scalar = [_scalar(node, x) for x in xs]
    ctx = _ctx(np.array(xs, dtype=np.int64), (len(xs),))
    try:
        got = node.ev(ctx)
    except AsmError as exc:
        # The instance named fails on its own with the same message (when several different
        # errors occur, it may not be the first failing iteration).
        assert scalar[exc.instance or 0] == ("error", exc.message)
    else:
        assert all(not isinstance(s, tuple) for s in scalar)
        assert np.broadcast_to(got, (len(xs),)).tolist() == scalar


@pytest.mark.parametrize("text, value", [
    ("1 + 2 * 3", 7), ("(1 + 2) * 3", 9), ("1 << 4 + 1", 32), ("6 & 3 | 8 ^ 1", 11),
    ("-7 / 2", -4), ("-7 % 2", 1), ("7 % -2", -1), ("~0", -1), ("100 - 10 - 1", 89),
    ("2 * 3 % 4", 2), ("1 - -1", 2), ("-256 >> 4", -16), ("1 >> 99", 0), ("0x10 | 0b1", 17),
    ("9223372036854775807", HI), ("-9223372036854775807 - 1", LO),
])
def test_precedence_and_rounding(text, value):
    assert _scalar(_node(text), 0) == value


@pytest.mark.parametrize("text, message", [
    ("1 / 0", "division by zero"), ("1 % 0", "modulo by zero"),
    ("1 << 64", "shift amount 64 out of range"), ("1 >> -1", "shift amount -1"),
    ("9223372036854775807 + 1", "integer overflow"), ("-(-9223372036854775807 - 1)",
                                                       "integer overflow"),
    ("99999999999999999999", "integer literal out of range"), ("1" * 100, "literal out of"),
    ("1.5 * 2", "not floats"),
    ("~2.5", "needs an integer"), ("v1 + 1", "must be an integer"), ("y", "unknown symbol"),
])
def test_expression_errors(text, message):
    result = _scalar(_node(text), 0)
    assert isinstance(result, tuple) and message in result[1]


def test_vector_errors_name_the_first_failing_instance():
    node = _node("100 / (x - 3)")
    ctx = _ctx(np.arange(8, dtype=np.int64).reshape(2, 4), (2, 4))
    with pytest.raises(AsmError) as info:
        node.ev(ctx)
    assert info.value.instance == 3
