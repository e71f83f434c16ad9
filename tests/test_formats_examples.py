"""The worked examples of docs/formats.md and a few hand-derived cases."""

import numpy as np
import pytest

from pimisa.mx.formats import FORMATS, decode, encode, quantize_dequantize

MX_BLOCK = [
    1,
    -0.75,
    0.3,
    0.1,
    0.6,
    0.55,
    -0.01,
    0.02,
    1.9,
    1.99,
    0.49,
    -0.26,
    0,
    0.5,
    0.251,
    -0.125,
]
MX_MICRO = [0, 1, 1, 1, 0, 1, 1, 1]
MX_EXPECTED = {
    # docs/formats.md section 1
    "mx9": (
        [64, -48, 38, 13, 77, 70, -1, 3, 122, 127, 63, -33, 0, 64, 32, -16],
        [1, -0.75, 0.296875, 0.1015625, 0.6015625, 0.546875, -0.0078125, 0.0234375,
         1.90625, 1.984375, 0.4921875, -0.2578125, 0, 0.5, 0.25, -0.125],
    ),
    # hand-derived: lsb = 1/8 (d = 0) or 1/16 (d = 1); 1.9 and 1.99 saturate to 15/8 (spec)
    "mx6": (
        [8, -6, 5, 2, 10, 9, 0, 0, 15, 15, 8, -4, 0, 8, 4, -2],
        [1, -0.75, 0.3125, 0.125, 0.625, 0.5625, -0.0, 0, 1.875, 1.875, 0.5, -0.25,
         0, 0.5, 0.25, -0.125],
    ),
    # docs/formats.md section 1 values; M hand-derived (lsb 1/2 or 1/4)
    "mx4": (
        [2, -2, 1, 0, 2, 2, 0, 0, 3, 3, 2, -1, 0, 2, 1, 0],
        [1, -1, 0.25, 0, 0.5, 0.5, -0.0, 0, 1.5, 1.5, 0.5, -0.25, 0, 0.5, 0.25, -0.0],
    ),
}  # fmt: skip


@pytest.mark.parametrize("name", ["mx9", "mx6", "mx4"])
@pytest.mark.parametrize("direction", ["row", "col"])
def test_mx_worked_example(name, direction):
    x = np.array([MX_BLOCK], np.float32)
    if direction == "col":
        x = x.T
    signed, values = MX_EXPECTED[name]
    got = quantize_dequantize(x, name, direction).ravel()
    assert got.tolist() == values
    enc = encode(x, name, direction)
    assert enc.signed_m.ravel().tolist() == signed
    assert enc.shared_exp.ravel().tolist() == [127]
    assert enc.micro_exp.ravel().tolist() == MX_MICRO
    assert decode(enc).ravel().tolist() == values


def test_mx6_saturates_like_quark_013():
    x = np.zeros((1, 16), np.float32)
    x[0, :2] = [1.9, 1.99]
    assert quantize_dequantize(x, "mx6").ravel()[:2].tolist() == [1.875, 1.875]


@pytest.mark.parametrize(
    ("name", "block", "expected"),
    [
        # E = 127, pair (0.375, 0.125) has d = 1, lsb 1/4: 1.5 -> 2 (even), 0.5 -> 0 (even)
        ("mx4", [1.0, 0, 0.375, 0.125], [1.0, 0, 0.5, 0]),
        # lsb 1/4: 2.5 -> 2, 3.5 -> 4 -> saturates at 3
        ("mx4", [1.0, 0, 0.625, 0.875], [1.0, 0, 0.5, 0.75]),
        # MX9, d = 1, lsb 2**-7: 0.5 + half an lsb is a tie -> 64 (even); + 1.5 lsb -> 66
        ("mx9", [1.0, 0, 0.5 + 2**-8, 0.5 + 3 * 2**-8], [1.0, 0, 0.5, 0.5 + 2**-6]),
        # subnormal inputs flush to 0 even where the lsb (2**-133 here) could hold them
        ("mx9", [2**-126, 0, 2**-127, -(2**-130)], [2**-126, 0, 0, -0.0]),
        # all-subnormal block: E = 0, everything 0
        ("mx6", [2**-127, 2**-140, 0, -(2**-149)], [0, 0, 0, -0.0]),
        # huge block at E = 254, lsb 2**124: 3e38 -> 14.1 -> 14; the second pair has d = 1
        ("mx6", [3.0e38, -1.7e38, 2.0**126, 0], [14 * 2.0**124, -(2.0**127), 2.0**126, 0]),
    ],
)
def test_mx_hand_derived(name, block, expected):
    x = np.zeros((1, 16), np.float32)
    x[0, : len(block)] = block
    got = quantize_dequantize(x, name).ravel()[: len(block)]
    np.testing.assert_array_equal(got, np.array(expected, np.float32))


