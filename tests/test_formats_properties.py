"""Golden model vs the scalar reference (every format) on hypothesis data, and its structural
properties: encode/decode round trip, row vs column, padding and cropping, NaN/Inf blocks."""

from unittest.mock import patch

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from pimisa.mx.formats import (
    FORMATS,
    baseline,
    blocks,
    decode,
    encode,
    quantize_dequantize,
    reference,
)
from pimisa.mx.formats.samples import adversarial

NAMES = list(FORMATS)
shapes = st.tuples(st.integers(1, 20), st.integers(1, 40))


@st.composite
def tensors(draw, shape=shapes, nonfinite=True):
    """2-D float32 tensors: raw float32 values, values on a binary grid around one scale (many
    rounding ties), or the adversarial mixture; optionally with a few Inf/NaN."""
    rows, cols = draw(shape)
    mode = draw(st.sampled_from(["floats", "grid", "adversarial"]))
    if mode == "floats":
        elems = st.floats(width=32, allow_nan=False, allow_infinity=False)
        x = draw(arrays(np.float32, (rows, cols), elements=elems))
    elif mode == "grid":
        ints = draw(arrays(np.int32, (rows, cols), elements=st.integers(-600, 600)))
        x = (ints * np.exp2(float(draw(st.integers(-150, 118))))).astype(np.float32)
    else:
        seed = draw(st.integers(0, 2**32 - 1))
        x = adversarial(np.random.default_rng(seed), (rows, cols))
    if nonfinite and draw(st.booleans()):
        special = st.sampled_from([np.inf, -np.inf, np.nan])
        for _ in range(draw(st.integers(1, 3))):
            x[draw(st.integers(0, rows - 1)), draw(st.integers(0, cols - 1))] = draw(special)
    return x


def assert_same_values(got, want, name=None):
    """Bit-identical float32 values, except that NaN == NaN and, for MX9/MX6/MX4 (a zero
    magnitude's sign is free there), +0 == -0; OCP formats (`name`) compare zero signs too."""
    assert got.dtype == np.float32 and got.shape == want.shape
    np.testing.assert_array_equal(got, want)
    if name is None or FORMATS[name].family != "ocp":
        return
    same = got.view(np.uint32) == want.view(np.uint32)
    assert (same | (np.isnan(got) & np.isnan(want))).all(), "values differ in their bits"


def assert_same_codes(got, want):
    assert type(got) is type(want)
    for field in ("codes", "shared_exp", "micro_exp", "scale"):
        if hasattr(want, field):
            np.testing.assert_array_equal(getattr(got, field), getattr(want, field), field)


@pytest.mark.parametrize("name", NAMES)
@given(
    x=tensors(),
    direction=st.sampled_from(["row", "col"]),
    chunk=st.sampled_from([blocks.CHUNK_ELEMENTS, 16, 48, 100]),
)
def test_matches_scalar_reference(name, x, direction, chunk):
    want_values, want_codes = reference.quantize(x, name, direction)
    with patch.object(blocks, "CHUNK_ELEMENTS", chunk):  # small chunks: many chunk edges
        assert_same_values(quantize_dequantize(x, name, direction), want_values, name)
        assert_same_codes(encode(x, name, direction), want_codes)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("direction", ["row", "col"])
@pytest.mark.parametrize("shape", [(203, 517), (37, 2100)])
def test_matches_baseline_on_big_tensors(name, direction, shape):
    # many default-size chunks, including the column path that splits rows of blocks
    rng = np.random.default_rng(11)
    x = adversarial(rng, shape)
    x[rng.random(shape) < 1e-4] = np.inf
    assert_same_values(
        quantize_dequantize(x, name, direction), baseline.quantize_dequantize(x, name, direction),
        name,
    )


@pytest.mark.parametrize("name", NAMES)
@given(x=tensors(shape=st.tuples(st.integers(1, 70), st.integers(1, 70))))
def test_decode_inverts_encode(name, x):
    for direction in ("row", "col"):
        assert_same_values(
            decode(encode(x, name, direction)), quantize_dequantize(x, name, direction), name
        )


@pytest.mark.parametrize("name", NAMES)
@given(x=tensors(shape=st.tuples(st.integers(1, 70), st.integers(1, 70))))
def test_column_is_row_of_transpose(name, x):
    assert_same_values(quantize_dequantize(x, name, "col"), quantize_dequantize(x.T, name, "row").T)
    col, row = encode(x, name, "col"), encode(x.T, name, "row")
    np.testing.assert_array_equal(col.codes, row.codes.T)
    if hasattr(col, "micro_exp"):
        np.testing.assert_array_equal(col.shared_exp, row.shared_exp.T)
        np.testing.assert_array_equal(col.micro_exp, row.micro_exp.T)
    else:
        np.testing.assert_array_equal(col.scale, row.scale.T)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("direction", ["row", "col"])
