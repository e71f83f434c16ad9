"""The parser: the fast instruction-line parser agrees with the Lark grammar, line mapping."""

from __future__ import annotations

from pathlib import Path

import lark
from hypothesis import given
from hypothesis import strategies as st

from pimisa.asm.nodes import Instr, SourceFile
from pimisa.asm.parse import fast_parse_line, lark_parse, parse_lines

SPACE = st.sampled_from(["", " ", "  ", "\t", " \f"])
NAMES = st.sampled_from(["i", "x", "ROW", "_a1", "v", "m", "b", "v1", "m0", "b3", "v15", "foo",
                         "v01", "add", "ld"])
INTS = st.one_of(st.integers(0, 2**70).map(str), st.integers(0, 2**40).map(hex),
                 st.integers(0, 255).map(bin), st.integers(0, 64).map(oct).map(
                     lambda s: s.replace("0o", "0o")),
                 st.sampled_from(["1_000", "0xFF_FF", "0XaB", "0B1", "007"]))
FLOATS = st.sampled_from(["1.5", ".5", "3.", "1e5", "2.5e-3", "1_0.5", "1.e+2", "0.0"])
OPS = st.sampled_from(["+", "-", "*", "/", "%", "<<", ">>", "&", "|", "^"])


def _join(parts: tuple[str, ...]) -> str:
    return "".join(parts)


def expressions() -> st.SearchStrategy[str]:
    """Expression text over names, numbers, operators, parentheses and v(...)."""
    atoms = st.one_of(NAMES, INTS, FLOATS)
    return st.recursive(atoms, lambda inner: st.one_of(
        st.tuples(st.sampled_from(["-", "+", "~"]), SPACE, inner).map(_join),
        st.tuples(inner, SPACE, OPS, SPACE, inner).map(_join),
        st.tuples(st.just("("), SPACE, inner, SPACE, st.just(")")).map(_join),
        st.tuples(st.sampled_from(["v", "m", "b", "q"]), st.just("("), inner,
                  st.just(")")).map(_join),
    ), max_leaves=6)


def operands() -> st.SearchStrategy[str]:
    """Operand text: expressions, memory operands, strings, key=value, ranges."""
    e = expressions()
    return st.one_of(
        e,
        st.tuples(st.just("["), SPACE, e, SPACE, st.just(","), SPACE, e, SPACE,
                  st.just("]")).map(_join),
        st.sampled_from(['"s"', '"a b\\n"', '"\\"q\\\\"']),
        st.tuples(NAMES, SPACE, st.just("="), SPACE, e).map(_join),
        st.tuples(e, SPACE, st.just(":"), SPACE, e).map(_join),
    )


@st.composite
def lines(draw: st.DrawFn) -> str:
    """A (usually valid) instruction or macro-call line."""
    mnemonic = draw(st.sampled_from(["add", "ld", "cmp.gt", "cmpi.ltu", "nop", "x", "v1",
                                     "foo_bar", "a.b", "li"]))
    text = draw(SPACE) + mnemonic
    ops = draw(st.lists(operands(), max_size=4))
    if ops:
        sep = draw(SPACE) + "," + draw(SPACE)
        text += " " + draw(SPACE) + sep.join(ops)
    for _ in range(draw(st.integers(0, 2))):
        text += draw(SPACE) + draw(st.sampled_from(["?", "?!", "@", "? !"])) + draw(SPACE)
        text += draw(st.one_of(NAMES, INTS, st.just("(1 + 2)"), st.just("b(i)")))
    text += draw(SPACE) + draw(st.sampled_from(["", "; c", "# x ; y", ";"]))
    return text


def _lark(text: str) -> list | None:
    try:
        return lark_parse(text + "\n")
    except lark.UnexpectedInput:
        return None


def assert_agree(text: str) -> None:
    """fast_parse_line accepts exactly the instruction lines Lark accepts, same nodes."""
    fast = fast_parse_line(text)
    slow = _lark(text)
    if slow is None:
        assert fast is False, text
    elif not slow:
        assert fast is True, text
    elif isinstance(slow[0], Instr):
        assert isinstance(fast, Instr), text
        fast.line = slow[0].line
        assert fast == slow[0], text
    else:
        assert fast is False, text


@given(lines())
def test_fast_parser_agrees_with_lark_on_generated_lines(text):
    assert_agree(text)


@given(lines(), st.lists(st.tuples(st.integers(0, 200), st.sampled_from(
    list(" ,[]()?!@=:.+-*/%<>&|^~\"\\;#\t\f0123456789abvmxe_") + ["<<", ".5", "\x00", "é"])),
    min_size=1, max_size=4))
def test_fast_parser_agrees_with_lark_on_mutated_lines(text, edits):
    chars = list(text)
    for pos, piece in edits:
        chars.insert(pos % (len(chars) + 1), piece)
    assert_agree("".join(chars))


@given(st.text(max_size=40))
def test_fast_parser_agrees_with_lark_on_garbage(text):
    assert_agree(text.replace("\n", " ").replace("\r", " "))


def test_fast_parser_handles_typical_lines():
    for text in ["add v1, v2, v3", "ld v(i + 1), [W + 2 * i, (i << 1) & 31] ?!m0 @b(i % 16)",
                 "li v1, -1.5e3  ; comment", "mac acc=v1, a=v2", "cmp.gt m1,v2,v3?m0"]:
        assert isinstance(fast_parse_line(text), Instr)
        assert_agree(text)
    for text in [".equ X, 1", ".macro m a", "", "   ; just a comment", "add v1,"]:
        assert_agree(text)


def _source(text: str) -> SourceFile:
    return SourceFile("t.pimasm", 0, text.split("\n"), Path("."), "t")


def test_lines_keep_their_numbers_across_fast_and_lark_paths():
    text = "nop\n.equ A, 1\n\n  add v1, v2, v3\r\n.kernel k\n; c\nnop @b1\n"
    stmts, diags = parse_lines(_source(text))
    assert not diags
    assert [s.line for s in stmts] == [1, 2, 4, 5, 7]
    assert [type(s).__name__ for s in stmts] == ["Instr", "Directive", "Instr", "Directive",
                                                 "Instr"]


def test_every_syntax_error_is_reported_with_its_line():
    text = "add v1,,v2\n.equ A, 1\nli v1, 3x\n.kernel k\nnop\n.bad ("
    stmts, diags = parse_lines(_source(text))
    assert [(d.loc.line, d.loc.col) for d in diags] == [(1, 8), (3, 8), (6, 7)]
    assert [s.line for s in stmts] == [2, 4, 5]


def test_a_broken_block_opener_keeps_blocks_matched():
    text = ".for i = 0,\n  nop\n.endfor\n.macro m a,\n.endm\n"
    stmts, diags = parse_lines(_source(text))
    assert len(diags) == 2
    assert [getattr(s, "broken", False) for s in stmts] == [True, False, False, True, False]
