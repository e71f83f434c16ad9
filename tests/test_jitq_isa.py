"""The ISA additions of issue 13 (min/max with an immediate, bit-field extract/insert): their
documented semantics on hand-computed cases, on both backends, in the scalar (4-lane) and the
vector (8-lane) contexts of the C core."""

from __future__ import annotations

import numpy as np
import pytest

from pimisa.arch import Geometry
from pimisa.emulator import Machine, get_backend, run
from pimisa.encoding import encode, pred_code
from pimisa.program import Program


def geometry(lanes: int) -> Geometry:
    return Geometry(stacks=1, channels=1, banks=2, bank_groups=1, rows=8,
                    row_bytes=4 * lanes * 4, word_bits=32 * lanes, lanes=lanes,
                    vector_registers=8, mask_registers=4, banks_per_pim_unit=1)


A = [0x12345678, 0xF0000001, 0xFFFFFFFF, 0, 0x80000000, 7, 0x7FFFFFFF, 0x00FF00FF]
D = 0xAAAAAAAA


def bf(s: int, w: int, p: int = 0) -> int:
    """The immediate of a bit-field instruction: w bits from bit s, placed at bit p."""
    return s | w << 8 | p << 16


CASES = [
    ("mini", -5, [0xFFFFFFFB, 0xF0000001, 0xFFFFFFFB, 0xFFFFFFFB, 0x80000000, 0xFFFFFFFB,
                  0xFFFFFFFB, 0xFFFFFFFB]),
    ("maxi", 7, [0x12345678, 7, 7, 7, 7, 7, 0x7FFFFFFF, 0x00FF00FF]),
    ("minui", 0x7FFFFFFF, [0x12345678, 0x7FFFFFFF, 0x7FFFFFFF, 0, 0x7FFFFFFF, 7, 0x7FFFFFFF,
                           0x00FF00FF]),
    ("maxui", 0x80000000, [0x80000000, 0xF0000001, 0xFFFFFFFF, 0x80000000, 0x80000000,
                           0x80000000, 0x80000000, 0x80000000]),
    # extract 8 bits from bit 4
    ("bfx", bf(4, 8), [0x67, 0x00, 0xFF, 0, 0, 0, 0xFF, 0x0F]),
    # 8 bits from bit 28 placed at bit 4: only the 4 bits below bit 32 exist
    ("bfx", bf(28, 8, 4), [0x10, 0xF0, 0xF0, 0, 0x80, 0, 0x70, 0]),
    # width 32 and more takes every bit from s up; a field past bit 31 is dropped
    ("bfx", bf(0, 40), A),
    ("bfx", bf(31, 1, 31), [0, 0x80000000, 0x80000000, 0, 0x80000000, 0, 0, 0]),
    # insert the low 4 bits at bit 28, keeping vd's other bits
    ("bfi", bf(0, 4, 28), [0x8AAAAAAA, 0x1AAAAAAA, 0xFAAAAAAA, 0x0AAAAAAA, 0x0AAAAAAA,
                           0x7AAAAAAA, 0xFAAAAAAA, 0xFAAAAAAA]),
    # the sign bit into bit 3
    ("bfi", bf(31, 1, 3), [D & ~8, D | 8, D | 8, D & ~8, D | 8, D & ~8, D & ~8, D & ~8]),
    # width 0 changes nothing
    ("bfi", bf(5, 0, 9), [D] * 8),
]


@pytest.mark.parametrize("backend", ["c", "numpy"])
@pytest.mark.parametrize("lanes", [4, 8])
@pytest.mark.parametrize(("mnemonic", "imm", "want"), CASES,
                         ids=[f"{c[0]}-{c[1]:#x}" for c in CASES])
def test_hand_computed(backend: str, lanes: int, mnemonic: str, imm: int,
                       want: list[int]) -> None:
    m = Machine(geometry(lanes), 1, 1)
    m.vregs[0] = A[:lanes]
    m.vregs[1] = D
    run(Program(np.array([encode(mnemonic, {"rd": 1, "ra": 0, "imm": imm})])), m,
        get_backend(backend))
    assert [int(x) for x in m.vregs[1, 0]] == want[:lanes]


@pytest.mark.parametrize("backend", ["c", "numpy"])
@pytest.mark.parametrize("lanes", [4, 8])
def test_predicated_insert_keeps_unselected_lanes(backend: str, lanes: int) -> None:
    m = Machine(geometry(lanes), 1, 1)
    m.vregs[0] = 0xF
    m.vregs[1] = D
    m.masks[2] = 0b0101
    cmd = encode("bfi", {"rd": 1, "ra": 0, "imm": bf(0, 4, 0)}, pred=pred_code(2))
    run(Program(np.array([cmd])), m, get_backend(backend))
    want = [D | 0xF if k in (0, 2) else D for k in range(lanes)]
    assert [int(x) for x in m.vregs[1, 0]] == want
