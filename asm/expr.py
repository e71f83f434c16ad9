"""Expression syntax nodes and their safe evaluation (never Python `eval`).

Integer expressions use 64-bit signed arithmetic: any intermediate result outside
-2^63..2^63-1 is an error, as are division or modulo by zero and negative shift amounts.
`/` and `%` floor (like Python): -7 / 2 = -4, -7 % 2 = 1.

Evaluation works on scalars and, inside vectorised loop bodies, on numpy int64 arrays whose
axes are the enclosing loops (see asm/expand.py); the same checks apply element-wise, and an
error names the first failing loop instance.

Values: int | numpy int64 array | float | str | RegV (register, mask or bank) | MemV.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from .diagnostics import AsmError, suggest

INT64_MIN = -(1 << 63)
INT64_MAX = (1 << 63) - 1
_SAFE_ADD = 1 << 62  # both operands below this in magnitude: a sum cannot overflow
_SAFE_MUL = 1 << 31  # both operands below this in magnitude: a product cannot overflow

REG_KINDS = {"v": "vector register", "m": "mask register", "b": "bank"}


class EvalContext(Protocol):
    """What evaluation needs from its surroundings (implemented by asm.expand.Ctx)."""

    ndim: int
    dims: tuple[int, ...]

    def lookup(self, name: str) -> Any: ...

    def visible_names(self) -> list[str]: ...

    def first_bad(self, bad: np.ndarray) -> int: ...


@dataclass(frozen=True, slots=True)
class RegV:
    """A register-like value: kind 'v' (vector), 'm' (mask) or 'b' (bank) and its index."""

    kind: str
    index: Any  # int or int64 array

    def describe(self) -> str:
        """E.g. `vector register v3` (or `vector register v(...)` for a varying index)."""
        idx = self.index if isinstance(self.index, int) else "(...)"
        return f"{REG_KINDS[self.kind]} {self.kind}{idx}"


@dataclass(frozen=True, slots=True)
class MemV:
    """A memory operand value: row and column word (ints or int64 arrays)."""

    row: Any
    col: Any


def describe(value: Any) -> str:
    """A short description of a value for error messages."""
    if isinstance(value, RegV):
        return "the " + value.describe()
    if isinstance(value, MemV):
        return "a memory operand"
    if isinstance(value, float):
        return f"the float {value!r}"
    if isinstance(value, str):
        return f"the string {value!r}"
    if isinstance(value, int):
        return f"the number {value}"
    return "a number"


def align(value: Any, ndim: int) -> Any:
    """Give an array value (made in an outer loop) trailing unit axes up to `ndim`."""
    if isinstance(value, np.ndarray):
        if value.ndim < ndim:
            return value.reshape(value.shape + (1,) * (ndim - value.ndim))
        return value
    if isinstance(value, RegV) and isinstance(value.index, np.ndarray):
        return RegV(value.kind, align(value.index, ndim))
    if isinstance(value, MemV) and (isinstance(value.row, np.ndarray)
                                    or isinstance(value.col, np.ndarray)):
        return MemV(align(value.row, ndim), align(value.col, ndim))
    return value


def _check(ctx: EvalContext, bad: np.ndarray | bool, span: tuple[int, int], message: str,
           values: np.ndarray | None = None) -> None:
    """Raise AsmError(message) if any element of `bad` is set, naming the first instance;
    `{v}` in the message becomes the element of `values` at that instance."""
    if isinstance(bad, np.ndarray):
        if bad.any():
            k = ctx.first_bad(bad)
            if values is not None:
                message = message.format(v=int(np.broadcast_to(values, ctx.dims).flat[k]))
            raise AsmError(span, message, k)
    elif bad:
        raise AsmError(span, message if values is None else message.format(v=int(values)))


_OVERFLOW = "integer overflow (expressions are 64-bit signed)"


def _as_int(value: Any, span: tuple[int, int], what: str) -> Any:
    """`value` if it is an integer (scalar or array), else an error naming what it is."""
    if isinstance(value, (int, np.ndarray)) and not isinstance(value, bool):
        return value
    raise AsmError(span, f"{what} must be an integer, got {describe(value)}")


def _abs_max(x: Any) -> int:
    if isinstance(x, np.ndarray):
        return max(abs(int(x.max())), abs(int(x.min()))) if x.size else 0
    return abs(x)


def _exact(op: Any, a: Any, b: Any) -> Any:
    """Element-wise exact Python-int arithmetic (slow path for possibly overflowing arrays)."""
    return np.frompyfunc(op, 2, 1)(np.asarray(a, dtype=object), np.asarray(b, dtype=object))


def binary(op: str, a: Any, b: Any, span: tuple[int, int], ctx: EvalContext) -> Any:
    """Apply a binary integer operator with the language's checks."""
    if type(a) is int and type(b) is int:
        return _binary_scalar(op, a, b, span)
    if isinstance(a, float) or isinstance(b, float):
        raise AsmError(span, f"operator '{op}' needs integers, not floats "
                       "(float literals are only allowed as immediate operands)")
    a = _as_int(a, span, f"the left operand of '{op}'")
    b = _as_int(b, span, f"the right operand of '{op}'")
    return _binary_vector(op, a, b, span, ctx)


