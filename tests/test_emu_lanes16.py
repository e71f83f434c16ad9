"""Every 16-bit lane instruction against an independent oracle, on both backends.

Integer ops against int16/uint16 numpy arithmetic (shrvr against numpy's round-half-to-even
`rint` of the exact quotient), FP16 ops against numpy float16 arithmetic, BF16 ops against
ml_dtypes bfloat16 arithmetic, compares against int16/uint16 comparisons; NaN results must be
the canonical 0x7E00 (FP16) / 0x7FC0 (BF16). One command runs over many units at once, on
states drawn with 16-bit edge values.
"""

from __future__ import annotations

import ml_dtypes
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pimisa.arch import Geometry
from pimisa.emulator import Machine
from pimisa.emulator.cbackend import CBackend
from pimisa.emulator.twin import NumpyBackend
from pimisa.isa import BY_MNEMONIC, CONDITIONS, RECORD_DTYPE, TABLE
from pimisa.testing import lane_arrays

BF16 = ml_dtypes.bfloat16
BACKENDS = {"c": CBackend(threads=1), "c-soft-fp16": CBackend(threads=1, soft_fp16=True),
            "numpy": NumpyBackend()}


def geometry(lanes: int) -> Geometry:
    """64 units of `lanes` 16-bit lanes (16: the vector path; 3: the scalar path)."""
    return Geometry(stacks=1, channels=4, banks=16, bank_groups=1, rows=4,
                    row_bytes=lanes * 2, word_bits=lanes * 16, lanes=lanes,
                    vector_registers=4, mask_registers=2, banks_per_pim_unit=1, lane_bits=16)


def _u16(x: np.ndarray) -> np.ndarray:
    return np.asarray(x).astype(np.int64).astype(np.uint16)


def _s16(x: np.ndarray) -> np.ndarray:
    return x.view(np.int16).astype(np.int64)


def _shift_oracle(kind: str, a: np.ndarray, s: np.ndarray) -> np.ndarray:
    s = s.astype(np.int64)
    if kind == "shl":
        return _u16(np.where(s >= 16, 0, a.astype(np.int64) << np.minimum(s, 15)))
    if kind == "shr":
        return _u16(np.where(s >= 16, 0, a.astype(np.int64) >> np.minimum(s, 15)))
    if kind == "sra":
        return _u16(_s16(a) >> np.minimum(s, 15))
    # round half to even of the exact quotient a / 2^s (exact in float64 for a < 2^16)
    return _u16(np.rint(a.astype(np.float64) / np.ldexp(1.0, np.minimum(s, 64))))


def _float_oracle(dtype: type, nan: int, op: str, d: np.ndarray, a: np.ndarray,
                  b: np.ndarray) -> np.ndarray:
    x, y, z = a.view(dtype), b.view(dtype), d.view(dtype)
    with np.errstate(all="ignore"):
        r = {"fadd": lambda: x + y, "fsub": lambda: x - y, "fmul": lambda: x * y,
             "fmac": lambda: z + x * y}[op]()
    r = np.asarray(r, dtype=dtype)
    return np.where(np.isnan(r.astype(np.float32)), np.uint16(nan), r.view(np.uint16))


def _field_oracle(a: np.ndarray, d: np.ndarray, imm: int, insert: bool) -> np.ndarray:
    """bfx / bfi bit by bit: destination bit j of p .. p + w - 1 (below 16) takes source bit
    s + j - p (0 past bit 15); s and p are taken mod 16."""
    s, w, p = imm & 15, (imm >> 8) & 63, (imm >> 16) & 15
    src = (a[..., None].astype(np.int64) >> np.arange(16)) & 1
    out = (d[..., None].astype(np.int64) >> np.arange(16)) & 1 if insert else np.zeros_like(src)
    for j in range(p, min(p + w, 16)):
        k = s + j - p
        out[..., j] = src[..., k] if k < 16 else 0
    return _u16((out << np.arange(16)).sum(axis=-1))


