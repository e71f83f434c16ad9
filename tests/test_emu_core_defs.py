"""The C core defines every lane and mask instruction and every compare condition once, in
cext/lane_ops.def, for exactly the lane widths the ISA table gives it."""

from __future__ import annotations

import inspect
import re
import types
from pathlib import Path

import pytest

from pimisa.emulator import cbackend
from pimisa.isa import CONDITIONS, LANE_WIDTHS, TABLE

DEFS = Path(__file__).resolve().parent.parent / "cext" / "lane_ops.def"
DEFINED = tuple(i for i in TABLE if i.sem_class in cbackend.DEFINED_CLASSES)


def definitions() -> list[tuple[str, str]]:
    """(macro, NAME) of every definition line, in file order."""
    return re.findall(r"^(LANE_OP|LANE_OP32|LANE_OP16|MASK_OP|COND_OP)\((\w+),",
                      DEFS.read_text(), re.M)


def _macro(ins) -> str:
    if ins.sem_class == "mask":
        return "MASK_OP"
    return "LANE_OP" if set(ins.widths) == set(LANE_WIDTHS) else f"LANE_OP{ins.widths[0]}"


def test_every_instruction_and_condition_has_one_line_in_table_order() -> None:
    want = [(_macro(i), i.c_name) for i in DEFINED]
    want += [("COND_OP", name.upper()) for name in CONDITIONS]
    assert definitions() == want


@pytest.mark.parametrize("width", LANE_WIDTHS)
def test_the_compiled_core_has_each_definition_and_no_other(width) -> None:
    lib = cbackend.load_core().lib
    defined = {op for op in range(256) if lib.emu_has_definition(op, width)}
    assert defined == {i.opcode for i in DEFINED if width in i.widths}


def test_a_core_missing_a_definition_is_refused() -> None:
    real = cbackend.load_core()
    missing = DEFINED[-1].opcode

    class Lib:
        def __getattr__(self, name):
            return getattr(real.lib, name)

        def emu_has_definition(self, op, width):
            return 0 if op == missing else real.lib.emu_has_definition(op, width)

    fake = types.SimpleNamespace(ffi=real.ffi, lib=Lib())
    assert cbackend._mismatch(real) is None
    assert cbackend._mismatch(fake) == (f"cext/lane_ops.def has no line for "
                                        f"{DEFINED[-1].mnemonic} at 32-bit lanes")


def test_every_sem_has_one_signature() -> None:
    for ins in TABLE:
        if ins.sem is not None:
            assert len(inspect.signature(ins.sem).parameters) == 4, ins.mnemonic
