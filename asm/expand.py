"""The expansion pass: runs the block tree (macros, loops, includes, directives) and emits
records, vectorised over loop iterations.

A `.for`/`.rept` body runs once for all iterations: the loop variable is a numpy array along a
new axis, every expression is evaluated on arrays, and each instruction emits one record per
iteration at once (asm/emit.py lays them out in program order). Nested loops add axes. If a
nested loop's bounds differ between iterations (say `.for j = 0, i`), the body cannot run as
one batch: its diagnostics are rolled back and the loop runs its iterations in groups with
equal inner bounds, or one at a time (the reference semantics, which every batch reproduces
exactly), and merges the records back into iteration order.

Kernel parameters: `.default NAME, value` (top level only) declares a global symbol whose value
a define (`-D NAME=VALUE`, the `defines` argument) replaces; `.equ` declares a constant, which a
define may not replace (an error at the `.equ`).

Scopes: `.equ` at the top level defines global symbols; inside a loop body or macro expansion
it defines a symbol local to that iteration/expansion. Macro bodies see their parameters, their
own locals and the globals (not the caller's loop variables: pass them as arguments).
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from pimisa.arch import DEFAULT_ARCH, Arch, load_arch
from pimisa.errors import InputError
from pimisa.fileio import read_regular
from pimisa.isa import BY_MNEMONIC
from pimisa.program import Program

from .blocks import build_blocks
from .diagnostics import (
    AsmError,
    Diagnostic,
    Diagnostics,
    Loc,
    TooManyErrors,
    suggest,
)
from .emit import MAX_COMMANDS, Counter, ProgramTooLarge, Sink, split
from .expr import INT64_MAX, INT64_MIN, KeyVal, Name, Reg, Str, describe
from .instr import Encoder, mnemonics, resolve
from .meta import REGION_KINDS, MetaState, word
from .nodes import Directive, Instr, Loop, MacroDef, SourceFile
from .parse import is_register_name, parse_lines

MAX_MACRO_DEPTH = 64
MAX_INCLUDE_DEPTH = 32
MAX_LOOP_DEPTH = 32  # (each vectorised loop is an array axis; numpy allows 64)
DIRECTIVES = (".arch", ".kernel", ".input", ".output", ".scratch", ".param", ".equ",
              ".default", ".include", ".macro", ".endm", ".for", ".endfor", ".rept", ".endr")


_TOO_DEEP = "expression or expansion nested too deeply"
_DEFINE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_MAX_FILES = 1 << 16  # the source map stores file indices in 16 bits


class NonUniform(Exception):
    """A nested loop's bounds vary across a vectorised batch.

    `values` are the loop header's values (ints or arrays aligned to the batch's axes).
    """

    def __init__(self, values: list[Any]) -> None:
        super().__init__("non-uniform loop bounds")
        self.values = values

    def axes(self) -> set[int]:
        """The batch axes along which some header value varies."""
        out = set()
        for v in self.values:
            if isinstance(v, np.ndarray):
                for axis in range(v.ndim):
                    if v.shape[axis] > 1 and np.ptp(v, axis=axis).any():
                        out.add(axis)
        return out

    def groups(self, axis: int, n: int) -> list[np.ndarray]:
        """Indices along `axis` (of length n) grouped by equal header values, in order."""
        keys = []
        for v in self.values:
            if isinstance(v, np.ndarray) and v.ndim > axis and v.shape[axis] > 1:
                index = tuple(slice(None) if a == axis else 0 for a in range(v.ndim))
                keys.append(v[index])
            else:
                keys.append(np.zeros(n, dtype=np.int64))
        _, inverse = np.unique(np.stack(keys, axis=1), axis=0, return_inverse=True)
        inverse = inverse.reshape(-1)
        return [np.flatnonzero(inverse == g) for g in range(int(inverse.max()) + 1)]


@dataclass(frozen=True, slots=True)
class Frame:
    """One level of expansion, for diagnostics notes."""

    kind: str  # "macro" | "include" | "for" | "rept"
    loc: Loc
    name: str = ""  # macro name, include file or loop variable
    axis: int = -1  # axis of a vectorised loop, -1 when iterated one by one
    values: Any = None  # vectorised: the loop's values; else: the current value
    count: int = 0  # iterations of a loop


class Scope:
    """Symbols of one level (global, macro expansion, loop iteration), chained outward."""

    __slots__ = ("vars", "defs", "parent", "hints")

    def __init__(self, parent: Scope | None = None) -> None:
        self.vars: dict[str, Any] = {}
        self.defs: dict[str, Loc] = {}
        self.parent = parent
        self.hints: list[str] = []  # more names for "did you mean" (the register names)

    def lookup(self, name: str) -> Any:
        """The innermost binding of `name`, or None."""
        scope: Scope | None = self
        while scope is not None:
            value = scope.vars.get(name)
            if value is not None:
                return value
            scope = scope.parent
        return None


class Ctx:
    """Where a statement runs: scope, loop axes (`dims`), expansion frames."""

    __slots__ = ("scope", "dims", "ndim", "frames", "in_loop", "macro_depth", "includes",
                 "stack")

    def __init__(self, scope: Scope, dims: tuple[int, ...], frames: tuple[Frame, ...],
                 in_loop: bool, macro_depth: int, includes: tuple[str, ...]) -> None:
        self.scope = scope
        self.dims = dims
        self.ndim = len(dims)
        self.frames = frames
        self.in_loop = in_loop
        self.macro_depth = macro_depth
        self.includes = includes
        self.stack: int | None = None  # id of the macro call sites (Assembler.stack_id)

    def lookup(self, name: str) -> Any:
        """A symbol's value or None."""
        return self.scope.lookup(name)

    def visible_names(self) -> list[str]:
        """Every symbol name in scope (for suggestions)."""
        out: list[str] = []
        scope: Scope | None = self.scope
        while scope is not None:
            out += scope.vars
            out += scope.hints
            scope = scope.parent
        return out

    def first_bad(self, bad: np.ndarray) -> int:
        """Flat index (in program order) of the first instance where `bad` is set."""
        return int(np.argmax(np.broadcast_to(bad, self.dims)))

    def notes(self, instance: int | None) -> list[tuple[Loc, str]]:
        """Notes for the expansion frames, innermost first, at loop instance `instance`."""
        out: list[tuple[Loc, str]] = []
        pos: tuple[Any, ...] | None = None
        for f in reversed(self.frames):
            if f.kind == "macro":
                out.append((f.loc, f"in expansion of macro '{f.name}'"))
            elif f.kind == "include":
                out.append((f.loc, f"in file '{f.name}' included from here"))
            else:
                if f.axis >= 0:
                    if pos is None:
                        pos = np.unravel_index(instance or 0, self.dims)
                    value = int(f.values[pos[f.axis]])
                else:
                    value = f.values
                text = (f"in .for iteration {f.name} = {value}" if f.kind == "for"
                        else f"in .rept iteration {value} (of 0..{f.count - 1})")
                out.append((f.loc, text))
        return out