@pytest.mark.parametrize("shape", [(1, 1), (3, 17), (17, 3), (33, 35), (31, 65)])
def test_padding_and_crop(name, direction, shape):
    fmt = FORMATS[name]
    k = fmt.block_size
    x = adversarial(np.random.default_rng(sum(shape)), shape)
    rows, cols = shape
    prow, pcol = padded_shape(shape, k, direction)
    padded = np.zeros((prow, pcol), np.float32)
    padded[:rows, :cols] = x
    got = quantize_dequantize(x, name, direction)
    assert_same_values(got, quantize_dequantize(padded, name, direction)[:rows, :cols])
    enc = encode(x, name, direction)
    assert enc.shape == shape
    assert enc.codes.shape == (prow, pcol)
    per_block = (prow, pcol // k) if direction == "row" else (prow // k, pcol)
    if fmt.family == "shared_micro":
        assert enc.shared_exp.shape == per_block
        pairs = (prow, pcol // 2) if direction == "row" else (prow // 2, pcol)
        assert enc.micro_exp.shape == pairs
    else:
        assert enc.scale.shape == per_block
    assert_same_codes(enc, encode(padded, name, direction))


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("bad", [np.inf, -np.inf, np.nan])
def test_nonfinite_block_is_all_nan(name, bad):
    fmt = FORMATS[name]
    k = fmt.block_size
    x = adversarial(np.random.default_rng(5), (2, 3 * k), kinds=("normal",))
    clean = quantize_dequantize(x, name)
    x[1, k + 5] = bad
    got = quantize_dequantize(x, name)
    assert np.isnan(got[1, k : 2 * k]).all()
    mask = np.ones(x.shape, bool)
    mask[1, k : 2 * k] = False
    assert_same_values(got[mask], clean[mask])
    enc = encode(x, name)
    assert (enc.codes[1, k : 2 * k] == 0).all()
    marks = enc.shared_exp if fmt.family == "shared_micro" else enc.scale
    assert marks[1].tolist() == [marks[1, 0], 255, marks[1, 2]] and marks[1, 0] != 255
    if fmt.family == "shared_micro":
        assert (enc.micro_exp[1, k // 2 : k] == 0).all()


@pytest.mark.parametrize("name", NAMES)
def test_zero_sign_follows_input(name):
    fmt = FORMATS[name]
    x = np.zeros((1, fmt.block_size), np.float32)
    x[0, :3] = [1.0, -0.0, -1e-30]
    enc = encode(x, name)
    neg_zero = 0 if fmt.name == "mxint8" else 1 << (fmt.element_bits - 1)
    assert enc.codes[0, 1:3].tolist() == [neg_zero, neg_zero]
    assert enc.codes[0, 3] == 0


def test_signed_m():
    x = np.zeros((1, 16), np.float32)
    x[0, :4] = [1.0, -0.5, -0.0, 0.25]
    assert encode(x, "mx9").signed_m[0, :4].tolist() == [64, -32, 0, 32]  # d = 1 for (-0, 0.25)


@pytest.mark.parametrize("name", ["mx6", "mxfp4_e2m1"])
@pytest.mark.parametrize("direction", ["row", "col"])
@pytest.mark.parametrize("shape", [(0, 5), (5, 0), (0, 0)])
def test_empty_tensor(name, direction, shape):
    x = np.zeros(shape, np.float32)
    assert quantize_dequantize(x, name, direction).shape == shape
    enc = encode(x, name, direction)
    assert decode(enc).shape == shape
    assert enc.codes.shape == padded_shape(shape, FORMATS[name].block_size, direction)


def padded_shape(shape, k, direction):
    rows, cols = shape
    return (rows, -(-cols // k) * k) if direction == "row" else (-(-rows // k) * k, cols)


@pytest.mark.parametrize("name", NAMES)
def test_other_real_dtypes_are_cast_to_float32(name):
    x64 = np.random.default_rng(3).standard_normal((5, 40))
    assert_same_values(
        quantize_dequantize(x64, name), quantize_dequantize(x64.astype(np.float32), name)
    )
    ints = [[1, -2, 3], [4, 5, -6]]
    assert_same_values(
        quantize_dequantize(ints, name, "col"),
        quantize_dequantize(np.array(ints, np.float32), name, "col"),
    )


@pytest.mark.parametrize("name", NAMES)
def test_input_is_not_modified(name):
    x = adversarial(np.random.default_rng(9), (20, 50))
    x[3, 3] = np.nan
    before = x.copy()
    for direction in ("row", "col"):
        quantize_dequantize(x, name, direction)
        encode(x, name, direction)
    np.testing.assert_array_equal(x.view(np.uint32), before.view(np.uint32))


def test_mxint8_has_no_negative_zero():
    """MXINT8 elements are two's complement (OCP MX v1.0): -0.0 and a negative that rounds to
    0 are the code 0x00, +0, in the codes, their decoding and quantize_dequantize alike."""
    x = np.ones((1, 32), np.float32)
    x[0, :3] = [-0.0, -1e-5, -1 / 256]  # the last is a tie: rounds to even, 0
    enc = encode(x, "mxint8")
    assert enc.codes[0, :3].tolist() == [0, 0, 0]
    for values in (decode(enc), quantize_dequantize(x, "mxint8"),
                   baseline.quantize_dequantize(x, "mxint8"), reference.quantize(x, "mxint8")[0]):
        assert values[0, :3].view(np.uint32).tolist() == [0, 0, 0]
