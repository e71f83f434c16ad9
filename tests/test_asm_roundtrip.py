"""Round trips: record -> disassembly -> assembly, and program -> disasm -> same bytes."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from pimisa.arch import load_arch
from pimisa.asm import assemble_source
from pimisa.asm.disasm import disassemble_program, quote
from pimisa.encoding import disassemble_one
from pimisa.errors import InputError
from pimisa.isa import TABLE
from pimisa.program import KernelMeta, Program, Region, program_from_bytes
from pimisa.testing import programs, records

ARCHS = {name: load_arch(name) for name in ("hbm3", "lpddr5x", "hbm2-pim",
                                            "hbm2-pim:lane_bits=32")}


@pytest.mark.parametrize("ins", TABLE, ids=[i.mnemonic for i in TABLE])
@given(data=st.data())
def test_every_instruction_round_trips(ins, data):
    """At every width the instruction exists at (hbm2-pim: 16-bit lanes, the others 32)."""
    names = [n for n, a in ARCHS.items() if a.geometry.lane_bits in ins.widths]
    arch = ARCHS[data.draw(st.sampled_from(sorted(names)))]
    rec = data.draw(records(arch.geometry, rows=arch.geometry.rows, vregs=255,
                            instructions=(ins,)))
    program = assemble_source(disassemble_one(rec) + "\n", arch=arch)
    assert program.records.tobytes() == rec.tobytes()


@given(programs(ARCHS["hbm3"].geometry, rows=1 << 15, vregs=16))
def test_record_streams_round_trip(recs):
    text = "\n".join(disassemble_one(r) for r in recs) + "\n"
    program = assemble_source(text)
    assert program.records.tobytes() == recs.tobytes()
    assert [program.location(i) for i in range(len(recs))] == [
        f"<string>:{i + 1}:1" for i in range(len(recs))]


NAME = st.one_of(st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,8}", fullmatch=True),
                 st.text(st.characters(codec="utf-8"), max_size=8).filter(str.isprintable),
                 st.sampled_from(["v1", "b2", "hbm2-pim", "a b", 'q"\\', "tab\there"]))
VALUE = st.one_of(st.integers(-(2**63), 2**63 - 1), NAME)
KEY = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,8}", fullmatch=True).filter(
    lambda k: k not in ("rows", "layout"))


@st.composite
def metas(draw: st.DrawFn) -> KernelMeta:
    """Kernel metadata with non-overlapping regions and varied names and settings."""
    starts = sorted(draw(st.sets(st.integers(0, 1000), max_size=4)))
    regions = []
    names = draw(st.lists(NAME, min_size=len(starts), max_size=len(starts), unique=True))
    for i, (start, name) in enumerate(zip(starts, names, strict=True)):
        stop = starts[i + 1] if i + 1 < len(starts) else 1001
        rows = draw(st.integers(1, stop - start))
        regions.append(Region(name, draw(st.sampled_from(["input", "output", "scratch"])),
                              start, rows, draw(NAME),
                              draw(st.dictionaries(KEY, VALUE, max_size=3))))
    return KernelMeta(draw(NAME), draw(st.sampled_from(sorted(ARCHS))), regions,
                      draw(st.dictionaries(KEY, VALUE, max_size=3)))


@given(metas(), st.data())
def test_disassembly_reassembles_to_identical_bytes_and_metadata(meta, data):
    geometry = ARCHS[meta.arch].geometry
    rows = [(r.row, r.row + r.rows) for r in meta.regions] or [(0, 1 << 14)]
    lo, hi = data.draw(st.sampled_from(rows))
    recs = data.draw(programs(geometry, rows=hi, vregs=16))
    memory = np.isin(recs["op"], [i.opcode for i in TABLE if i.touches_memory])
    recs["row"][memory] = np.maximum(recs["row"][memory], lo)
    stored = program_from_bytes(Program(recs, meta, lane_bits=geometry.lane_bits).to_bytes())
    assert stored.lane_bits == geometry.lane_bits
    text = disassemble_program(stored, locations=data.draw(st.booleans()))
    again = assemble_source(text)
    assert again.records.tobytes() == recs.tobytes()
    assert again.meta.to_json() == stored.meta.to_json()


def test_quote_rejects_what_the_language_cannot_express():
    assert quote("abc") == "abc"
    assert quote("") == '""'
    assert quote("a b") == '"a b"'
    assert quote('x"\\\n\t') == '"x\\"\\\\\\n\\t"'
    with pytest.raises(InputError):
        quote("bell\x07")
