"""Fault paths: every fault code in both backends, located messages, bad machines, no crashes."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pimisa.arch import Geometry
from pimisa.emulator import EmulatorFault, LocatedError, Machine, faults, get_backend, run
from pimisa.emulator.cbackend import CBackend
from pimisa.emulator.faults import fault_error
from pimisa.encoding import encode, pred_code
from pimisa.errors import InputError, UsageError
from pimisa.isa import BY_MNEMONIC, RECORD_DTYPE
from pimisa.program import SRCMAP_DTYPE, Program
from pimisa.validate import FAULT_ORDER, check_records

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
    faults.FIELD: raw("mov", rd=1, ra=2, rb=3),
    faults.ROW: raw("st", row=2),
}
MORE = [raw("mset", imm=0x10), raw("slli", imm=-1), raw("nop", pred=pred_code(0)),
        raw("add", pred=pred_code(4)), raw("mnot", rd=0, ra=9), raw("nop", imm=1),
        raw("ld", rd=1, imm=-1), raw("li", rd=0, col=1), raw("st", ra=0, rd=3),
        raw("cmp", cc=1, rd=0, ra=0, rb=0, imm=7)]
# Several bad fields: the fault is the first of pimisa.validate.FAULT_ORDER, whatever the field.
ORDER = [(raw("add", rd=9, pred=0x40, bank=7), faults.PRED),
         (raw("add", rd=9, bank=7), faults.BANK),
         (raw("cmp", rd=9, ra=9, cc=99), faults.VREG),
         (raw("cmp", rd=9, cc=99), faults.MREG),
         (raw("srli", rd=1, imm=99, rb=1), faults.IMM),
         (raw("ld", col=9, rb=1, row=99), faults.COL),
         (raw("0x02", pred=0x40), faults.OPCODE)]


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


@pytest.mark.parametrize("rec", MORE + [r for r, _ in ORDER], ids=lambda r: str(r))
def test_fault_messages_are_the_loaders(rec) -> None:
    """The emulator's fault and message are the loader's (pimisa.validate), on both backends."""
    program = located_program([rec])
    messages = set()
    for name in ("c", "numpy"):
        fault = get_backend(name).execute(Machine(G, 2, 1), program.records, 0, 1)
        messages.add(str(fault_error(fault, program, G, 2, 2)))
    index, reason = check_records(program.records, G)
    assert messages == {f"k.pimasm:3:5: error: {reason} (slot 0)"}


@pytest.mark.parametrize(("rec", "code"), ORDER, ids=lambda x: str(x))
def test_the_first_fault_in_fault_order_wins(backend, rec, code: int) -> None:
    assert backend.execute(Machine(G, 2, 1), np.array([rec]), 0, 1).code == code


def test_fault_codes_are_numbered_in_fault_order() -> None:
    assert list(faults.NAMES) == list(range(1, len(FAULT_ORDER) + 1))
    assert [faults.NAMES[c] for c in sorted(faults.NAMES)] == list(FAULT_ORDER)
    assert FAULT_ORDER[-1] == "row"  # the only check that needs the launch comes last


def test_row_fault_in_a_later_slot_reports_slot_and_absolute_row(backend) -> None:
    m = Machine(G, tile_rows=2, slots=2)
    recs = np.array([raw("ld", rd=0, row=3)])  # slot 0: unit row 3 (ok); slot 1: row 5 > 4
    fault = backend.execute(m, recs, 0, 2)
    assert (fault.code, fault.index, fault.slot, fault.row, fault.steps) == (faults.ROW, 0, 1, 5, 1)


def test_row_base_overflow_faults_in_the_c_core() -> None:
    """Called directly (the API refuses such steps first), the core still faults cleanly."""
    be = CBackend()
    ffi, lib = be._mod.ffi, be._mod.lib
    m, _keep = be.c_machine(Machine(G, tile_rows=2, slots=1))
    recs = np.array([raw("ld", rd=0, row=0xFFFFFFFF)])
    status = ffi.new("emu_status *")
    begin = 1 << 63
    code = lib.emu_run(m, ffi.cast("const pimisa_record *", ffi.from_buffer(recs)), 1, begin,
                       begin + 1, 1, status)
    assert code == lib.EMU_FAULT_ROW == status.code


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
    be = CBackend()
    ffi, lib = be._mod.ffi, be._mod.lib
    m, _keep = be.c_machine(Machine(G, 2, 1))
    m.vreg_words -= 1
    status = ffi.new("emu_status *")
    recs = np.array([raw("nop")])
    code = lib.emu_run(m, ffi.cast("const pimisa_record *", ffi.from_buffer(recs)), 1, 0, 1, 1,
                       status)
    assert code == lib.EMU_BAD_MACHINE


def test_unaligned_and_foreign_record_arrays_are_accepted() -> None:
    recs = np.array([raw("li", rd=1, imm=7)])
    buf = np.zeros(RECORD_DTYPE.itemsize + 1, np.uint8)
    buf[1:] = recs.view(np.uint8)
    unaligned = buf[1:].view(RECORD_DTYPE)
    m = Machine(G, 2, 1)
    assert CBackend().execute(m, unaligned, 0, 1) is None
    assert int(m.vregs[1, 3, 2]) == 7


def _bad_machine(change) -> Machine:
    m = Machine(G, 2, 1)
    change(m)
    return m


ONE = np.array([raw("li", rd=1, imm=7)])
BAD_CALLS = {
    "empty stream": (None, np.zeros(0, RECORD_DTYPE), 0, 1),
    "negative begin": (None, ONE, -1, 1),
    "negative range": (None, ONE, -5, -1),
    "end before begin": (None, ONE, 1, 0),
    "end past the launch": (None, ONE, 0, 2),
    "huge end": (None, ONE, 0, 1 << 63),
    "huge begin": (None, ONE, 1 << 64, (1 << 64) + 1),
    "float step": (None, ONE, 0.0, 1),
    "bool step": (None, ONE, False, True),
    "string step": (None, ONE, "0", 1),
    "int32 records": (None, np.zeros(4, np.int32), 0, 1),
    "byte records": (None, np.zeros(16, np.uint8), 0, 1),
    "2-D records": (None, np.zeros((1, 1), RECORD_DTYPE), 0, 1),
    "record scalar": (None, ONE[0], 0, 1),
    "list of records": (None, [ONE[0]], 0, 1),
    "object array": (None, np.array([None]), 0, 1),
    "int64 registers": (lambda m: setattr(m, "vregs", m.vregs.astype(np.int64)), ONE, 0, 1),
    "short memory": (lambda m: setattr(m, "mem", m.mem[:, :1].copy()), ONE, 0, 1),
    "strided masks": (lambda m: setattr(m, "masks", np.zeros((4, 32), np.uint32)[:, ::2]),
                      ONE, 0, 1),
    "read-only registers": (lambda m: m.vregs.setflags(write=False), ONE, 0, 1),
}


@pytest.mark.parametrize("case", sorted(BAD_CALLS))
def test_bad_calls_fail_the_same_on_both_backends(case: str) -> None:
    """One clean EmulatorCallError (a pimisa UsageError), the same text on both backends, and
    the machine untouched; never a numpy, cffi or C-level error."""
    change, recs, begin, end = BAD_CALLS[case]
    messages = set()
    for name in ("c", "numpy"):
        m = _bad_machine(change or (lambda m: None))
        with pytest.raises(faults.EmulatorCallError) as info:
            get_backend(name).execute(m, recs, begin, end)
        assert isinstance(info.value, UsageError) and info.value.exit_code == 2
        messages.add(str(info.value))
        assert not np.asarray(m.vregs).any()
    assert len(messages) == 1, messages


def test_a_machine_is_not_anything_else(backend) -> None:
    with pytest.raises(faults.EmulatorCallError, match="must be a pimisa Machine"):
        backend.execute(object(), ONE, 0, 1)


@pytest.mark.parametrize("args", [(0, 1), (1, 0), (-1, 1), (1.5, 1), (True, 1), (1, "2")])
def test_bad_machine_sizes_are_refused(args) -> None:
    with pytest.raises(InputError):
        Machine(G, *args)


@settings(max_examples=60)
@given(st.integers(-(1 << 65), 1 << 65), st.integers(-(1 << 65), 1 << 65),
       st.integers(0, 3), st.integers(1, 3))
def test_any_step_range_gives_the_same_outcome(begin: int, end: int, n: int, slots: int) -> None:
    """Whatever the range, both backends run it identically or refuse it identically."""
    recs = np.array([raw("li", rd=1, imm=7)] * n, RECORD_DTYPE).reshape(n)
    outcomes = []
    for name in ("c", "numpy"):
        m = Machine(G, 1, slots)
        try:
            outcomes.append(("ran", get_backend(name).execute(m, recs, begin, end),
                             m.vregs.tobytes()))
        except faults.EmulatorCallError as exc:
            outcomes.append(("refused", str(exc)))
    assert outcomes[0] == outcomes[1]
    assert (outcomes[0][0] == "ran") == (0 <= begin <= end <= n * slots)


def test_run_refuses_a_program_of_wrong_records(backend) -> None:
    with pytest.raises(faults.EmulatorCallError, match="RECORD_DTYPE"):
        run(Program(np.zeros(3, np.int32)), Machine(G, 1, 1), backend)
