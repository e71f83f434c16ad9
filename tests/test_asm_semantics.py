"""Assembler semantics: loops and macros (vectorised expansion = textual unrolling), scopes,
includes, metadata, architecture selection, source map."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from pimisa.asm import assemble, assemble_file, assemble_source
from pimisa.asm.emit import MAX_COMMANDS
from pimisa.errors import SourceError
from pimisa.program import Region

Env = dict[str, int]


@dataclass
class X:
    """An integer expression over loop variables: its text and its value."""

    text: str
    fn: Callable[[Env], int]


def exprs(names: tuple[str, ...]) -> st.SearchStrategy[X]:
    """Small expressions (+ - *) over the loop variables in scope."""
    leaves = [st.integers(-4, 9).map(lambda v: X(str(v), lambda env, v=v: v))]
    leaves += [st.just(X(n, lambda env, n=n: env[n])) for n in names]
    return st.recursive(st.one_of(leaves), lambda inner: st.tuples(
        inner, st.sampled_from(["+", "-", "*"]), inner).map(lambda t: X(
            f"({t[0].text} {t[1]} {t[2].text})",
            lambda env, a=t[0], op=t[1], b=t[2]: {"+": a.fn(env) + b.fn(env),
                                                  "-": a.fn(env) - b.fn(env),
                                                  "*": a.fn(env) * b.fn(env)}[op])),
        max_leaves=3)


@dataclass
class Item:
    """A statement or block of a generated loop nest."""

    kind: str  # "instr" | "for" | "rept"
    parts: list[X] = field(default_factory=list)  # instr: its expressions; for: start, stop
    template: str = ""  # instr: text with {0}, {1}, ... for the expressions
    var: str = ""
    step: int = 1
    count: int = 0
    body: list[Item] = field(default_factory=list)


TEMPLATES = [
    "addi v({0} % 16), v({1} % 16), {2}",
    "ld v({0} % 16), [{1} % 64, {2} % 32] @b({0} % 16)",
    "cmpi.lt m({0} % 4), v({1} % 16), {2} ?!m({1} % 4)",
    "step_macro {0}, {1}",
    "nop",
]


@st.composite
def bodies(draw: st.DrawFn, names: tuple[str, ...], depth: int) -> list[Item]:
    """A loop body: instructions, macro calls and nested loops (bounds may use outer
    variables, which makes the nest non-rectangular)."""
    items = []
    for _ in range(draw(st.integers(1, 3))):
        choice = draw(st.integers(0, 5 if depth < 3 else 3))
        if choice <= 3:
            template = draw(st.sampled_from(TEMPLATES))
            parts = [draw(exprs(names)) for _ in range(3)]
            items.append(Item("instr", parts, template))
        elif choice == 4:
            var = f"q{depth}"
            start = draw(st.one_of(st.integers(-2, 2).map(lambda v: X(str(v), lambda e, v=v: v)),
                                   exprs(names)))
            stop = X(f"({start.text}) + {draw(st.integers(0, 3))}", None)  # type: ignore
            width = int(stop.text.rsplit("+ ", 1)[1])
            stop.fn = lambda env, s=start, w=width: s.fn(env) + w
            if names and draw(st.booleans()):  # bounds depending on an outer variable
                outer = draw(st.sampled_from(names))
                stop = X(f"{outer} % 3 + {start.text}", lambda env, o=outer, s=start:
                         env[o] % 3 + s.fn(env))
            items.append(Item("for", [start, stop], var=var,
                              step=draw(st.sampled_from([1, 1, 2])),
                              body=draw(bodies(names + (var,), depth + 1))))
        else:
            items.append(Item("rept", count=draw(st.integers(0, 3)),
                              body=draw(bodies(names, depth + 1))))
    return items


MACRO = """.macro step_macro a, b
    addi v(a % 16), v(b % 16), a * 3 - b
    .for k = 0, 2
        mov v((a + k) % 16), v((b * k) % 16)
    .endfor