def _int_value(node: Any, ctx: Ctx, what: str) -> Any:
    """An integer (or int64 array) operand of a loop header."""
    value = node.ev(ctx)
    if not isinstance(value, (int, np.ndarray)):
        raise AsmError((node.col, node.end), f"{what} must be an integer, got {describe(value)}")
    return value


def _uniform(values: list[Any]) -> list[int]:
    """The header values as ints, if each is the same in every instance (else NonUniform)."""
    out = []
    for v in values:
        if isinstance(v, np.ndarray):
            lo, hi = int(v.min()), int(v.max())
            if lo != hi:
                raise NonUniform(values)
            v = lo
        out.append(v)
    return out


def _interleave(parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]],
                dims: tuple[int, ...], n: int) -> tuple[np.ndarray, np.ndarray]:
    """Merge per-group loop blocks back into iteration order.

    `parts` are (iteration indices, block of shape dims + (records,), records of each of
    those iterations, in order); returns the merged block and every iteration's record count.
    A group's iterations may emit different counts (when the group was split further).
    """
    width = np.zeros(n, dtype=np.int64)
    for idx, _block, counts in parts:
        width[idx] = counts
    starts = np.concatenate(([0], np.cumsum(width)[:-1]))
    out = np.empty(dims + (int(width.sum()),), dtype=parts[0][1].dtype)
    for idx, block, counts in parts:
        pos = np.concatenate([starts[i] + np.arange(c) for i, c in zip(idx, counts,
                                                                        strict=True)])
        out[..., pos.astype(np.int64)] = block
    return out, width


