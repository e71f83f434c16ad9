"""The documented semantics, with hand-computed expectations, on both backends."""

from __future__ import annotations

import struct

import numpy as np
import pytest

from pimisa.arch import Geometry
from pimisa.emulator import Machine, get_backend, run
from pimisa.encoding import encode, pred_code
from pimisa.isa import CONDITIONS
from pimisa.program import Program

G = Geometry(stacks=1, channels=2, banks=4, bank_groups=1, rows=8, row_bytes=4 * 4 * 4,
             word_bits=128, lanes=4, vector_registers=8, mask_registers=4, banks_per_pim_unit=2)
NAN = 0x7FC00000


def f32(x: float) -> int:
    return struct.unpack("<I", struct.pack("<f", x))[0]


@pytest.fixture(params=["c", "numpy"])
def backend(request):
    return get_backend(request.param)


def execute(backend, machine: Machine, *cmds: np.ndarray) -> Machine:
    run(Program(np.array(cmds)), machine, backend)
    return machine


def machine(slots: int = 1, tile_rows: int = 2) -> Machine:
    return Machine(G, tile_rows, slots)


def lanes(m: Machine, reg: int, unit: int = 0) -> list[int]:
    return [int(x) for x in m.vregs[reg, unit]]


def test_geometry_of_the_test_machine() -> None:
    assert (G.total_units, G.cols, G.units_per_channel) == (4, 4, 2)


def test_predicated_lane_op_writes_only_selected_lanes(backend) -> None:
    m = machine()
    m.vregs[1] = 10
    m.vregs[2] = 5
    m.vregs[3] = 0xAAAA
    m.masks[1] = 0b0101
    execute(backend, m, encode("add", {"rd": 3, "ra": 1, "rb": 2}, pred=pred_code(1)))
    assert lanes(m, 3) == [15, 0xAAAA, 15, 0xAAAA]
    execute(backend, m, encode("li", {"rd": 3, "imm": -1}, pred=pred_code(1, invert=True)))
    assert lanes(m, 3) == [15, 0xFFFFFFFF, 15, 0xFFFFFFFF]


def test_predicated_compare_changes_only_selected_bits_even_of_its_own_mask(backend) -> None:
    m = machine()
    m.vregs[0] = [1, 5, 1, 5]
    m.masks[2] = 0b0011
    # md = m2 is also the predicate: lanes 0 and 1 are compared (5 > 3 only in lane 1),
    # lanes 2 and 3 keep their old bits (0).
    execute(backend, m, encode("cmpi", {"cc": CONDITIONS["gt"][0], "rd": 2, "ra": 0, "imm": 3},
                               pred=pred_code(2)))
    assert int(m.masks[2, 0]) == 0b0010
    m.masks[1] = 0b1111
    execute(backend, m, encode("cmpi", {"cc": CONDITIONS["gt"][0], "rd": 1, "ra": 0, "imm": 3},
                               pred=pred_code(2, invert=True)))
    assert int(m.masks[1, 0]) == 0b1010


def test_predicated_load_and_store(backend) -> None:
    m = machine()
    m.mem[1, 2, 0] = [1, 2, 3, 4]
    m.vregs[0, 0] = [9, 9, 9, 9]
    m.masks[0, 0] = 0b1001
    execute(backend, m, encode("ld", {"rd": 0, "row": 1, "col": 2}, pred=pred_code(0)))
    assert lanes(m, 0) == [1, 9, 9, 4]
    m.vregs[1, 0] = [7, 7, 7, 7]
    execute(backend, m, encode("st", {"ra": 1, "row": 1, "col": 2}, pred=pred_code(0, True)))
    assert [int(x) for x in m.mem[1, 2, 0]] == [1, 7, 7, 4]


def test_signed_and_unsigned_compares(backend) -> None:
    m = machine()
    m.vregs[0] = [0x80000000, 0xFFFFFFFF, 0, 1]
    codes = {name: code for name, (code, _s, _f) in CONDITIONS.items()}
    execute(backend, m, encode("cmpi", {"cc": codes["lt"], "rd": 0, "ra": 0, "imm": 0}),
            encode("cmpi", {"cc": codes["ltu"], "rd": 1, "ra": 0, "imm": 1}),
            encode("cmpi", {"cc": codes["eq"], "rd": 2, "ra": 0, "imm": -1}))
    assert [int(m.masks[i, 0]) for i in range(3)] == [0b0011, 0b0100, 0b0010]


def test_per_lane_shift_edges(backend) -> None:
    m = machine()
    m.vregs[0] = [0x80000001, 0x80000001, 0x80000001, 0x80000001]
    m.vregs[1] = [0, 31, 32, 0xFFFFFFFF]
    execute(backend, m, encode("shlv", {"rd": 2, "ra": 0, "rb": 1}),
            encode("shrv", {"rd": 3, "ra": 0, "rb": 1}),
            encode("srav", {"rd": 4, "ra": 0, "rb": 1}))
    assert lanes(m, 2) == [0x80000001, 0x80000000, 0, 0]
    assert lanes(m, 3) == [0x80000001, 1, 0, 0]
    assert lanes(m, 4) == [0x80000001, 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF]