def oracle(mnemonic: str, d: np.ndarray, a: np.ndarray, b: np.ndarray, imm: int) -> np.ndarray:
    """The expected vd lanes of one 16-bit lane instruction."""
    lo = np.uint16(imm & 0xFFFF)
    ai, bi = a.astype(np.int64), b.astype(np.int64)
    base, _, kind = mnemonic.partition(".")
    if kind == "f16":
        return _float_oracle(np.float16, 0x7E00, base, d, a, b)
    if kind == "bf16":
        return _float_oracle(BF16, 0x7FC0, base, d, a, b)
    table = {
        "mov": lambda: a, "li": lambda: np.full_like(a, lo), "not": lambda: _u16(~ai),
        "add": lambda: _u16(ai + bi), "sub": lambda: _u16(ai - bi), "and": lambda: a & b,
        "or": lambda: a | b, "xor": lambda: a ^ b, "mul": lambda: _u16(ai * bi),
        "min": lambda: _u16(np.minimum(_s16(a), _s16(b))),
        "max": lambda: _u16(np.maximum(_s16(a), _s16(b))),
        "minu": lambda: np.minimum(a, b), "maxu": lambda: np.maximum(a, b),
        "addi": lambda: _u16(ai + int(lo)), "andi": lambda: a & lo, "ori": lambda: a | lo,
        "xori": lambda: a ^ lo, "slli": lambda: _u16(ai << int(lo)),
        "srli": lambda: _u16(ai >> int(lo)), "srai": lambda: _u16(_s16(a) >> int(lo)),
        "shlv": lambda: _shift_oracle("shl", a, b), "shrv": lambda: _shift_oracle("shr", a, b),
        "srav": lambda: _shift_oracle("sra", a, b), "shrvr": lambda: _shift_oracle("rne", a, b),
        "mini": lambda: _u16(np.minimum(_s16(a), _s16(np.array(lo)))),
        "maxi": lambda: _u16(np.maximum(_s16(a), _s16(np.array(lo)))),
        "minui": lambda: np.minimum(a, lo), "maxui": lambda: np.maximum(a, lo),
        "bfx": lambda: _field_oracle(a, d, imm, insert=False),
        "bfi": lambda: _field_oracle(a, d, imm, insert=True),
    }
    return table[mnemonic]()


LANE16 = [i for i in TABLE if i.sem_class in ("lane", "lane_acc") and 16 in i.widths]


def test_every_16_bit_lane_instruction_has_an_oracle() -> None:
    z = np.zeros(4, np.uint16)
    for ins in LANE16:
        assert oracle(ins.mnemonic, z, z, z, 0).shape == (4,), ins.mnemonic


def _record(ins, imm: int = 0, cc: int = 0) -> np.ndarray:
    rec = np.zeros(1, RECORD_DTYPE)
    rec["op"], rec["bank"], rec["cc"] = ins.opcode, 0xFF, cc
    fields = {"vd": ("rd", 0), "va": ("ra", 1), "vb": ("rb", 2), "md": ("rd", 0)}
    for op in ins.operands:
        if op in fields:
            rec[fields[op][0]] = fields[op][1]
        elif op in ("imm", "sh", "field"):
            rec["imm"] = imm
    return rec


def _machine(data: st.DataObject, lanes: int) -> Machine:
    m = Machine(geometry(lanes))
    m.vregs[...] = data.draw(lane_arrays(m.vregs.shape, np.uint16))
    return m


