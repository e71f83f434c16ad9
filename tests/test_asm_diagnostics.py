"""Diagnostics: rendering, notes, limits, and no traceback for any input (fuzzed)."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pimisa.asm import assemble, assemble_path, assemble_source
from pimisa.asm.diagnostics import MAX_ERRORS, Diagnostic, Loc, render, suggest
from pimisa.errors import SourceError

KERNELS = Path(__file__).parent.parent / "kernels"
SAMPLES = [p.read_text() for p in sorted(KERNELS.glob("*.pimasm"))] + [
    p.read_text() for p in sorted((Path(__file__).parent / "asm").glob("*.pimasm"))]


def test_rendering_is_compiler_style():
    text = "nop\n\tad  v1, v2, v3\n"
    with pytest.raises(SourceError) as info:
        assemble_source(text, "k.pimasm")
    assert str(info.value).splitlines() == [
        "k.pimasm:2:2: error: unknown mnemonic 'ad'; did you mean 'add' or 'and'?",
        "    2 | \tad  v1, v2, v3",
        "      | \t^~",
        "1 error generated.",
    ]


def test_all_errors_of_a_file_are_reported_in_order():
    text = "add v1, v2\n.equ X, 1/0\nadd v1,,\nld v1, [0, 99]\n"
    result = assemble(text)
    lines = [d.loc.line for d in result.diagnostics]
    assert lines == [1, 2, 3, 4]
    assert result.rendered.endswith("4 errors generated.")


def test_notes_follow_the_expansion_innermost_first():
    text = ".macro inner r\n    add r, r, v99\n.endm\n.macro outer r\n    inner r\n.endm\n" \
           ".for i = 0, 2\n    outer v(i)\n.endfor\n"
    result = assemble(text, "n.pimasm")
    (diag,) = result.diagnostics
    assert (diag.loc.line, diag.loc.col) == (2, 15)
    assert [(loc.line, msg) for loc, msg in diag.notes] == [
        (5, "in expansion of macro 'inner'"), (8, "in expansion of macro 'outer'"),
        (7, "in .for iteration i = 0")]


def test_warnings_do_not_fail_and_are_rendered():
    result = assemble(".input A, rows=0:1\nst v0, [0, 0]\n")
    assert result.ok
    assert "warning: 'st' writes row 0 of input region 'A'" in result.rendered
    assert result.rendered.endswith("1 warning generated.")


def test_error_limit():
    result = assemble("nop v1\n" * (MAX_ERRORS + 50))
    assert len(result.diagnostics) == MAX_ERRORS
    assert "stopped after too many errors" in result.rendered


def test_duplicate_errors_from_repeated_expansion_are_reported_once():
    result = assemble(".macro m\n    nop v0\n.endm\nm\nm\n.rept 5\nm\n.endr\n")
    assert len(result.diagnostics) == 1


def test_invalid_utf8_is_reported_per_line(tmp_path):
    path = tmp_path / "bad.pimasm"
    path.write_bytes(b"nop\nli v1, 1 ; caf\xe9\nadd v1, v2\n")
    result = assemble_path(path)
    assert [(d.loc.line, d.message[:12]) for d in result.diagnostics] == [
        (2, "invalid UTF-"), (3, "'add' takes ")]


def test_suggestions():
    assert suggest("ad", ["add", "and", "sub"]) == "; did you mean 'add' or 'and'?"
    assert suggest("LD", ["ld", "st"]) == "; did you mean 'ld'?"
    assert suggest("zzz", ["ld"]) == ""


def test_render_without_source_or_location():
    diags = [Diagnostic("error", None, "no place"),
             Diagnostic("error", Loc("gone.pimasm", 3, 1, 2), "file not loaded")]
    assert render(diags, {}).splitlines() == [
        "error: no place", "gone.pimasm:3:1: error: file not loaded", "2 errors generated."]


def _outcome(text: str) -> None:
    """The only allowed outcomes: a Program or a SourceError (never another exception)."""
    try:
        program = assemble_source(text)
    except SourceError as exc:
        assert str(exc).strip()
    else:
        assert len(program) == len(program.srcmap)


@given(st.text(max_size=300))
def test_garbage_never_crashes(text):
    _outcome(text)


@given(st.lists(st.sampled_from([
    "add v1, v2, v3", ".for i = 0, 3", ".endfor", ".rept 2", ".endr", ".macro m a", ".endm",
    "m v(i)", "ld v(i), [i, 0] @b(i)", ".equ X, i * 2", ".input A, rows=0:4", "li v1, X",
    ".include \"nowhere.inc\"", "cmp.gt m1, v1, v2 ?m0", "st v1, [1 / i, 0]", ".kernel k",
    ".for j = 0, i", ".arch hbm2-pim", "mset m0, 0xff", ".param P, X", "(", ".", "\"",
    "li v1, 1e99", "addi v1, v1, 1 << 62", "m", "v1", ".endm extra", ".output B, rows=3:9",
]), max_size=30))
def test_random_statement_sequences_never_crash(lines):
    _outcome("\n".join(lines) + "\n")


@given(st.data())
def test_mutated_programs_never_crash(data):
    text = data.draw(st.sampled_from(SAMPLES))
    rng = random.Random(data.draw(st.integers(0, 2**32)))
    pieces = list(" ,[]()?!@=:.+-*/%<>&|^~\"\\;#\n\t0123456789vmbxe_") + [
        ".for", ".endfor", ".endm", ".rept", "<<", "v99", "1e40", "\x00", "é", "\r"]
    chars = list(text)
    for _ in range(rng.randint(1, 10)):
        pos = rng.randrange(len(chars) + 1)
        action = rng.random()
        if action < 0.4:
            chars.insert(pos, rng.choice(pieces))
        elif chars and action < 0.7:
            del chars[min(pos, len(chars) - 1)]
        elif chars:
            chars[min(pos, len(chars) - 1)] = rng.choice(pieces)
    lines = "".join(chars).split("\n")
    if rng.random() < 0.3 and len(lines) > 2:  # move a line
        lines.insert(rng.randrange(len(lines)), lines.pop(rng.randrange(len(lines))))
    _outcome("\n".join(lines))


def test_a_broken_region_declaration_does_not_cascade():
    text = ".input A, rows=0:1\n.output B, rows=1:2, shape=1x8\n.scratch C\nst v0, [1, 0]\n"
    result = assemble(text)
    assert [d.loc.line for d in result.diagnostics] == [2, 3]