.endm
"""


def render(items: list[Item], indent: str = "") -> list[str]:
    """Source text with the loops."""
    out = []
    for it in items:
        if it.kind == "instr":
            out.append(indent + it.template.format(*(p.text for p in it.parts)))
        elif it.kind == "for":
            out.append(f"{indent}.for {it.var} = {it.parts[0].text}, {it.parts[1].text}, "
                       f"{it.step}")
            out += render(it.body, indent + "    ") + [indent + ".endfor"]
        else:
            out += [f"{indent}.rept {it.count}"] + render(it.body, indent + "    ")
            out.append(indent + ".endr")
    return out


def unroll(items: list[Item], env: Env) -> list[str]:
    """The same program with every loop unrolled and the variables substituted."""
    out = []
    for it in items:
        if it.kind == "instr":
            out.append(it.template.format(*(f"({p.fn(env)})" for p in it.parts)))
        elif it.kind == "for":
            for v in range(it.parts[0].fn(env), it.parts[1].fn(env), it.step):
                out += unroll(it.body, {**env, it.var: v})
        else:
            for _ in range(it.count):
                out += unroll(it.body, env)
    return out


@given(bodies((), 0))
def test_loop_expansion_equals_textual_unrolling(items):
    looped = assemble(MACRO + "\n".join(render(items)) + "\n")
    unrolled = assemble(MACRO + "\n".join(unroll(items, {})) + "\n")
    assert looped.ok == unrolled.ok, looped.rendered + unrolled.rendered
    if looped.ok:
        assert looped.program.records.tobytes() == unrolled.program.records.tobytes()
    else:
        msg = re.compile(r"error: (.*)")
        assert set(msg.findall(looped.rendered)) == set(msg.findall(unrolled.rendered))


def records_of(text: str, **kw) -> list[str]:
    """Disassembly of the assembled text (for readable comparisons)."""
    from pimisa.encoding import disassemble

    return disassemble(assemble_source(text, **kw).records)


def test_nested_loops_run_in_program_order():
    text = """.for i = 0, 2
    .for j = 0, 2
        addi v(i), v(j), 10 * i + j
    .endfor
    nop @b(i)
.endfor
"""
    assert records_of(text) == ["addi v0, v0, 0", "addi v0, v1, 1", "nop @b0",
                                "addi v1, v0, 10", "addi v1, v1, 11", "nop @b1"]


def test_macro_arguments_are_evaluated_in_the_caller():
    text = """.equ k, 5
.macro put r, k2=k
    .equ k, 7                ; local to this expansion, shadows the global k
    addi r, r, k + k2
.endm
.for k = 0, 2
    put v(k)
.endfor
    addi v0, v0, k
"""
    assert records_of(text) == ["addi v0, v0, 12", "addi v1, v1, 12", "addi v0, v0, 5"]


def test_macro_bodies_do_not_see_the_callers_loop_variables():
    text = ".macro m\n    li v0, i\n.endm\n.for i = 0, 2\n    m\n.endfor\n"
    with pytest.raises(SourceError, match="unknown symbol 'i'"):
        assemble_source(text)


def test_equ_binds_any_operand_value():
    text = """.equ R, v3
.equ M, m2
.equ W, [4, 5]
.equ F, -1.5
.equ S, "str"
ld R, W
add R, R, R ?M
li R, F
"""
    assert records_of(text) == ["ld v3, [4, 5]", "add v3, v3, v3 ?m2", "li v3, 0xbfc00000"]


def test_global_redefinition_is_an_error_but_loop_locals_are_fresh():
    with pytest.raises(SourceError, match="redefinition of 'A'"):
        assemble_source(".equ A, 1\n.equ A, 1\n")
    text = ".rept 3\n    .equ A, 2\n    li v0, A\n.endr\n"
    assert records_of(text) == ["li v0, 2"] * 3


def test_recursive_macros_hit_the_depth_limit():
    result = assemble(".macro f\n    f\n.endm\nf\n")
    assert not result.ok
    assert "nested more than 64 levels deep (is 'f' recursive?)" in result.rendered
    assert "in expansion of macro 'f' (63 times)" in result.rendered


def test_a_nonrectangular_nest_is_expanded_exactly():
    text = ".for i = 0, 4\n    .for j = i, 4\n        add v(i), v(j), v0\n    .endfor\n.endfor\n"
    assert records_of(text) == [f"add v{i}, v{j}, v0" for i in range(4) for j in range(i, 4)]


def test_errors_inside_a_nonrectangular_nest_are_reported_once():
    text = ".for i = 0, 4\n    .for j = 0, i\n        ld v(j + 14), [0, 0]\n    .endfor\n.endfor\n"
    result = assemble(text)
    assert result.rendered.count("error:") == 1
    assert "vector register v16 out of range" in result.rendered
    assert "in .for iteration j = 2" in result.rendered


def test_loop_limits():
    result = assemble(f".for i = 0, {MAX_COMMANDS + 1}\n.endfor\n")
    assert "too large" in result.rendered
    result = assemble(f".for i = 0, 4096\n.for j = 0, {MAX_COMMANDS // 4096 + 1}\nnop\n"
                      ".endfor\n.endfor\n")
    assert "with the enclosing loops" in result.rendered


def test_program_size_limit(monkeypatch):
    monkeypatch.setattr("pimisa.asm.emit.MAX_COMMANDS", 100)
    result = assemble(".rept 60\nnop\n.endr\n.rept 60\nnop\n.endr\nnop v99\n")
    assert "the program exceeds 100 commands" in result.rendered
    assert result.rendered.count("error:") == 1  # assembly stops there


def test_include_paths_cycles_and_notes(tmp_path, monkeypatch):
    (tmp_path / "lib").mkdir()
    (tmp_path / "main.pimasm").write_text('.include "lib/a.inc"\n    use_a v1\n')
    (tmp_path / "lib" / "a.inc").write_text('.include "b.inc"\n.macro use_a r\n'
                                            '    add r, r, B_REG\n.endm\n')
    (tmp_path / "lib" / "b.inc").write_text(".equ B_REG, v9\n")
    monkeypatch.chdir(tmp_path)
    program = assemble_file("main.pimasm")
    assert program.files == ["main.pimasm", "lib/a.inc", "lib/b.inc"]
    assert program.location(0) == "lib/a.inc:3:5"
    (tmp_path / "lib" / "b.inc").write_text('.include "../main.pimasm"\n')
    with pytest.raises(SourceError) as info:
        assemble_file("main.pimasm")
    assert "include cycle: main.pimasm -> lib/a.inc -> lib/b.inc -> main.pimasm" in str(
        info.value)
    assert "note: in file 'lib/a.inc' included from here" in str(info.value)


def test_source_map_points_at_the_innermost_line():
    text = "nop\n.macro m r\n    li r, 1\n.endm\n.for i = 0, 2\n    m v(i)\n    nop\n.endfor\n"
    program = assemble_source(text, "k.pimasm")
    assert [program.location(i) for i in range(len(program))] == [
        "k.pimasm:1:1", "k.pimasm:3:5", "k.pimasm:7:5", "k.pimasm:3:5", "k.pimasm:7:5"]


def test_kernel_metadata():
    text = """.kernel gemv