def _binary_scalar(op: str, a: int, b: int, span: tuple[int, int]) -> int:
    if op == "+":
        r = a + b
    elif op == "-":
        r = a - b
    elif op == "*":
        r = a * b
    elif op in ("/", "%"):
        if b == 0:
            raise AsmError(span, "division by zero" if op == "/" else "modulo by zero")
        r = a // b if op == "/" else a % b
    elif op == "<<":
        if not 0 <= b <= 63:
            raise AsmError(span, f"shift amount {b} out of range (0..63)")
        r = a << b
    elif op == ">>":
        if b < 0:
            raise AsmError(span, f"shift amount {b} out of range (0..63)")
        r = a >> min(b, 63)
    elif op == "&":
        return a & b
    elif op == "|":
        return a | b
    else:  # "^"
        return a ^ b
    if not INT64_MIN <= r <= INT64_MAX:
        raise AsmError(span, _OVERFLOW)
    return r


def _binary_vector(op: str, a: Any, b: Any, span: tuple[int, int], ctx: EvalContext) -> Any:
    a64 = np.asarray(a, dtype=np.int64)
    b64 = np.asarray(b, dtype=np.int64)
    if op in ("+", "-", "*"):
        limit = _SAFE_MUL if op == "*" else _SAFE_ADD
        if _abs_max(a64) < limit and _abs_max(b64) < limit:
            return a64 + b64 if op == "+" else a64 - b64 if op == "-" else a64 * b64
        func = {"+": lambda x, y: x + y, "-": lambda x, y: x - y, "*": lambda x, y: x * y}[op]
        exact = _exact(func, a64, b64)
        bad = np.frompyfunc(lambda v: not INT64_MIN <= v <= INT64_MAX, 1, 1)(exact).astype(bool)
        _check(ctx, bad, span, _OVERFLOW)
        return exact.astype(np.int64)
    if op in ("/", "%"):
        _check(ctx, b64 == 0, span, "division by zero" if op == "/" else "modulo by zero")
        _check(ctx, (a64 == INT64_MIN) & (b64 == -1), span, _OVERFLOW)
        return np.floor_divide(a64, b64) if op == "/" else np.remainder(a64, b64)
    if op == "<<":
        _check(ctx, (b64 < 0) | (b64 > 63), span, "shift amount {v} out of range (0..63)",
               b64)
        r = np.left_shift(a64, b64)
        _check(ctx, np.right_shift(r, b64) != a64, span, _OVERFLOW)
        return r
    if op == ">>":
        _check(ctx, b64 < 0, span, "shift amount {v} out of range (0..63)", b64)
        return np.right_shift(a64, np.minimum(b64, 63))
    if op == "&":
        return a64 & b64
    if op == "|":
        return a64 | b64
    return a64 ^ b64


def unary(op: str, a: Any, span: tuple[int, int], ctx: EvalContext) -> Any:
    """Apply a unary operator (- + ~); - and + also work on floats."""
    if isinstance(a, float):
        if op == "~":
            raise AsmError(span, "operator '~' needs an integer, not a float")
        return -a if op == "-" else a
    a = _as_int(a, span, f"the operand of '{op}'")
    if op == "+":
        return a
    if op == "~":
        return ~a
    if isinstance(a, np.ndarray):
        _check(ctx, a == INT64_MIN, span, _OVERFLOW)
        return -a
    if a == INT64_MIN:
        raise AsmError(span, _OVERFLOW)
    return -a


# ---------------------------------------------------------------------------------------------
# Syntax nodes. Positions are columns on the statement's line (1-based, `end` exclusive), so a
# parsed line does not depend on its line number and identical lines can share their nodes.


@dataclass(slots=True)
class Num:
    """An integer literal (`value` None when the literal has too many digits)."""

    value: int | None
    col: int
    end: int

    def ev(self, ctx: EvalContext) -> Any:
        """Its value (checked to fit 64 bits)."""
        v = self.value
        if v is None or not INT64_MIN <= v <= INT64_MAX:
            raise AsmError((self.col, self.end), "integer literal out of range (64-bit signed)")
        return v

    def names(self) -> bool:
        """Whether the node refers to any symbol (else it is a constant)."""
        return False


