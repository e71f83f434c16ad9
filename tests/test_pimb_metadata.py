""".pimb JSON metadata is validated field by field: hostile metadata is one error per bad field."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from pimisa.errors import InputError
from pimisa.isa import RECORD_DTYPE
from pimisa.program import HEADER, KernelMeta, Program, Region, program_from_bytes


def _program() -> Program:
    meta = KernelMeta("k", "hbm3", [Region("W", "input", 0, 2, "hp16", {"fmt": "mx6"}),
                                    Region("Q", "output", 2, 1)], {"p": 3})
    return Program(np.zeros(3, RECORD_DTYPE), meta, None, ["k.pimasm"])


def _with_metadata(doc: object) -> bytes:
    """A valid .pimb image whose metadata JSON is replaced by `doc` (header fixed up)."""
    image = _program().to_bytes()
    _magic, _version, _recsize, _hash, n, meta_len, lane_bits, _ = HEADER.unpack_from(image)
    start = HEADER.size + meta_len + (-(HEADER.size + meta_len) % 16)
    body = image[start:]
    meta = json.dumps(doc).encode()
    pad = b"\0" * (-(HEADER.size + len(meta)) % 16)
    header = bytearray(image[:HEADER.size])
    HEADER.pack_into(header, 0, _magic, _version, _recsize, _hash, n, len(meta), lane_bits, 0)
    return bytes(header) + meta + pad + body


def _doc() -> dict:
    program = _program()
    return {"kernel": program.meta.to_json(), "files": program.files}


def test_round_trip_of_valid_metadata() -> None:
    assert program_from_bytes(_with_metadata(_doc())).meta == _program().meta


@pytest.mark.parametrize(("mutate", "messages"), [
    (lambda d: d.update(kernel=None), ["metadata.kernel: expected an object, got null"]),
    (lambda d: d.update(files={"a": 1}), ["metadata.files: expected a list, got an object"]),
    (lambda d: d.pop("files"), ["metadata.files: missing"]),
    (lambda d: d["kernel"]["regions"][0].update(row="0", rows=None),
     ["metadata.kernel.regions[0].row: expected an integer, got a string",
      "metadata.kernel.regions[0].rows: expected an integer, got null"]),
    (lambda d: d["kernel"]["regions"][1].update(kind="weird", row=-1),
     ["metadata.kernel.regions[1].kind: expected one of input, output, scratch",
      "metadata.kernel.regions[1].row: must be >= 0"]),
    (lambda d: d["kernel"].update(params={"p": [1]}, extra=1),
     ["metadata.kernel: unknown field 'extra'",
      "metadata.kernel.params.p: expected an integer or a string, got a list"]),
    (lambda d: d["kernel"].update(arch=7), ["metadata.kernel.arch: expected a string or null"]),
    (lambda d: d["kernel"]["regions"][0].update(rows=1 << 70), ["does not fit 64 bits"]),
    (lambda d: d["files"].append(True), ["metadata.files[1]: expected a string, got a boolean"]),
])
def test_one_error_per_bad_field(mutate, messages) -> None:
    doc = _doc()
    mutate(doc)
    with pytest.raises(InputError) as info:
        program_from_bytes(_with_metadata(doc), "k.pimb")
    lines = str(info.value).splitlines()
    assert len(lines) == len(messages)
    for line, message in zip(lines, messages, strict=True):
        assert line.startswith("k.pimb: corrupt metadata") and message in line


def test_deep_nesting_and_non_json() -> None:
    deep = "[" * 100_000 + "]" * 100_000
    image = _with_metadata(0).replace(b"0", deep.encode(), 1)
    with pytest.raises(InputError):
        program_from_bytes(_fix_length(image, len(deep)))
    doc = _doc()
    doc["kernel"]["params"] = {"a": {"b": {"c": 1}}}
    with pytest.raises(InputError, match="expected an integer or a string, got an object"):
        program_from_bytes(_with_metadata(doc))


def _fix_length(image: bytes, meta_len: int) -> bytes:
    fields = list(HEADER.unpack_from(image))
    fields[5] = meta_len
    end = HEADER.size + meta_len
    body = image[end:].lstrip(b"\0")
    return HEADER.pack(*fields) + image[HEADER.size:end] + b"\0" * (-end % 16) + body


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(1 << 80), 1 << 80) | st.floats()
    | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner,
                                                                 max_size=3),
    max_leaves=10)


@given(st.sampled_from(["kernel", "files", "name", "arch", "regions", "params", "region",
                        "rname", "kind", "row", "rows", "layout", "rparams"]), json_values)
def test_any_field_replaced_by_any_json_is_valid_or_a_clean_error(where, value) -> None:
    doc = _doc()
    kernel, region = doc["kernel"], doc["kernel"]["regions"][0]
    targets = {"kernel": (doc, "kernel"), "files": (doc, "files"), "name": (kernel, "name"),
               "arch": (kernel, "arch"), "regions": (kernel, "regions"),
               "params": (kernel, "params"), "rname": (region, "name"),
               "kind": (region, "kind"), "row": (region, "row"), "rows": (region, "rows"),
               "layout": (region, "layout"), "rparams": (region, "params")}
    if where == "region":
        kernel["regions"][0] = value
    else:
        obj, key = targets[where]
        obj[key] = value
    try:
        program = program_from_bytes(_with_metadata(doc))
    except InputError as exc:
        assert all(line.startswith("<bytes>: corrupt metadata") for line in
                   str(exc).splitlines())
    else:  # what loads is well-formed: it saves and loads back to the same metadata
        assert program_from_bytes(program.to_bytes()).meta == program.meta