.equ BLOCK, 16
.input  W, rows=0:8, layout=hp16
.output Q, rows=8:11, layout=mx6_row, fmt=mx6, block=BLOCK, label="a b", neg=-3
.scratch T, rows=BLOCK:BLOCK + 1
.param  K, 256
.param  mode, row
    ld v1, [0, 0]
    st v1, [16, 0]
"""
    meta = assemble_source(text).meta
    assert meta.name == "gemv" and meta.arch == "hbm3"
    assert meta.regions == [
        Region("W", "input", 0, 8, "hp16", {}),
        Region("Q", "output", 8, 3, "mx6_row",
               {"fmt": "mx6", "block": 16, "label": "a b", "neg": -3}),
        Region("T", "scratch", 16, 1, "raw", {}),
    ]
    assert meta.params == {"K": 256, "mode": "row"}
    assert meta.tile_rows == 17


def test_default_kernel_name_is_the_file_stem(tmp_path):
    path = tmp_path / "my_kernel.pimasm"
    path.write_text("nop\n")
    assert assemble_file(path).meta.name == "my_kernel"
    assert assemble_source("nop\n").meta.name == ""


def test_architecture_selection():
    source = ".arch lpddr5x\nld v1, [0, 63]\n"
    assert assemble_source(source).meta.arch == "lpddr5x"
    with pytest.raises(SourceError, match="column 63 out of range"):
        assemble_source(source, arch="hbm3")
    result = assemble(source, arch="hbm3")
    assert "warning: ignoring '.arch lpddr5x'" in result.rendered
    with pytest.raises(SourceError, match="must come before the first instruction"):
        assemble_source("nop\n.arch lpddr5x\n")
    assert assemble_source("nop\n", arch="hbm2-pim").meta.arch == "hbm2-pim"


def test_arch_from_a_toml_file_next_to_the_source(tmp_path):
    preset = (tmp_path / "..").resolve()
    text = (__import__("pimisa.arch", fromlist=["x"]).PRESETS / "hbm3.toml").read_text()
    (tmp_path / "tiny.toml").write_text(text.replace('name = "hbm3"', 'name = "tiny"')
                                        .replace("vector_registers = 16",
                                                 "vector_registers = 4"))
    (tmp_path / "k.pimasm").write_text('.arch "tiny.toml"\nadd v3, v3, v3\nadd v4, v0, v0\n')
    with pytest.raises(SourceError, match=r"vector register v4 out of range \(v0..v3\)"):
        assemble_file(tmp_path / "k.pimasm")
    assert preset.exists()


def test_defines_are_global_symbols():
    result = assemble("li v0, N * 2\n", defines={"N": 21})
    assert result.program is not None
    assert int(result.program.records["imm"][0]) == 42


def test_memory_accesses_are_checked_against_regions():
    ok = ".input A, rows=0:2\n.output B, rows=2:3\n.for r = 0, 3\n  ld v0, [r, 0]\n.endfor\n"
    assert len(assemble_source(ok)) == 3
    result = assemble(ok.replace("0, 3", "0, 5"))
    assert "'ld' accesses row 3, outside every declared region" in result.rendered
    assert result.rendered.count("error:") == 1
    assert len(assemble_source("ld v0, [1000, 0]\n")) == 1  # no regions: no check


def test_floats_are_float32_bits():
    program = assemble_source("li v0, 1.5\nli v1, -0.1\nli v2, 3.4e38\n")
    bits = program.records["imm"].view(np.uint32)
    assert list(bits) == list(np.array([1.5, -0.1, 3.4e38], np.float32).view(np.uint32))


def test_uniform_array_bounds_and_memory_symbols_from_outer_loops():
    text = """.for i = 0, 2
    .equ W, [i, i + 1]
    .for j = 0, i - i + 2
        ld v(j), W
    .endfor