@dataclass(slots=True)
class Flt:
    """A float literal; its float32 bits are used where an immediate is expected."""

    value: float
    col: int
    end: int

    def ev(self, ctx: EvalContext) -> Any:
        """Its value."""
        return self.value

    def names(self) -> bool:
        """Constant."""
        return False


@dataclass(slots=True)
class Name:
    """A symbol reference: .equ constant, loop variable or macro parameter."""

    id: str
    col: int
    end: int

    def ev(self, ctx: EvalContext) -> Any:
        """The symbol's value, aligned to the current loop depth."""
        value = ctx.lookup(self.id)
        if value is None:
            hint = suggest(self.id, ctx.visible_names())
            raise AsmError((self.col, self.end), f"unknown symbol '{self.id}'{hint}")
        return align(value, ctx.ndim)

    def names(self) -> bool:
        """Refers to a symbol."""
        return True


@dataclass(slots=True)
class Reg:
    """A register-like operand: `v3`, `m1`, `b2` or computed `v(expr)`; `text` is the plain
    spelling (`v3`) when it was written as one word, else None."""

    kind: str
    index: Any
    col: int
    end: int
    text: str | None = None
    _const: Any = field(default=None, compare=False, repr=False)

    def ev(self, ctx: EvalContext) -> Any:
        """RegV(kind, index)."""
        if self._const is not None:
            return self._const
        span = (self.col, self.end)
        if self.kind not in REG_KINDS:
            raise AsmError(span, f"'{self.kind}(...)' is not an operand: only v(...), m(...) "
                           "and b(...) take an index")
        idx = _as_int(self.index.ev(ctx), span, f"the index of {REG_KINDS[self.kind]}")
        value = RegV(self.kind, idx)
        if not self.index.names():
            self._const = value
        return value

    def names(self) -> bool:
        """Whether the index refers to a symbol."""
        return self.index.names()


@dataclass(slots=True)
class Unary:
    """`-x`, `+x`, `~x`."""

    op: str
    operand: Any
    col: int
    end: int

    def ev(self, ctx: EvalContext) -> Any:
        """Evaluate."""
        return unary(self.op, self.operand.ev(ctx), (self.col, self.end), ctx)

    def names(self) -> bool:
        """Whether any operand refers to a symbol."""
        return self.operand.names()


@dataclass(slots=True)
class Binary:
    """`a op b` for + - * / % << >> & | ^."""

    op: str
    left: Any
    right: Any
    col: int
    end: int

    def ev(self, ctx: EvalContext) -> Any:
        """Evaluate."""
        return binary(self.op, self.left.ev(ctx), self.right.ev(ctx), (self.col, self.end), ctx)

    def names(self) -> bool:
        """Whether any operand refers to a symbol."""
        return self.left.names() or self.right.names()


@dataclass(slots=True)
class Str:
    """A double-quoted string (escapes already decoded)."""

    value: str
    col: int
    end: int

    def ev(self, ctx: EvalContext) -> Any:
        """The string."""
        return self.value

    def names(self) -> bool:
        """Constant."""
        return False


@dataclass(slots=True)
class Mem:
    """A memory operand `[row, col]`."""

    row: Any
    column: Any
    col: int
    end: int

    def ev(self, ctx: EvalContext) -> Any:
        """MemV(row, col); both must be integers."""
        row = _as_int(self.row.ev(ctx), (self.row.col, self.row.end), "a row")
        col = _as_int(self.column.ev(ctx), (self.column.col, self.column.end), "a column")
        return MemV(row, col)

    def names(self) -> bool:
        """Whether row or column refers to a symbol."""
        return self.row.names() or self.column.names()


@dataclass(slots=True)
class KeyVal:
    """`key=value` (directive settings, `.for` headers and named macro arguments)."""

    key: str
    value: Any
    col: int
    end: int

    def ev(self, ctx: EvalContext) -> Any:
        """Not a value: only some directives accept key=value."""
        raise AsmError((self.col, self.end), f"unexpected '{self.key}=...' here")

    def names(self) -> bool:
        """Whether the value refers to a symbol."""
        return self.value.names()


@dataclass(slots=True)
class Range:
    """`start:stop` (row ranges of region directives)."""

    start: Any
    stop: Any
    col: int
    end: int

    def ev(self, ctx: EvalContext) -> Any:
        """Not a value: only region directives accept ranges."""
        raise AsmError((self.col, self.end), "a range 'a:b' is not allowed here")

    def names(self) -> bool:
        """Whether either bound refers to a symbol."""
        return self.start.names() or self.stop.names()