def decode_source(data: bytes, name: str) -> tuple[str, list[Diagnostic], set[int]]:
    """Text of a source file; invalid UTF-8 gives one error per bad line (and skips it)."""
    try:
        return data.decode("utf-8"), [], set()
    except UnicodeDecodeError:
        pass
    lines, diags, bad = [], [], set()
    for number, raw in enumerate(data.split(b"\n"), 1):
        try:
            lines.append(raw.decode("utf-8"))
        except UnicodeDecodeError as exc:
            lines.append(raw.decode("utf-8", errors="replace"))
            bad.add(number)
            col = len(raw[: exc.start].decode("utf-8", errors="replace")) + 1
            diags.append(Diagnostic("error", Loc(name, number, col, col + 1),
                                    f"invalid UTF-8 byte {raw[exc.start]:#04x}"))
    return "\n".join(lines), diags, bad


# Symbols every source sees, set from the target geometry (and reset by `.arch`), so a kernel
# can compute word addresses without hard-coding one architecture's row width.
ARCH_SYMBOLS = {"COLS": "cols", "LANES": "lanes", "LANE_BITS": "lane_bits",
                "VREGS": "vector_registers", "MREGS": "mask_registers", "BANKS": "banks",
                "BANK_ROWS": "rows", "UNIT_BANKS": "banks_per_pim_unit"}