def test_mx_huge_block_codes():
    x = np.zeros((1, 16), np.float32)
    x[0, :2] = [3.0e38, -1.7e38]
    enc = encode(x, "mx6")
    assert enc.shared_exp.tolist() == [[254]]
    assert enc.signed_m.ravel()[:2].tolist() == [14, -8]


OCP_X = [0.1, -0.25, 0.3, 1.0, -2.7, 3.14159, 0, 5.5]
OCP_TABLE = {
    "mxfp8_e4m3": (0x79, [0.1015625, -0.25, 0.3125, 1, -2.75, 3.25, 0, 5.5]),
    "mxfp8_e5m2": (0x72, [0.09375, -0.25, 0.3125, 1, -2.5, 3, 0, 6]),
    "mxfp6_e3m2": (0x7D, [0.09375, -0.25, 0.3125, 1, -2.5, 3, 0, 6]),
    "mxfp6_e2m3": (0x7F, [0.125, -0.25, 0.25, 1, -2.75, 3.25, 0, 5.5]),
    "mxfp4_e2m1": (0x7F, [0, -0.0, 0.5, 1, -3, 3, 0, 6]),
    "mxint8": (0x81, [0.125, -0.25, 0.3125, 1, -2.6875, 3.125, 0, 5.5]),
}


@pytest.mark.parametrize("name", list(OCP_TABLE))
@pytest.mark.parametrize("direction", ["row", "col"])
def test_ocp_worked_example(name, direction):
    x = np.array([OCP_X], np.float32)
    if direction == "col":
        x = x.T
    scale, values = OCP_TABLE[name]
    assert quantize_dequantize(x, name, direction).ravel().tolist() == values
    enc = encode(x, name, direction)
    assert enc.scale.ravel().tolist() == [scale]
    assert decode(enc).ravel().tolist() == values


def test_ocp_worked_example_codes():
    x = np.array([OCP_X], np.float32)
    # E4M3 at X = 2**-6: 6.5 = 1.101b * 2**2 -> (0, 9, 5); -16 -> (1, 11, 0); 352 -> (0, 15, 3)
    codes = encode(x, "mxfp8_e4m3").codes[0]
    assert [codes[0], codes[1], codes[7]] == [0x4D, 0xD8, 0x7B]
    # MXINT8 at X = 4: -43/64 -> two's complement 0xD5
    assert encode(x, "mxint8").codes[0, 4] == 0xD5


def test_e4m3_saturation_example():
    x = np.full((1, 32), 0.5, np.float32)
    x[0, :4] = [485, 475, 400, -485]
    got = quantize_dequantize(x, "mxfp8_e4m3").ravel()[:4]
    # The spec prints 416 for 400, but 400 = 12.5 ulps (ulp 32 at X = 1) is a tie and rounds
    # half to even to 12 * 32 = 384, as ml_dtypes, gfloat and microxcaling "even" also give.
    assert got.tolist() == [448, 448, 384, -448]


def test_e4m3_saturation_after_scaling():
    x = np.zeros((1, 32), np.float32)
    x[0, :2] = [960, 957]
    enc = encode(x, "mxfp8_e4m3")
    assert enc.scale[0, 0] == 127 + 1  # X = 2
    assert quantize_dequantize(x, "mxfp8_e4m3").ravel()[:2].tolist() == [896, 896]


@pytest.mark.parametrize(
    ("name", "bits", "element_bits", "block"),
    [
        ("mx9", 9, 8, 16),
        ("mx6", 6, 5, 16),
        ("mx4", 4, 3, 16),
        ("mxfp8_e4m3", 8.25, 8, 32),
        ("mxfp8_e5m2", 8.25, 8, 32),
        ("mxfp6_e3m2", 6.25, 6, 32),
        ("mxfp6_e2m3", 6.25, 6, 32),
        ("mxfp4_e2m1", 4.25, 4, 32),
        ("mxint8", 8.25, 8, 32),
    ],
)
def test_registry(name, bits, element_bits, block):
    f = FORMATS[name]
    assert (f.name, f.bits_per_element, f.element_bits, f.block_size) == (
        name, bits, element_bits, block,
    )  # fmt: skip
    assert f.family == ("shared_micro" if block == 16 else "ocp")


def test_registry_is_complete():
    assert sorted(FORMATS) == sorted(
        ["mx9", "mx6", "mx4", "mxfp8_e4m3", "mxfp8_e5m2", "mxfp6_e3m2", "mxfp6_e2m3",
         "mxfp4_e2m1", "mxint8"]
    )  # fmt: skip
