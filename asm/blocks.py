"""Flat statements -> block tree: `.macro`/`.endm`, `.for`/`.endfor`, `.rept`/`.endr`.

Blocks never span files. Mismatched or missing terminators are reported with a note at the
block's opening line; a stray terminator is ignored so the rest of the file is still checked.
"""

from __future__ import annotations

from typing import Any

from .diagnostics import Diagnostic
from .nodes import Directive, Loop, MacroDef

OPENERS = {".for": ".endfor", ".rept": ".endr", ".macro": ".endm"}
CLOSERS = {v: k for k, v in OPENERS.items()}


def _opener_name(stmt: Any) -> str:
    return ".macro" if isinstance(stmt, MacroDef) else stmt.header.name


def _opener_loc(stmt: Any) -> Any:
    return stmt.loc() if isinstance(stmt, MacroDef) else stmt.header.loc()


def build_blocks(stmts: list[Any]) -> tuple[list[Any], list[Diagnostic]]:
    """The top-level items of a file (statements, Loop and MacroDef blocks) and errors."""
    root: list[Any] = []
    stack: list[tuple[Any, list[Any]]] = [(None, root)]
    diags: list[Diagnostic] = []
    for st in stmts:
        current = stack[-1][1]
        if isinstance(st, MacroDef):
            current.append(st)
            stack.append((st, st.body))
        elif isinstance(st, Directive) and st.name in (".for", ".rept"):
            loop = Loop(st, [])
            current.append(loop)
            stack.append((loop, loop.body))
        elif isinstance(st, Directive) and st.name in CLOSERS:
            if st.operands:
                first = st.operands[0]
                diags.append(Diagnostic("error", st.loc((first.col, st.operands[-1].end)),
                                        f"'{st.name}' takes no operands"))
            opener = stack[-1][0]
            want = CLOSERS[st.name]
            if opener is not None and _opener_name(opener) == want:
                stack.pop()
            elif opener is None:
                diags.append(Diagnostic("error", st.loc(), f"'{st.name}' without an open "
                                        f"'{want}'"))
            else:
                name = _opener_name(opener)
                diags.append(Diagnostic(
                    "error", st.loc(),
                    f"'{st.name}' cannot close '{name}' (expected '{OPENERS[name]}')",
                    [(_opener_loc(opener), f"'{name}' opened here")]))
        else:
            current.append(st)
    for opener, _body in reversed(stack[1:]):
        name = _opener_name(opener)
        diags.append(Diagnostic("error", _opener_loc(opener),
                                f"'{name}' without a matching '{OPENERS[name]}'"))
    return root, diags
