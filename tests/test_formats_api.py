"""Bad arguments: InputError for data, UsageError for names, one-line messages."""

import dataclasses

import numpy as np
import pytest

from pimisa.errors import InputError, UsageError
from pimisa.mx.formats import (
    FORMATS,
    OcpCodes,
    decode,
    encode,
    get_format,
    quantize_dequantize,
)


def one_line(exc_info):
    msg = str(exc_info.value)
    assert msg and "\n" not in msg
    return msg


@pytest.mark.parametrize(
    "x",
    [
        np.zeros(16, np.float32),
        np.zeros((2, 2, 16), np.float32),
        np.float32(1.0),
        np.array([["a", "b"]]),
        np.zeros((2, 16), np.complex64),
        [[1.0, 2.0], [3.0]],
        [[object()]],
        None,
    ],
)
@pytest.mark.parametrize("fn", [quantize_dequantize, encode])
def test_bad_data_is_input_error(fn, x):
    with pytest.raises(InputError) as exc:
        fn(x, "mx6", "row")
    one_line(exc)


@pytest.mark.parametrize("fmt", ["mx5", "MX6", "", None, 6])
def test_unknown_format_is_usage_error(fmt):
    with pytest.raises(UsageError) as exc:
        quantize_dequantize(np.zeros((1, 16), np.float32), fmt)
    assert "mx6" in one_line(exc)  # lists the valid names


@pytest.mark.parametrize("direction", ["column", "rows", "", None, 0])
@pytest.mark.parametrize("fn", [quantize_dequantize, encode])
def test_unknown_direction_is_usage_error(fn, direction):
    with pytest.raises(UsageError) as exc:
        fn(np.zeros((1, 16), np.float32), "mxint8", direction)
    one_line(exc)


def test_format_descriptor_is_accepted():
    x = np.random.default_rng(0).standard_normal((3, 40)).astype(np.float32)
    np.testing.assert_array_equal(
        quantize_dequantize(x, get_format("mx4"), "col"), quantize_dequantize(x, "mx4", "col")
    )


@pytest.mark.parametrize("name", ["mx6", "mxfp8_e4m3"])
@pytest.mark.parametrize(
    ("field", "bad"),
    [
        ("codes", lambda a: a[:, :-1]),
        ("codes", lambda a: a.astype(np.float32)),
        ("codes", lambda a: a.astype(np.int32) + 256),
        ("codes", lambda a: a.astype(np.int16) - 1),
    ],
)
def test_decode_rejects_bad_codes(name, field, bad):
    enc = encode(np.ones((2, 40), np.float32), name, "row")
    broken = dataclasses.replace(enc, **{field: bad(getattr(enc, field))})
    with pytest.raises(InputError) as exc:
        decode(broken)
    one_line(exc)


@pytest.mark.parametrize(
    ("field", "bad"),
    [
        ("shared_exp", lambda a: a.T),
        ("shared_exp", lambda a: a.astype(np.int32) + 300),
        ("micro_exp", lambda a: a + 2),
        ("micro_exp", lambda a: a[:, :1]),
    ],
)
def test_decode_rejects_bad_exponents(field, bad):
    enc = encode(np.ones((2, 40), np.float32), "mx9", "row")
    with pytest.raises(InputError) as exc:
        decode(dataclasses.replace(enc, **{field: bad(getattr(enc, field))}))
    one_line(exc)


def test_decode_rejects_bad_scale():
    enc = encode(np.ones((2, 40), np.float32), "mxfp4_e2m1", "col")
    with pytest.raises(InputError) as exc:
        decode(dataclasses.replace(enc, scale=enc.scale[:, :1]))
    one_line(exc)


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"fmt": FORMATS["mxint8"]}, InputError),
        ({"fmt": "mxint8"}, InputError),
        ({"fmt": "mx7"}, UsageError),
        ({"direction": "column"}, UsageError),
        ({"shape": (2, 40, 1)}, InputError),
        ({"shape": (2, -40)}, InputError),
        ({"shape": None}, InputError),
    ],
)
def test_codes_header_is_checked(change, error):
    enc = encode(np.ones((2, 40), np.float32), "mx9", "row")
    with pytest.raises(error) as exc:
        dataclasses.replace(enc, **change)
    one_line(exc)


def test_decode_rejects_other_objects():
    with pytest.raises(InputError) as exc:
        decode(np.zeros((1, 16)))
    one_line(exc)


def test_codes_built_by_name():
    x = np.array([[0.1, -0.25, 0.3, 1.0, -2.7]], np.float32)
    enc = encode(x, "mxfp6_e2m3", "col")
    rebuilt = OcpCodes("mxfp6_e2m3", "col", np.array(x.shape), enc.codes, enc.scale)
    assert rebuilt.fmt is FORMATS["mxfp6_e2m3"] and rebuilt.shape == (1, 5)
    np.testing.assert_array_equal(decode(rebuilt), quantize_dequantize(x, "mxfp6_e2m3", "col"))


def test_decode_accepts_kernel_style_arrays():
    # codes assembled by hand (as a kernel decoder would), other integer dtypes
    enc = encode(np.array([[1.0, -0.5] + [0.0] * 14], np.float32), "mx6", "row")
    rebuilt = dataclasses.replace(
        enc,
        codes=enc.codes.astype(np.int64),
        shared_exp=enc.shared_exp.astype(np.uint16),
        micro_exp=enc.micro_exp.astype(np.int32),
    )
    assert decode(rebuilt)[0, :2].tolist() == [1.0, -0.5]


def test_decode_of_non_finite_element_codes():
    fmt = FORMATS["mxfp8_e4m3"]
    enc = encode(np.ones((1, 32), np.float32), fmt, "row")
    codes = enc.codes.copy()
    codes[0, 0] = 0x7F  # E4M3 NaN: never produced, decodes to NaN
    assert np.isnan(decode(dataclasses.replace(enc, codes=codes))[0, 0])
    enc8 = encode(np.ones((1, 32), np.float32), "mxint8", "row")
    codes = enc8.codes.copy()
    codes[0, 0] = 0x80  # MXINT8 -128: never produced, decodes to -2 X
    assert decode(dataclasses.replace(enc8, codes=codes))[0, 0] == -2.0