@pytest.mark.parametrize(("value", "amount", "expected"), [
    (6, 2, 2),            # 1.5 rounds to 2
    (10, 2, 2),           # 2.5 rounds to even 2
    (14, 2, 4),           # 3.5 rounds to even 4
    (11, 2, 3),           # 2.75 rounds up
    (7, 0, 7),            # no shift
    (0x80000000, 32, 0),  # exactly one half: to even 0
    (0x80000001, 32, 1),  # above one half
    (0xFFFFFFFF, 33, 0),  # below one half
    (0xFFFFFFFF, 1000, 0),
    (0xFFFFFFFF, 31, 2),  # 1.99.. rounds to 2
])
def test_rounding_shift(backend, value: int, amount: int, expected: int) -> None:
    m = machine()
    m.vregs[0], m.vregs[1] = value, amount
    execute(backend, m, encode("shrvr", {"rd": 2, "ra": 0, "rb": 1}))
    assert lanes(m, 2) == [expected] * 4


def test_immediate_shifts_and_wrapping(backend) -> None:
    m = machine()
    m.vregs[0] = [0x80000000, 0xFFFFFFFF, 3, 0x7FFFFFFF]
    m.vregs[1] = [1, 1, 0x80000001, 0xFFFFFFFF]
    execute(backend, m, encode("srai", {"rd": 2, "ra": 0, "imm": 31}),
            encode("slli", {"rd": 3, "ra": 0, "imm": 31}),
            encode("add", {"rd": 4, "ra": 0, "rb": 1}),
            encode("mul", {"rd": 5, "ra": 0, "rb": 1}),
            encode("min", {"rd": 6, "ra": 0, "rb": 1}),
            encode("maxu", {"rd": 7, "ra": 0, "rb": 1}))
    assert lanes(m, 2) == [0xFFFFFFFF, 0xFFFFFFFF, 0, 0]
    assert lanes(m, 3) == [0, 0x80000000, 0x80000000, 0x80000000]
    assert lanes(m, 4) == [0x80000001, 0, 0x80000004, 0x7FFFFFFE]
    assert lanes(m, 5) == [0x80000000, 0xFFFFFFFF, 0x80000003, 0x80000001]
    assert lanes(m, 6) == [0x80000000, 0xFFFFFFFF, 0x80000001, 0xFFFFFFFF]
    assert lanes(m, 7) == [0x80000000, 0xFFFFFFFF, 0x80000001, 0xFFFFFFFF]


def test_float_nan_is_canonical(backend) -> None:
    m = machine()
    m.vregs[0] = [f32(float("inf")), 0x7F800001, 0xFFC12345, f32(1.5)]
    m.vregs[1] = [f32(float("-inf")), f32(1.0), f32(2.0), f32(2.0)]
    execute(backend, m, encode("fadd", {"rd": 2, "ra": 0, "rb": 1}),
            encode("fmul", {"rd": 3, "ra": 0, "rb": 1}))
    assert lanes(m, 2) == [NAN, NAN, NAN, f32(3.5)]
    assert lanes(m, 3) == [f32(float("-inf")), NAN, NAN, f32(3.0)]


def test_fmac_rounds_twice(backend) -> None:
    a = 1 + 2.0 ** -12
    # a * a = 1 + 2^-11 + 2^-24: the product rounds (tie to even) to 1 + 2^-11, so the
    # accumulate gives exactly 0; a fused multiply-add would give 2^-24.
    m = machine()
    m.vregs[0] = f32(a)
    m.vregs[1] = f32(-(1 + 2.0 ** -11))
    execute(backend, m, encode("fmac", {"rd": 1, "ra": 0, "rb": 0}))
    assert lanes(m, 1) == [0] * 4
    assert a * a - (1 + 2.0 ** -11) == 2.0 ** -24


def test_masks_keep_bits_above_the_lanes_clear(backend) -> None:
    m = machine()
    execute(backend, m, encode("mset", {"rd": 0, "imm": 0b0110}),
            encode("mnot", {"rd": 1, "ra": 0}),
            encode("mor", {"rd": 2, "ra": 0, "rb": 1}))
    assert [int(m.masks[i, 0]) for i in range(3)] == [0b0110, 0b1001, 0b1111]


def test_single_bank_command_runs_in_the_unit_holding_the_bank_in_every_channel(backend) -> None:
    m = machine()
    # banks_per_pim_unit = 2: bank 3 belongs to unit 1 of each channel (units 1 and 3).
    execute(backend, m, encode("li", {"rd": 0, "imm": 7}, bank=3))
    assert [int(m.vregs[0, u, 0]) for u in range(4)] == [0, 7, 0, 7]


def test_slots_offset_rows_and_registers_persist(backend) -> None:
    m = machine(slots=3, tile_rows=2)
    for slot in range(3):
        m.mem[slot * 2 + 1, 0] = slot + 1
    execute(backend, m, encode("ld", {"rd": 1, "row": 1, "col": 0}),
            encode("add", {"rd": 0, "ra": 0, "rb": 1}),
            encode("st", {"ra": 0, "row": 0, "col": 3}))
    assert lanes(m, 0) == [6] * 4
    assert [int(m.mem[s * 2, 3, 0, 0]) for s in range(3)] == [1, 3, 6]


def test_unit_rows_concatenate_the_units_banks() -> None:
    m = machine()
    assert m.bank_of(unit=3, row=9) == (1, 3, 1)
    assert m.bank_of(unit=0, row=7) == (0, 0, 7)
