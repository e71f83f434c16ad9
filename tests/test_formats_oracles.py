"""OCP MX formats against independent oracles (docs/formats.md §4): ml_dtypes element casts with
a scale computed here, and gfloat's quantize_block, on adversarial data."""

import gfloat
import gfloat.formats as gf
import ml_dtypes
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from pimisa.mx.formats import FORMATS, encode, quantize_dequantize
from pimisa.mx.formats.samples import KINDS, adversarial

ML_DTYPES = {
    "mxfp8_e4m3": ml_dtypes.float8_e4m3fn,
    "mxfp8_e5m2": ml_dtypes.float8_e5m2,
    "mxfp6_e3m2": ml_dtypes.float6_e3m2fn,
    "mxfp6_e2m3": ml_dtypes.float6_e2m3fn,
    "mxfp4_e2m1": ml_dtypes.float4_e2m1fn,
}
GFLOAT = {
    "mxfp8_e4m3": gf.format_info_mxfp8_e4m3,
    "mxfp8_e5m2": gf.format_info_mxfp8_e5m2,
    "mxfp6_e3m2": gf.format_info_mxfp6_e3m2,
    "mxfp6_e2m3": gf.format_info_mxfp6_e2m3,
    "mxfp4_e2m1": gf.format_info_mxfp4_e2m1,
    "mxint8": gf.format_info_mxint8,
}


def to_blocks(x, direction):
    """(n, 32) float32 blocks in golden-model order, and a function mapping them back."""
    work = x if direction == "row" else x.T
    rows, cols = work.shape
    padded = np.pad(work, ((0, 0), (0, -cols % 32)))

    def back(blocks):
        out = blocks.reshape(padded.shape)[:, :cols]
        return out if direction == "row" else out.T

    return padded.reshape(-1, 32), back


def oracle_exponent(blocks):
    """se per block: floor(log2(amax)) (from frexp, exact) - emax, clamped at -127."""
    amax = np.abs(blocks.astype(np.float64)).max(axis=1, keepdims=True)
    return np.where(amax == 0, -127, np.frexp(amax)[1] - 1)


def ml_dtypes_oracle(x, name, direction):
    """(values, element codes, scale codes) from ml_dtypes casts."""
    fmt = FORMATS[name]
    blocks, back = to_blocks(x, direction)
    se = np.maximum(oracle_exponent(blocks) - fmt.emax_elem, -127)
    scale = np.ldexp(1.0, se)
    p = np.clip(blocks.astype(np.float64) / scale, -fmt.max_normal, fmt.max_normal)
    elems = p.astype(ML_DTYPES[name])
    values = (elems.astype(np.float64) * scale).astype(np.float32)
    return back(values), back(elems.view(np.uint8)), se + 127


adversarial_tensors = st.builds(
    lambda seed, rows, cols, kinds: adversarial(np.random.default_rng(seed), (rows, cols), kinds),
    st.integers(0, 2**32 - 1),
    st.integers(1, 40),
    st.integers(1, 80),
    st.lists(st.sampled_from(KINDS), min_size=1, max_size=4, unique=True).map(tuple),
)


@pytest.mark.parametrize("name", list(ML_DTYPES))
@pytest.mark.parametrize("direction", ["row", "col"])
@given(x=adversarial_tensors)
def test_against_ml_dtypes(name, direction, x):
    values, codes, scales = ml_dtypes_oracle(x, name, direction)
    np.testing.assert_array_equal(quantize_dequantize(x, name, direction), values)
    enc = encode(x, name, direction)
    got_codes = enc.codes[: x.shape[0], : x.shape[1]]
    np.testing.assert_array_equal(got_codes, codes)
    got_scales = enc.scale if direction == "row" else enc.scale.T
    np.testing.assert_array_equal(got_scales.reshape(-1, 1), scales)


def gfloat_oracle(x, name, direction):
    fi = GFLOAT[name]
    blocks, back = to_blocks(x, direction)
    out = np.empty(blocks.shape, np.float64)
    for i, block in enumerate(blocks.astype(np.float64)):
        out[i] = gfloat.quantize_block(
            fi, block, gfloat.compute_scale_amax, gfloat.RoundMode.TiesToEven
        )
    if name == "mxint8":
        # gfloat admits k = -128 (-2.0 * X); the spec saturates at -127/64 * X
        scale = np.ldexp(1.0, np.maximum(oracle_exponent(blocks), -127))
        out = np.maximum(out, -127 / 64 * scale)
    return back(out.astype(np.float32))


@pytest.mark.parametrize("name", list(GFLOAT))
@pytest.mark.parametrize("direction", ["row", "col"])
def test_against_gfloat(name, direction):
    # gfloat runs in Python per element, so one fixed adversarial tensor of 96 blocks
    rng = np.random.default_rng(2024)
    x = adversarial(rng, (48, 64) if direction == "row" else (64, 48))
    np.testing.assert_array_equal(
        quantize_dequantize(x, name, direction), gfloat_oracle(x, name, direction)
    )


def test_gfloat_mxint8_minus_two_is_the_known_difference():
    x = np.zeros((1, 32), np.float32)
    x[0, :2] = [1.0, -1.999]
    raw = gfloat.quantize_block(
        gf.format_info_mxint8, x[0].astype(np.float64), gfloat.compute_scale_amax,
        gfloat.RoundMode.TiesToEven,
    )  # fmt: skip
    assert raw[1] == -2.0
    assert quantize_dequantize(x, "mxint8")[0, 1] == -127 / 64
    assert encode(x, "mxint8").codes[0, 1] == 0x81