.endfor
"""
    assert records_of(text) == ["ld v0, [0, 1]", "ld v1, [0, 1]", "ld v0, [1, 2]",
                                "ld v1, [1, 2]"]


def test_errors_before_a_fallback_are_reported_once():
    text = ".for i = 0, 3\n    nop v0\n    .for j = 0, i\n        nop\n    .endfor\n.endfor\n"
    result = assemble(text)
    assert result.rendered.count("error:") == 1
    assert "in .for iteration i = 0" in result.rendered


def test_deep_nesting_is_an_error_not_a_crash():
    result = assemble("li v1, " + "-(" * 3000 + "1" + ")" * 3000 + "\n.equ X, " + "~" * 3000
                      + "1\n")
    assert result.rendered.count("nested too deeply") == 2


def test_many_expansion_levels_are_summarised():
    text = "".join(f".macro mac{k}\n    mac{k + 1}\n.endm\n" for k in range(12))
    text += ".macro mac12\n    nop v0\n.endm\nmac0\n"
    result = assemble(text)
    assert "(5 more expansion levels) ... in expansion of macro 'mac0'" in result.rendered
    assert result.rendered.count("note:") == 8


def test_an_arch_directive_matching_the_requested_arch_is_silent():
    result = assemble(".arch hbm3\nnop\n", arch="hbm3")
    assert result.ok and not result.rendered


def test_the_examples_of_the_language_reference_assemble():
    from pathlib import Path

    doc = (Path(__file__).parent.parent / "docs" / "language.md").read_text()
    blocks = re.findall(r"```\n(.*?)```", doc, re.S)
    examples = [b for b in blocks if not b.startswith(("$", "gemv.pimasm")) and
                ".include" not in b]
    assert len(examples) >= 6
    for text in examples:
        assemble_source(text)  # raises SourceError if an example is wrong


def test_nests_whose_bounds_depend_on_several_outer_variables():
    text = """.for i = 0, 3
    .for j = 0, 3
        .for k = 0, (i + j) % 3
            addi v(i), v(j), k
        .endfor
        .rept i % 2
            nop @b(j)
        .endr
    .endfor
.endfor
"""
    want = []
    for i in range(3):
        for j in range(3):
            want += [f"addi v{i}, v{j}, {k}" for k in range((i + j) % 3)]
            want += [f"nop @b{j}"] * (i % 2)
    assert records_of(text) == want


def test_errors_in_grouped_iterations_name_their_iteration():
    text = ".for i = 0, 6\n    .for j = 0, i % 3\n        ld v(i * 3 + j), [0, 0]\n" \
           "    .endfor\n.endfor\n"
    result = assemble(text)
    assert result.rendered.count("error:") == 1
    assert "vector register v16 out of range" in result.rendered
    assert "in .for iteration i = 5" in result.rendered and "iteration j = 1" in result.rendered


def test_loop_nesting_limit():
    assert assemble(".rept 1\n" * 32 + "nop\n" + ".endr\n" * 32).ok
    result = assemble(".rept 1\n" * 2000 + "nop\n" + ".endr\n" * 2000)
    assert result.rendered.count("error:") == 1
    assert "33:1: error: loops nested more than 32 deep" in result.rendered


def test_geometry_symbols_follow_the_target():
    src = "li v0, COLS\nli v1, LANES * VREGS + MREGS\nli v2, BANKS\n"
    hbm3 = assemble_source(src, arch="hbm3").records["imm"].tolist()
    lp = assemble_source(".arch lpddr5x\n" + src).records["imm"].tolist()
    assert hbm3 == [32, 8 * 16 + 4, 16]
    assert lp == [64, 8 * 16 + 4, 16]


def test_loop_split_twice_keeps_iteration_order():
    # Two .rept counts vary with e in different ways: the groups of the first split again.
    text = (".for e = 0, 8\n  .rept e % 2\n    li v0, e\n  .endr\n  .rept e / 3\n"
            "    li v1, e\n  .endr\n  li v2, e\n.endfor\n")
    program = assemble_source(text)
    expected = []
    for e in range(8):
        expected += [(0, e)] * (e % 2) + [(1, e)] * (e // 3) + [(2, e)]
    got = [(int(r["rd"]), int(r["imm"])) for r in program.records]
    assert got == expected
