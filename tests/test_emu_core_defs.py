"""The C core defines every lane and mask instruction once, in cext/lane_ops.def."""

from __future__ import annotations

import inspect
import re
import types
from pathlib import Path

from pimisa.emulator import cbackend
from pimisa.isa import TABLE

DEFS = Path(__file__).resolve().parent.parent / "cext" / "lane_ops.def"
DEFINED = tuple(i for i in TABLE if i.sem_class in cbackend.DEFINED_CLASSES)


def definitions() -> list[tuple[str, str]]:
    """(macro, NAME) of every definition line, in file order."""
    return re.findall(r"^(LANE_OP|MASK_OP)\((\w+),", DEFS.read_text(), re.M)


def test_every_instruction_has_one_line_in_table_order() -> None:
    want = [("MASK_OP" if i.sem_class == "mask" else "LANE_OP", i.mnemonic.upper())
            for i in DEFINED]
    assert definitions() == want


def test_the_compiled_core_has_each_definition_and_no_other() -> None:
    lib = cbackend.load_core().lib
    defined = {op for op in range(256) if lib.emu_has_definition(op)}
    assert defined == {i.opcode for i in DEFINED}


def test_a_core_missing_a_definition_is_refused() -> None:
    real = cbackend.load_core()
    missing = DEFINED[-1].opcode

    class Lib:
        def __getattr__(self, name):
            return getattr(real.lib, name)

        def emu_has_definition(self, op):
            return 0 if op == missing else real.lib.emu_has_definition(op)

    fake = types.SimpleNamespace(ffi=real.ffi, lib=Lib())
    assert cbackend._mismatch(real) is None
    assert cbackend._mismatch(fake) == f"cext/lane_ops.def has no line for {DEFINED[-1].mnemonic}"


def test_every_sem_has_one_signature() -> None:
    for ins in TABLE:
        if ins.sem is not None:
            assert len(inspect.signature(ins.sem).parameters) == 4, ins.mnemonic
