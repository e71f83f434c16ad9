"""The C backend: the compiled core `pimisa._emucore` (cext/emu_core.c) through cffi.

One call runs a whole range of steps with the GIL released (cffi releases it around every C
call), split over threads by unit range when the work is large. At import the record layout,
the ISA hash and the per-opcode operand table of the compiled core are checked against
pimisa.isa, so a stale build is refused instead of misbehaving. PIMISA_EMU_MODULE names
another build of the same core (the sanitizer build of scripts/asan_emu.sh).
"""

from __future__ import annotations

import functools
import importlib
import os
from types import ModuleType

import numpy as np

from pimisa.emulator.calls import check_call
from pimisa.emulator.faults import EmulatorCallError, Fault
from pimisa.emulator.opinfo import FLAG_NAMES, c_flags
from pimisa.emulator.state import Machine
from pimisa.isa import ISA_HASH, LANE_WIDTHS, RECORD_DTYPE, TABLE
from pimisa.validate import FAULT_CODES, VALIDATOR_HASH

MODULE_ENV = "PIMISA_EMU_MODULE"
DEFAULT_MODULE = "pimisa._emucore"
DEFINED_CLASSES = ("lane", "lane_acc", "mask")  # instructions cext/lane_ops.def defines
PARALLEL_LANE_OPS = 1 << 22  # below this much work per call, threads cost more than they save


class CoreUnavailable(Exception):
    """The compiled core cannot be used; the message says why."""


def _mismatch(mod: ModuleType) -> str | None:
    """Why the compiled module disagrees with pimisa.isa, or None."""
    ffi, lib = mod.ffi, mod.lib
    if ffi.sizeof("pimisa_record") != RECORD_DTYPE.itemsize:
        return "record size differs from the .pimb record"
    for name in RECORD_DTYPE.names:
        if ffi.offsetof("pimisa_record", name) != RECORD_DTYPE.fields[name][1]:
            return f"record field {name!r} is at another offset than in the .pimb record"
    if int(lib.PIMISA_ISA_HASH) != ISA_HASH:
        return "it was built for another ISA table"
    if int(lib.PIMISA_VALIDATOR_HASH) != VALIDATOR_HASH:
        return "it was built with another record validator (pimisa/validate.py)"
    for name, code in FAULT_CODES.items():
        if int(getattr(lib, f"EMU_FAULT_{name.upper()}")) != code:
            return f"its fault code of {name!r} differs from pimisa.validate"
    flags = {name: int(getattr(lib, f"EMU_F_{name}")) for name in FLAG_NAMES}
    for op in range(256):
        if int(lib.emu_op_info(op)) != c_flags(op, flags):
            return f"its operand table disagrees with pimisa.isa at opcode {op:#04x}"
    for ins in TABLE:
        if ins.sem_class not in DEFINED_CLASSES:
            continue
        for width in LANE_WIDTHS:
            if bool(lib.emu_has_definition(ins.opcode, width)) != (width in ins.widths):
                has = "has no line" if width in ins.widths else "has a line"
                return f"cext/lane_ops.def {has} for {ins.mnemonic} at {width}-bit lanes"
    return None


def load_core() -> ModuleType:
    """Import and verify the compiled core; CoreUnavailable says why it cannot be used."""
    return _load(os.environ.get(MODULE_ENV) or DEFAULT_MODULE)


@functools.cache
def _load(name: str) -> ModuleType:
    try:
        mod = importlib.import_module(name)
    except ImportError as exc:
        raise CoreUnavailable(f"cannot import {name} ({exc})") from None
    problem = _mismatch(mod)
    if problem:
        raise CoreUnavailable(f"{name} is stale: {problem}; reinstall pimisa")
    return mod


class CBackend:
    """Executes steps of a launch in the C core; `threads` caps the threads (default: CPUs).

    `soft_fp16` runs the binary16 ops on the software conversions even where the CPU has F16C
    (`hardware_fp16()`), so the tests check both paths on one machine.
    """

    name = "c"

    def __init__(self, threads: int | None = None, soft_fp16: bool = False) -> None:
        self._mod = load_core()
        self.threads = max(1, threads or os.cpu_count() or 1)
        self.soft_fp16 = soft_fp16

    def hardware_fp16(self) -> bool:
        """True when this backend's binary16 ops use the CPU's F16C conversions."""
        return not self.soft_fp16 and bool(self._mod.lib.emu_hardware_fp16())

    def c_machine(self, machine: Machine) -> tuple[object, list[object]]:
        """The core's emu_machine for `machine`, and the buffers it points into (keep them)."""
        ffi = self._mod.ffi
        g = machine.geometry
        arrays = (machine.mem, machine.vregs, machine.masks)
        bufs = [ffi.from_buffer(a, require_writable=True) for a in arrays]
        m = ffi.new("emu_machine *")
        m.mem, m.vregs = bufs[0], bufs[1]
        m.masks = ffi.cast("uint32_t *", bufs[2])
        m.lane_bits = g.lane_bits
        m.soft_fp16 = int(self.soft_fp16)
        m.mem_words, m.vreg_words, m.mask_words = (a.size for a in arrays)
        m.rows, m.tile_rows = machine.rows, machine.tile_rows
        m.cols, m.lanes = g.cols, g.lanes
        m.nv, m.nm = g.vector_registers, g.mask_registers
        m.channels, m.units_per_channel = g.total_channels, g.units_per_channel
        m.banks, m.banks_per_unit = g.banks, g.banks_per_pim_unit
        return m, bufs

    def execute(self, machine: Machine, records: np.ndarray, begin: int, end: int) -> Fault | None:
        """Run steps [begin, end): step t is command t % n of slot t // n."""
        machine, records, begin, end = check_call(machine, records, begin, end)
        if end == begin:
            return None
        ffi, lib = self._mod.ffi, self._mod.lib
        recs = records
        if not recs.flags.c_contiguous or recs.ctypes.data % ffi.alignof("pimisa_record"):
            recs = np.ascontiguousarray(records).copy()
        g = machine.geometry
        m, _bufs = self.c_machine(machine)
        work = (end - begin) * machine.units * g.lanes
        threads = self.threads if work >= PARALLEL_LANE_OPS else 1
        status = ffi.new("emu_status *")
        rec_ptr = ffi.cast("const pimisa_record *", ffi.from_buffer(recs))
        code = lib.emu_run(m, rec_ptr, len(recs), begin, end, threads, status)
        if code == lib.EMU_BAD_MACHINE:
            raise EmulatorCallError("the C core rejected the machine description")
        if code:
            return Fault(int(code), int(status.index), int(status.slot), int(status.steps),
                         int(status.row))
        return None