@pytest.mark.parametrize("backend", sorted(BACKENDS))
@pytest.mark.parametrize("ins", LANE16, ids=lambda ins: ins.mnemonic)
@settings(max_examples=max(10, settings.default.max_examples // 5), deadline=None)
@given(data=st.data())
def test_16_bit_lane_op_matches_its_oracle(ins, backend, data) -> None:
    lanes = data.draw(st.sampled_from([16, 3]))
    m = _machine(data, lanes)
    if "sh" in ins.operands:
        imm = data.draw(st.integers(0, 15))
    elif "field" in ins.operands:  # s and p past 15 act mod 16, w past 15 takes every bit
        imm = sum(data.draw(st.integers(0, top)) << at for top, at in ((31, 0), (63, 8), (31, 16)))
    else:
        imm = data.draw(st.one_of(st.sampled_from([0, 1, -1, 0x7FFF, 0x8000, 0xFFFF, -32768]),
                                  st.integers(-(1 << 15), 0xFFFF)))
    d, a, b = (m.vregs[i].copy() for i in range(3))
    if "va" not in ins.operands:
        a = d
    want = oracle(ins.mnemonic, d, a, b if "vb" in ins.operands else a, imm)
    assert BACKENDS[backend].execute(m, _record(ins, imm), 0, 1) is None
    got = m.vregs[0]
    bad = np.argwhere(got != want)
    assert not bad.size, (f"{ins.mnemonic} lane {tuple(bad[0])}: d={d[tuple(bad[0])]:#06x} "
                          f"a={a[tuple(bad[0])]:#06x} b={b[tuple(bad[0])]:#06x} imm={imm}: got "
                          f"{got[tuple(bad[0])]:#06x}, want {want[tuple(bad[0])]:#06x}")


@pytest.mark.parametrize("backend", sorted(BACKENDS))
@pytest.mark.parametrize("cond", sorted(CONDITIONS))
@settings(max_examples=max(10, settings.default.max_examples // 5), deadline=None)
@given(data=st.data())
def test_16_bit_compares_match_int16_and_uint16(cond, backend, data) -> None:
    code, signed, compare = CONDITIONS[cond]
    lanes = data.draw(st.sampled_from([16, 3]))
    m = _machine(data, lanes)
    imm = data.draw(st.integers(-(1 << 15), 0xFFFF))
    use_imm = data.draw(st.booleans())
    ins = BY_MNEMONIC["cmpi" if use_imm else "cmp"]
    a = m.vregs[1]
    b = np.full_like(a, imm & 0xFFFF) if use_imm else m.vregs[2]
    view = np.int16 if signed else np.uint16
    result = compare(a.view(view), b.view(view))
    want = (result.astype(np.uint32) << np.arange(lanes, dtype=np.uint32)).sum(axis=1)
    assert BACKENDS[backend].execute(m, _record(ins, imm, code), 0, 1) is None
    np.testing.assert_array_equal(m.masks[0], want.astype(np.uint32))


@pytest.mark.parametrize("backend", sorted(BACKENDS))
@pytest.mark.parametrize("kind", ["f16", "bf16"])
def test_16_bit_float_ops_on_every_operand_class(kind, backend) -> None:
    """Dense pairs of every exponent (subnormals, normals, overflow, inf, NaN, ties) at once:
    64 units x 16 lanes per command, many commands."""
    rng = np.random.default_rng(7)
    m = Machine(geometry(16))
    dtype, nan = (np.float16, 0x7E00) if kind == "f16" else (BF16, 0x7FC0)
    for base in ("fadd", "fsub", "fmul", "fmac"):
        ins = BY_MNEMONIC[f"{base}.{kind}"]
        for _ in range(8):
            m.vregs[:3] = rng.integers(0, 1 << 16, size=m.vregs[:3].shape, dtype=np.uint16)
            # low-mantissa operands make exact ties and carries frequent
            m.vregs[2] &= np.uint16(0xFF81)
            d, a, b = (m.vregs[i].copy() for i in range(3))
            want = _float_oracle(dtype, nan, base, d, a, b)
            assert BACKENDS[backend].execute(m, _record(ins), 0, 1) is None
            np.testing.assert_array_equal(m.vregs[0], want, err_msg=ins.mnemonic)