class Assembler:
    """One assembly run: global state shared by all files and expansions."""

    def __init__(self, arch: Arch | None, defines: dict[str, int] | None = None) -> None:
        self.diag = Diagnostics()
        self.file_diags: list[Diagnostic] = []  # parse errors (never rolled back)
        self.forced = arch is not None
        self.arch = arch if arch is not None else load_arch(DEFAULT_ARCH)
        self.encoder = Encoder(self.arch.geometry)
        self.locked = False  # an instruction was seen: `.arch` may no longer change it
        self.globals = Scope()
        self._set_hints()
        for key, value in (defines or {}).items():
            if not _DEFINE_NAME.fullmatch(key) or is_register_name(key) or \
                    type(value) is not int or not INT64_MIN <= value <= INT64_MAX:
                raise InputError(f"define {key}={value!r}: need a symbol name and a 64-bit "
                                 "integer")
            self.globals.vars[key] = value
        self.defines = dict(defines or {})
        self.macros: dict[str, MacroDef] = {}
        self.meta = MetaState()
        self.files: list[SourceFile] = []
        self.loaded: dict[str, list[Any]] = {}
        self.counter = Counter()
        self.stacks: list[tuple[tuple[str, Loc], ...]] = [()]  # macro call sites by stack id
        self._stack_ids: dict[tuple[tuple[str, Loc], ...], int] = {(): 0}
        self.record_stacks: np.ndarray | None = None  # stack id of every record

    # --- files ---------------------------------------------------------------------------

    def add_source(self, name: str, text: str, directory: Path, key: str,
                   bad_lines: set[int] | None = None) -> list[Any]:
        """Parse a file and build its block tree (syntax errors go to file_diags)."""
        lines = [line[:-1] if line.endswith("\r") else line for line in text.split("\n")]
        src = SourceFile(name, len(self.files), lines, directory, key)
        self.files.append(src)
        stmts, diags = parse_lines(src, bad_lines)
        items, block_diags = build_blocks(stmts)
        self.file_diags += diags + block_diags
        self.loaded[key] = items
        return items

    def lines_of(self) -> dict[str, list[str]]:
        """Source lines by file name, for rendering diagnostics."""
        return {s.name: s.lines for s in self.files}

    # --- running -------------------------------------------------------------------------

    def run(self, text: str, name: str, directory: Path, key: str,
            pre_diags: list[Diagnostic] | None = None,
            bad_lines: set[int] | None = None) -> Program | None:
        """Assemble a main file; the Program, or None when there were errors."""
        program = None
        self.file_diags += pre_diags or []
        try:
            items = self.add_source(name, text, directory, key, bad_lines)
            ctx = Ctx(self.globals, (), (), False, 0, (key,))
            sink = Sink((), self.counter)
            self.exec_body(items, ctx, sink)
            records, srcmap, self.record_stacks = split(sink.result())
            default = "" if name.startswith("<") else Path(name).stem
            meta = self.meta.kernel_meta(default, self.arch.name)
            program = Program(records, meta, srcmap, [s.name for s in self.files],
                              self.arch.geometry.lane_bits)
            self.meta.check(program, self.arch.geometry, self.diag)
        except (_Stop, TooManyErrors):
            pass
        except RecursionError:  # a safety net: every nesting has a limit well below this
            self.diag.errors += 1
            self.diag.items.append(Diagnostic("error", None, _TOO_DEEP))
        try:
            for d in self.file_diags:
                self.diag.add(d)
        except TooManyErrors:
            pass
        return program if self.diag.errors == 0 else None

    def exec_body(self, items: list[Any], ctx: Ctx, sink: Sink) -> None:
        """Run statements and blocks in order."""
        for it in items:
            t = type(it)
            if t is Instr:
                self.exec_instr(it, ctx, sink)
            elif t is Directive:
                self.exec_directive(it, ctx, sink)
            elif t is Loop:
                self.exec_loop(it, ctx, sink)
            else:
                self.define_macro(it, ctx)

    def report(self, exc: AsmError, stmt: Any, ctx: Ctx) -> None:
        """Record an error raised while running `stmt` (with the expansion notes)."""
        loc = stmt.loc(exc.span)
        self.diag.error(loc, exc.message, exc.notes + ctx.notes(exc.instance))
        if isinstance(exc, ProgramTooLarge):
            raise _Stop

    def exec_instr(self, st: Instr, ctx: Ctx, sink: Sink) -> None:
        """Emit one instruction (or expand a macro call)."""
        cached = st.cache
        if cached:
            try:
                sink.add((*cached, self.stack_id(ctx)))
            except ProgramTooLarge as exc:
                self.report(exc, st, ctx)
            return
        try:
            spec = resolve(st)
            if spec is None:
                mdef = self.macros.get(st.mnemonic)
                if mdef is None:
                    hint = suggest(st.mnemonic, mnemonics() + list(self.macros))
                    raise AsmError((st.col, st.end), f"unknown mnemonic '{st.mnemonic}'{hint}")
                self.expand_macro(st, mdef, ctx, sink)
                return
            self.locked = True
            rec = self.encoder.encode(st, spec, ctx)
            if cached is None and ctx.frames:  # (top-level statements run only once)
                const = not any(n.names() for n in st.operands) and \
                    not any(s.target.names() for s in st.suffixes)
                st.cache = tuple(rec) if const else False
            sink.add((*rec, self.stack_id(ctx)))
        except AsmError as exc:
            self.report(exc, st, ctx)
        except RecursionError:
            self.report(AsmError(None, _TOO_DEEP), st, ctx)

    def stack_id(self, ctx: Ctx) -> int:
        """The id of the macro call sites (name, call location) that `ctx` is expanding."""
        if ctx.stack is None:
            key = tuple((f.name, f.loc) for f in ctx.frames if f.kind == "macro")
            found = self._stack_ids.get(key)
            if found is None:
                found = self._stack_ids[key] = len(self.stacks)
                self.stacks.append(key)
            ctx.stack = found
        return ctx.stack

    # --- macros --------------------------------------------------------------------------

    def define_macro(self, m: MacroDef, ctx: Ctx) -> None:
        """Register a macro definition (top level only)."""
        try:
            if ctx.in_loop or ctx.macro_depth:
                raise AsmError(None, "'.macro' must be at the top level (not inside a "
                               ".macro, .for or .rept body)")
            span = (m.name_col, m.name_col + len(m.name))
            if m.broken and (not m.name or m.name in self.macros or m.name in BY_MNEMONIC):
                return
            if m.name in BY_MNEMONIC:
                raise AsmError(span, f"macro name '{m.name}' is an instruction mnemonic")
            if is_register_name(m.name):
                raise AsmError(span, f"macro name '{m.name}' is a register name")
            if m.name in self.macros:
                raise AsmError(span, f"macro '{m.name}' is already defined",
                               notes=[(self.macros[m.name].loc(), "previous definition")])
            seen: set[str] = set()
            for p in m.params:
                if p.name in seen:
                    raise AsmError((p.col, p.end), f"duplicate parameter '{p.name}'")
                if is_register_name(p.name):
                    raise AsmError((p.col, p.end), f"parameter '{p.name}' is a register name")
                seen.add(p.name)
            self.macros[m.name] = m
        except AsmError as exc:
            self.report(exc, m, ctx)

    def expand_macro(self, st: Instr, m: MacroDef, ctx: Ctx, sink: Sink) -> None:
        """Bind the arguments and run the macro body in a new scope."""
        if m.broken:
            return
        if st.suffixes:
            s = st.suffixes[0]
            raise AsmError((s.col, s.end), f"a macro call takes no ?mask or @bank suffix "
                           f"('{m.name}' is a macro)")
        if ctx.macro_depth >= MAX_MACRO_DEPTH:
            raise AsmError((st.col, st.end), f"macro expansion nested more than "
                           f"{MAX_MACRO_DEPTH} levels deep (is '{m.name}' recursive?)")
        signature = f"{m.name} " + ", ".join(
            p.name + ("=..." if p.default is not None else "") for p in m.params)
        scope = Scope(self.globals)
        names = [p.name for p in m.params]
        positional = [op for op in st.operands if not isinstance(op, KeyVal)]
        named = [op for op in st.operands if isinstance(op, KeyVal)]
        if positional and named and st.operands.index(named[0]) < st.operands.index(
                positional[-1]):
            raise AsmError((named[0].col, named[0].end),
                           "positional arguments must come before named ones")
        if len(positional) > len(names):
            extra = positional[len(names)]
            raise AsmError((extra.col, positional[-1].end),
                           f"macro '{m.name}' takes {len(names)} argument"
                           f"{'s' if len(names) != 1 else ''} ({signature.strip()}), "
                           f"got {len(positional) + len(named)}")
        for name, node in zip(names, positional, strict=False):
            scope.vars[name] = node.ev(ctx)
        for kv in named:
            if kv.key not in names:
                raise AsmError((kv.col, kv.end), f"macro '{m.name}' has no parameter "
                               f"'{kv.key}'{suggest(kv.key, names)}")
            if kv.key in scope.vars:
                raise AsmError((kv.col, kv.end), f"argument '{kv.key}' given twice")
            scope.vars[kv.key] = kv.value.ev(ctx)
        frames = ctx.frames + (Frame("macro", st.loc(), m.name),)
        mctx = Ctx(scope, ctx.dims, frames, ctx.in_loop, ctx.macro_depth + 1, ctx.includes)
        for p in m.params:
            if p.name in scope.vars:
                continue
            if p.default is None:
                raise AsmError((st.col, st.end), f"missing argument '{p.name}' in call to "
                               f"macro '{m.name}' ({signature.strip()})",
                               notes=[(m.loc((m.name_col, m.name_col + len(m.name))),
                                       "macro defined here")])
            try:
                scope.vars[p.name] = p.default.ev(mctx)
            except AsmError as exc:
                raise AsmError((st.col, st.end), f"default value of parameter '{p.name}': "
                               f"{exc.message}", exc.instance,
                               notes=[(m.loc(exc.span), "default value given here")]) from None
        self.exec_body(m.body, mctx, sink)

    # --- loops ---------------------------------------------------------------------------

    def _loop_range(self, loop: Loop, ctx: Ctx) -> tuple[str | None, range]:
        st = loop.header
        ops = st.operands
        if loop.kind == "rept":
            if len(ops) != 1:
                raise AsmError(None, "expected '.rept COUNT'")
            (count,) = _uniform([_int_value(ops[0], ctx, "the repeat count")])
            if count < 0:
                raise AsmError((ops[0].col, ops[0].end), f"repeat count {count} is negative")
            return None, range(count)
        usage = "expected '.for NAME = start, stop[, step]' (stop is exclusive)"
        if not 2 <= len(ops) <= 3 or not isinstance(ops[0], KeyVal):
            raise AsmError(None, usage)
        var = ops[0].key
        if is_register_name(var):
            raise AsmError((ops[0].col, ops[0].col + len(var)),
                           f"loop variable '{var}' is a register name")
        raw = [_int_value(ops[0].value, ctx, "the loop start"),
               _int_value(ops[1], ctx, "the loop end")]
        raw.append(_int_value(ops[2], ctx, "the loop step") if len(ops) == 3 else 1)
        start, stop, step = _uniform(raw)
        if step == 0:
            raise AsmError((ops[2].col, ops[2].end), "the loop step must not be zero")
        return var, range(start, stop, step)

    def exec_loop(self, loop: Loop, ctx: Ctx, sink: Sink) -> None:
        """Run a .for/.rept block, vectorised when possible."""
        st = loop.header
        if st.broken:
            return
        try:
            if sum(f.kind in ("for", "rept") for f in ctx.frames) >= MAX_LOOP_DEPTH:
                raise AsmError(None, f"loops nested more than {MAX_LOOP_DEPTH} deep")
            var, rng = self._loop_range(loop, ctx)
            n = len(rng)
            total = math.prod(ctx.dims) * n
            if total > MAX_COMMANDS:
                nested = f" ({total} with the enclosing loops)" if ctx.dims else ""
                raise AsmError(None, f"loop of {n} iterations{nested} is too large (limit "
                               f"{MAX_COMMANDS})")
        except AsmError as exc:
            self.report(exc, st, ctx)
            return
        except RecursionError:
            self.report(AsmError(None, _TOO_DEEP), st, ctx)
            return
        if n:
            values = np.arange(rng.start, rng.stop, rng.step, dtype=np.int64)
            sink.add_block(self._loop_block(loop, ctx, var, values, n)[0])

    def _loop_block(self, loop: Loop, ctx: Ctx, var: str | None, values: np.ndarray,
                    count: int) -> tuple[np.ndarray, np.ndarray]:
        """The records of the loop's iterations `values`, shape ctx.dims + (W,), and the
        records each iteration emitted.

        All iterations at once if possible. If a nested loop's bounds vary along this loop's
        axis only, the iterations are grouped by those bounds and each group is run at once;
        if they also vary along a deeper axis, one iteration at a time; if they vary along an
        outer axis, NonUniform goes up to the enclosing loop.
        """
        n = len(values)
        mark, counted = self.diag.mark(), self.counter.n
        scope = Scope(ctx.scope)
        if var is not None:
            scope.vars[var] = values.reshape((1,) * ctx.ndim + (n,))
        frame = Frame(loop.kind, loop.header.loc(), var or "", ctx.ndim, values, count)
        sub = Ctx(scope, ctx.dims + (n,), ctx.frames + (frame,), True, ctx.macro_depth,
                  ctx.includes)
        body = Sink(sub.dims, self.counter)
        try:
            self.exec_body(loop.body, sub, body)
            block = body.result()
            return block.reshape(ctx.dims + (-1,)), np.full(n, block.shape[-1], np.int64)
        except NonUniform as exc:
            self.diag.rollback(mark)
            self.counter.n = counted
            axes = exc.axes()
            if any(a < ctx.ndim for a in axes):
                raise
            if axes == {ctx.ndim}:
                groups = exc.groups(ctx.ndim, n)
                return _interleave([(idx, *self._loop_block(loop, ctx, var, values[idx], count))
                                    for idx in groups], ctx.dims, n)
        parts = []
        for v in values.tolist():
            scope = Scope(ctx.scope)
            if var is not None:
                scope.vars[var] = v
            frame = Frame(loop.kind, loop.header.loc(), var or "", -1, v, count)
            sub = Ctx(scope, ctx.dims, ctx.frames + (frame,), True, ctx.macro_depth,
                      ctx.includes)
            one = Sink(ctx.dims, self.counter)
            self.exec_body(loop.body, sub, one)
            parts.append(one.result())
        counts = np.array([p.shape[-1] for p in parts], np.int64)
        return np.concatenate(parts, axis=-1), counts

    # --- directives ----------------------------------------------------------------------

    def exec_directive(self, st: Directive, ctx: Ctx, sink: Sink) -> None:
        """Run one directive."""
        if st.broken:  # a region declaration with a syntax error (already reported)
            self.meta.incomplete = True
            return
        try:
            name = st.name
            if name == ".equ":
                self.d_equ(st, ctx)
            elif name == ".default":
                self.d_default(st, ctx)
            elif name == ".include":
                self.d_include(st, ctx, sink)
            elif name in (".kernel", ".param", ".arch") or name in REGION_KINDS:
                if ctx.in_loop:
                    raise AsmError(None, f"'{name}' is not allowed inside a .for/.rept body")
                if name == ".kernel":
                    self.meta.kernel_directive(st, ctx)
                elif name == ".param":
                    self.meta.param_directive(st, ctx)
                elif name == ".arch":
                    self.d_arch(st)
                else:
                    self.meta.region_directive(st, ctx)
            else:
                raise AsmError(None, f"unknown directive '{name}'{suggest(name, DIRECTIVES)}")
        except AsmError as exc:
            self.report(exc, st, ctx)
            if st.name in REGION_KINDS:
                self.meta.incomplete = True
        except RecursionError:
            self.report(AsmError(None, _TOO_DEEP), st, ctx)

    def d_equ(self, st: Directive, ctx: Ctx) -> None:
        """`.equ NAME, value`."""
        ops = st.operands
        if len(ops) != 2 or not isinstance(ops[0], (Name, Reg)):
            raise AsmError(None, "expected '.equ NAME, value'")
        if isinstance(ops[0], Reg):
            raise AsmError((ops[0].col, ops[0].end), f"'{word(ops[0]) or 'v(...)'}' is a "
                           "register name, not a symbol name")
        name = ops[0].id
        value = ops[1].ev(ctx)
        scope = ctx.scope
        if scope is self.globals and name in self.defines and name not in scope.defs:
            raise AsmError((ops[0].col, ops[0].end), f"'{name}' is a constant (.equ): a define "
                           f"(-D {name}=...) cannot change it; declare it with "
                           f"'.default {name}, value' to make it a kernel parameter")
        if name in scope.vars:
            previous = scope.defs.get(name)
            notes = [(previous, "previous definition")] if previous else []
            raise AsmError((ops[0].col, ops[0].end), f"redefinition of '{name}'", notes=notes)
        scope.vars[name] = value
        scope.defs[name] = st.loc((ops[0].col, ops[0].end))

    def d_default(self, st: Directive, ctx: Ctx) -> None:
        """`.default NAME, value`: a kernel parameter; a define of NAME overrides the value."""
        ops = st.operands
        if len(ops) != 2 or not isinstance(ops[0], Name):
            raise AsmError(None, "expected '.default NAME, value'")
        if ctx.in_loop or ctx.macro_depth:
            raise AsmError(None, "'.default' is only allowed at the top level (not inside a "
                           ".macro, .for or .rept body)")
        name = ops[0].id
        span = (ops[0].col, ops[0].end)
        scope = self.globals
        if name in scope.defs or (name in scope.vars and name not in self.defines):
            previous = scope.defs.get(name)
            notes = [(previous, "previous definition")] if previous else []
            raise AsmError(span, f"redefinition of '{name}'", notes=notes)
        if name not in self.defines:
            scope.vars[name] = ops[1].ev(ctx)
        scope.defs[name] = st.loc(span)

    def d_include(self, st: Directive, ctx: Ctx, sink: Sink) -> None:
        """`.include "file"`, relative to the including file."""
        if len(st.operands) != 1 or not isinstance(st.operands[0], Str):
            raise AsmError(None, "expected '.include \"file\"'")
        rel = st.operands[0].value
        span = (st.operands[0].col, st.operands[0].end)
        src = st.src
        assert src is not None
        path = src.directory / rel
        try:
            key = os.path.realpath(path)
        except (OSError, ValueError) as exc:
            raise AsmError(span, f"cannot read '{rel}': {exc}") from None
        display = rel if src.name.startswith("<") else os.path.normpath(
            os.path.join(os.path.dirname(src.name), rel))
        if key in ctx.includes:
            chain = [f.name for f in ctx.frames if f.kind == "include"]
            names = [self.files[0].name] + chain + [display]
            raise AsmError(span, "include cycle: " + " -> ".join(names))
        if len(ctx.includes) > MAX_INCLUDE_DEPTH:
            raise AsmError(span, f"includes nested more than {MAX_INCLUDE_DEPTH} levels deep")
        items = self.loaded.get(key)
        if items is None:
            if len(self.files) >= _MAX_FILES:
                raise AsmError(span, f"more than {_MAX_FILES} source files")
            try:
                data = read_regular(path, "source")
            except InputError as exc:
                reason = str(exc).removeprefix(f"{path}: ").removeprefix("cannot read: ")
                raise AsmError(span, f"cannot read '{display}': {reason}") from None
            text, diags, bad = decode_source(data, display)
            self.file_diags += diags
            items = self.add_source(display, text, path.parent, key, bad)
        frames = ctx.frames + (Frame("include", st.loc(span), display),)
        ictx = Ctx(ctx.scope, ctx.dims, frames, ctx.in_loop, ctx.macro_depth,
                   ctx.includes + (key,))
        self.exec_body(items, ictx, sink)

    def d_arch(self, st: Directive) -> None:
        """`.arch NAME` or `.arch "file.toml"` (relative to the source file)."""
        spec = word(st.operands[0], st) if len(st.operands) == 1 else None
        if spec is None:
            raise AsmError(None, "expected '.arch NAME' or '.arch \"file.toml\"'")
        if self.meta.arch is not None:
            raise AsmError(None, "duplicate '.arch'", notes=[(self.meta.arch, "first given here")])
        self.meta.arch = st.loc()
        if spec.endswith(".toml") or "/" in spec:
            assert st.src is not None
            spec = str(st.src.directory / spec)
        if self.forced and spec == self.arch.name:
            return
        try:
            arch = load_arch(spec)
        except (InputError, OSError, ValueError) as exc:
            raise AsmError((st.operands[0].col, st.operands[0].end), str(exc)) from None
        if self.forced:
            if arch.name != self.arch.name:
                self.diag.warning(st.loc(), f"ignoring '.arch {arch.name}': assembling for "
                                  f"'{self.arch.name}' as requested")
            return
        if self.locked:
            raise AsmError(None, "'.arch' must come before the first instruction")
        self.arch = arch
        self.encoder = Encoder(arch.geometry)
        self._set_hints()

    def _set_hints(self) -> None:
        """Register-name hints and the target's geometry symbols (ARCH_SYMBOLS)."""
        g = self.arch.geometry
        self.globals.hints = ([f"v{i}" for i in range(g.vector_registers)]
                              + [f"m{i}" for i in range(g.mask_registers)])
        for name, attr in ARCH_SYMBOLS.items():
            self.globals.vars[name] = getattr(g, attr)


class _Stop(Exception):
    """Abort the run (after a fatal error was reported)."""
