"""Fault paths: every fault code in both backends, located messages, bad machines, no crashes."""

from __future__ import annotations

import numpy as np
import pytest

from pimisa.arch import Geometry
from pimisa.emulator import EmulatorFault, LocatedError, Machine, faults, get_backend, run
from pimisa.emulator.cbackend import CBackend
from pimisa.encoding import encode, pred_code
from pimisa.errors import InputError
from pimisa.isa import BY_MNEMONIC, RECORD_DTYPE
from pimisa.program import SRCMAP_DTYPE, Program

G = Geometry(stacks=1, channels=2, banks=4, bank_groups=1, rows=8, row_bytes=4 * 4 * 4,
             word_bits=128, lanes=4, vector_registers=8, mask_registers=4, banks_per_pim_unit=1)


def raw(op: str, **fields: int) -> np.ndarray:
    """A record with arbitrary (possibly invalid) field values."""
    rec = np.zeros((), RECORD_DTYPE)
    rec["op"] = BY_MNEMONIC[op].opcode if op in BY_MNEMONIC else int(op, 0)
    rec["bank"] = 0xFF
    for k, v in fields.items():
        rec[k] = v
    return rec


CASES = {
    faults.OPCODE: raw("0x7f"),
    faults.PRED: raw("add", pred=0x40),
    faults.BANK: raw("li", bank=4),
    faults.VREG: raw("add", rd=1, ra=2, rb=8),
    faults.MREG: raw("mand", rd=0, ra=4, rb=0),
    faults.COND: raw("cmp", cc=10),
    faults.IMM: raw("srli", imm=32),
    faults.COL: raw("ld", col=4),
    faults.ROW: raw("st", row=2),
}
MORE = [raw("mset", imm=0x10), raw("slli", imm=-1), raw("nop", pred=pred_code(0)),
        raw("add", pred=pred_code(4)), raw("mnot", rd=0, ra=9)]


@pytest.fixture(params=["c", "numpy"])
def backend(request):
    return get_backend(request.param)


@pytest.mark.parametrize("code", sorted(CASES), ids=lambda c: faults.NAMES[c])
def test_each_fault_code(backend, code: int) -> None:
    m = Machine(G, tile_rows=2, slots=1)
    recs = np.array([raw("li", rd=3, imm=5), CASES[code], raw("li", rd=4, imm=6)])
    fault = backend.execute(m, recs, 0, 3)
    assert (fault.code, fault.index, fault.slot, fault.steps) == (code, 1, 0, 1)
    assert int(m.vregs[3, 0, 0]) == 5 and int(m.vregs[4, 0, 0]) == 0


@pytest.mark.parametrize("rec", MORE, ids=lambda r: str(r))
def test_more_invalid_fields_fault_the_same(rec) -> None:
    results = []
    for name in ("c", "numpy"):
        fault = get_backend(name).execute(Machine(G, 2, 1), np.array([rec]), 0, 1)
        results.append(fault)
    assert results[0] is not None and results[0] == results[1]


def test_row_fault_in_a_later_slot_reports_slot_and_absolute_row(backend) -> None:
    m = Machine(G, tile_rows=2, slots=2)
    recs = np.array([raw("ld", rd=0, row=3)])  # slot 0: unit row 3 (ok); slot 1: row 5 > 4
    fault = backend.execute(m, recs, 0, 2)
    assert (fault.code, fault.index, fault.slot, fault.row, fault.steps) == (faults.ROW, 0, 1, 5, 1)


def test_row_base_overflow_faults_in_c() -> None:
    m = Machine(G, tile_rows=2, slots=1)
    recs = np.array([raw("ld", rd=0, row=0xFFFFFFFF)])
    begin = 1 << 63
    fault = CBackend().execute(m, recs, begin, begin + 1)
    assert fault.code == faults.ROW


def located_program(recs: list[np.ndarray]) -> Program:
    srcmap = np.zeros(len(recs), SRCMAP_DTYPE)
    srcmap["line"] = np.arange(len(recs)) + 3
    srcmap["col"] = 5
    return Program(np.array(recs), srcmap=srcmap, files=["k.pimasm"])


def test_run_fault_message_points_at_the_source(backend) -> None:
    program = located_program([encode("li", {"rd": 0, "imm": 1}),
                               encode("ld", {"rd": 1, "row": 2, "col": 0})])
    with pytest.raises(EmulatorFault) as info:
        run(program, Machine(G, tile_rows=2, slots=1), backend)
    msg = str(info.value)
    assert msg.startswith("k.pimasm:4:5: error: `ld v1, [2, 0]` reaches unit row 0 + 2 = 2")
    assert "(slot 0)" in msg and info.value.located and info.value.exit_code == 1


def test_invalid_records_are_rejected_before_running(backend) -> None:
    program = located_program([encode("li", {"rd": 0, "imm": 1}), raw("add", rd=9)])
    m = Machine(G, tile_rows=2, slots=1)
    with pytest.raises(LocatedError, match=r"^k.pimasm:4:5: error: .*v9"):
        run(program, m, backend)
    assert not m.vregs.any()


def test_machine_larger_than_a_unit_is_refused() -> None:
    with pytest.raises(InputError, match="a unit has 8 rows"):
        Machine(G, tile_rows=3, slots=3)


def test_c_core_refuses_an_inconsistent_machine() -> None:
    m = Machine(G, 2, 1)
    m.vregs = m.vregs[:2].copy()
    with pytest.raises(ValueError, match="rejected"):
        CBackend().execute(m, np.array([raw("nop")]), 0, 1)


def test_unaligned_and_foreign_record_arrays_are_accepted() -> None:
    recs = np.array([raw("li", rd=1, imm=7)])
    buf = np.zeros(RECORD_DTYPE.itemsize + 1, np.uint8)
    buf[1:] = recs.view(np.uint8)
    unaligned = buf[1:].view(RECORD_DTYPE)
    m = Machine(G, 2, 1)
    assert CBackend().execute(m, unaligned, 0, 1) is None
    assert int(m.vregs[1, 3, 2]) == 7
