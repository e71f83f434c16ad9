"""The ISA table: validation, semantics of the JIT-Q augmentations, encoding checks."""

import dataclasses

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from pimisa import isa
from pimisa.arch import load_arch
from pimisa.encoding import disassemble_one, encode, pred_code
from pimisa.isa import BY_MNEMONIC, RECORD_DTYPE, TABLE, validate_table
from pimisa.testing import programs, records
from pimisa.validate import check_records, record_problem

GEOM = load_arch().geometry
U32 = np.uint32


def test_table_is_valid_and_complete():
    validate_table()
    names = {i.mnemonic for i in TABLE}
    # The instruction classes the project requires.
    for needed in ["ld", "st", "add", "sub", "and", "or", "xor", "not", "slli", "srli", "srai",
                   "min", "max", "minu", "maxu", "mov", "li", "fadd", "fmul", "fmac", "cmp",
                   "cmpi", "shlv", "shrv", "shrvr", "nop", "barrier"]:
        assert needed in names


@pytest.mark.parametrize("change", [
    lambda t: t + (dataclasses.replace(t[0], mnemonic="zzz"),),  # duplicate opcode
    lambda t: t + (dataclasses.replace(t[0], opcode=0xEE),),  # duplicate mnemonic
    lambda t: t + (dataclasses.replace(t[0], mnemonic="q", opcode=0x1FF),),  # opcode too wide
    lambda t: t + (isa.Instr("q", 0xEE, ("vd", "vd"), "lane", "x", lambda a, b, i: a),),
    lambda t: t + (isa.Instr("q", 0xEE, ("bogus",), "none", "x"),),
    lambda t: t + (isa.Instr("q", 0xEE, ("vd",), "lane", "x"),),  # lane op without sem
    lambda t: t + (isa.Instr("q", 0xEE, ("vd", "mem"), "load", "x"),),  # memory flag wrong
])
def test_validation_rejects_bad_tables(change):
    with pytest.raises(ValueError):
        validate_table(change(TABLE))


def _sem(name, a, b=0, imm=0):
    zero = np.zeros(1, U32)
    return int(BY_MNEMONIC[name].sem(zero, np.array([a], U32), np.array([b], U32), imm)[0])


@given(st.integers(0, 2**32 - 1), st.integers(0, 40))
def test_shrvr_rounds_half_to_even(a, s):
    got = _sem("shrvr", a, s)
    q, r = divmod(a, 2**s)
    half = 2**s / 2
    want = q + (1 if (r > half or (r == half and s > 0 and q % 2 == 1)) else 0)
    assert got == want


@given(st.integers(0, 2**32 - 1), st.integers(0, 2**32 - 1))
def test_per_lane_shifts(a, s):
    assert _sem("shlv", a, s) == ((a << s) & 0xFFFFFFFF if s < 32 else 0)
    assert _sem("shrv", a, s) == (a >> s if s < 32 else 0)
    signed = a - 2**32 if a >= 2**31 else a
    assert _sem("srav", a, s) == (signed >> min(s, 31)) & 0xFFFFFFFF


def test_float_nan_is_canonical():
    inf = 0x7F800000
    ninf = 0xFF800000
    assert _sem("fadd", inf, ninf) == isa.CANONICAL_NAN
    assert _sem("fmul", 0, inf) == isa.CANONICAL_NAN
    one = 0x3F800000
    assert _sem("fadd", one, one) == 0x40000000


def test_encode_and_disassemble():
    rec = encode("cmp", {"cc": isa.CONDITIONS["gtu"][0], "rd": 1, "ra": 2, "rb": 3},
                 pred=pred_code(2, invert=True), bank=5)
    assert disassemble_one(rec) == "cmp.gtu m1, v2, v3 ?!m2 @b5"
    assert disassemble_one(encode("li", {"rd": 0, "imm": 0xFFFFFFFF})) == "li v0, -1"
    assert disassemble_one(encode("st", {"ra": 4, "row": 7, "col": 31})) == "st v4, [7, 31]"
    with pytest.raises(ValueError):
        encode("add", {"row": 1})


@given(programs(GEOM))
def test_strategy_programs_are_valid(prog):
    assert check_records(prog, GEOM) is None


@given(records(GEOM), st.sampled_from(["op", "rd", "ra", "rb", "cc", "pred", "bank", "col",
                                       "imm", "row"]), st.integers(0, 255))
def test_vectorised_check_agrees_with_scalar_check(rec, field, value):
    arr = np.array([rec, rec], dtype=RECORD_DTYPE)
    wide = np.array(value * 0x01010101, dtype=np.uint32)
    arr[1][field] = wide.view(np.int32) if field == "imm" else wide if field == "row" else value
    found = check_records(arr, GEOM)
    problem = record_problem(arr[1], GEOM)
    assert (found is None) == (problem is None)
    if found is not None:
        assert found == (1, problem)


def test_isa_hash_covers_the_encoding():
    assert isa.isa_hash_of(isa.table_fingerprint()) == isa.ISA_HASH
    fingerprint = isa.table_fingerprint()
    fingerprint["instructions"][0][1] = 0x7E  # renumber one opcode
    assert isa.isa_hash_of(fingerprint) != isa.ISA_HASH
    fingerprint = isa.table_fingerprint()
    fingerprint["record"][0] = ("op", "<u2")  # widen a field
    assert isa.isa_hash_of(fingerprint) != isa.ISA_HASH
