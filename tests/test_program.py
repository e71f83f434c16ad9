"""The .pimb format: round trips, corruption detection, atomic writes, load speed shape."""

import struct

import numpy as np
import pytest
from hypothesis import given

from pimisa.arch import load_arch
from pimisa.encoding import encode
from pimisa.errors import InputError
from pimisa.isa import RECORD_DTYPE
from pimisa.program import (
    HEADER,
    SRCMAP_DTYPE,
    KernelMeta,
    Program,
    Region,
    load_program,
    program_from_bytes,
)
from pimisa.testing import programs

GEOM = load_arch().geometry


def _program(records):
    srcmap = np.zeros(len(records), SRCMAP_DTYPE)
    srcmap["line"] = np.arange(1, len(records) + 1)
    srcmap["col"] = 5
    meta = KernelMeta("k", "hbm3", [Region("W", "input", 0, 8, "hp16", {"fmt": "mx6"})],
                      {"block": 16})
    return Program(records, meta, srcmap, ["k.pimasm"])


@given(programs(GEOM))
def test_round_trip(records):
    prog = _program(records)
    back = program_from_bytes(prog.to_bytes())
    assert back.records.tobytes() == records.tobytes()
    assert back.meta == prog.meta
    assert back.files == ["k.pimasm"]
    assert back.location(len(records) - 1) == f"k.pimasm:{len(records)}:5"
    assert back.to_bytes() == prog.to_bytes()


def _sample():
    return np.array([encode("li", {"rd": 1, "imm": -5}), encode("ld", {"rd": 2, "row": 3,
                     "col": 4}), encode("nop")], dtype=RECORD_DTYPE)


def test_location_unknown():
    prog = Program(_sample())
    assert prog.location(1) == "command #1"


def _image():
    return _program(_sample()).to_bytes()


@pytest.mark.parametrize("mutate,message", [
    (lambda b: b[:10], "truncated header"),
    (lambda b: b"XIMB" + b[4:], "bad magic"),
    (lambda b: b[:4] + struct.pack("<H", 9) + b[6:], "format version 9"),
    (lambda b: b[:8] + bytes(8) + b[16:], "another ISA"),
    (lambda b: b[:-3], "truncated"),
    (lambda b: b + b"\0", "trailing bytes"),
    (lambda b: b[:16] + struct.pack("<Q", 2**40) + b[24:], "command count"),
    (lambda b: b[:HEADER.size] + b"[" + b[HEADER.size + 1:], "corrupt metadata"),
])
def test_corruption_is_rejected(mutate, message):
    with pytest.raises(InputError, match=message):
        program_from_bytes(mutate(_image()), "f.pimb")


def test_save_is_atomic(tmp_path, monkeypatch):
    path = tmp_path / "k.pimb"
    prog = _program(_sample())
    prog.save(path)
    assert load_program(path).records.tobytes() == prog.records.tobytes()

    def boom(self):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(Program, "to_bytes", boom)
    with pytest.raises(RuntimeError):
        prog.save(tmp_path / "other.pimb")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["k.pimb"]


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match="cannot read"):
        load_program(tmp_path / "nope.pimb")


def test_tile_rows_and_region_lookup():
    meta = KernelMeta("k", None, [Region("W", "input", 0, 8), Region("Q", "output", 8, 3)])
    assert meta.tile_rows == 11
    assert meta.region("Q").rows == 3
    with pytest.raises(InputError, match="no region 'Z'"):
        meta.region("Z")
