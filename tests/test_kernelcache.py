"""The assembled-kernel cache: hits from memory and disk, invalidation when the source, an
included file, the defines or the architecture change, and corrupt entries rebuilt."""

from __future__ import annotations

import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pimisa import kernelcache
from pimisa.arch import load_arch
from pimisa.asm import assemble_file
from pimisa.mx.quantize import load_quant_kernel

ARCH = load_arch("hbm3")
MAIN = '.include "c.inc"\n.output R, rows=0:1\n.default VALUE, 3\nli v0, VALUE + EXTRA\n' \
    "st v0, [0, 0]\n"


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """An empty on-disk cache, an empty memory cache and a counter of real assemblies."""
    directory = tmp_path / "cache"
    monkeypatch.setenv(kernelcache.ENV, str(directory))
    kernelcache.clear_memory()
    calls = []
    import pimisa.asm

    def counting(*args, **kwargs):
        calls.append(args)
        return assemble_file(*args, **kwargs)

    monkeypatch.setattr(pimisa.asm, "assemble_file", counting)
    yield directory, calls
    kernelcache.clear_memory()


@pytest.fixture
def kernel(tmp_path):
    (tmp_path / "c.inc").write_text(".equ EXTRA, 1\n")
    path = tmp_path / "k.pimasm"
    path.write_text(MAIN)
    return path


def value(program) -> int:
    return int(program.records["imm"][0])


def entries(directory) -> list:
    return sorted(directory.glob("*" + kernelcache.SUFFIX))


def test_memory_then_disk_hit_give_the_assembled_program(cache, kernel):
    directory, calls = cache
    first = kernelcache.assemble_cached(kernel, ARCH)
    assert len(calls) == 1 and len(entries(directory)) == 1
    assert kernelcache.assemble_cached(kernel, ARCH) is first  # memory
    kernelcache.clear_memory()
    again = kernelcache.assemble_cached(kernel, ARCH)  # disk
    assert len(calls) == 1
    assert again.to_bytes() == first.to_bytes() == assemble_file(kernel, ARCH).to_bytes()
    assert again.files == first.files and value(again) == 4


def test_bundled_quantization_kernel_is_cached(cache):
    directory, calls = cache
    program = load_quant_kernel("mx6_row", ARCH)
    kernelcache.clear_memory()
    assert load_quant_kernel("mx6_row", ARCH).to_bytes() == program.to_bytes()
    assert len(calls) == 1 and len(entries(directory)) == 1


@pytest.mark.parametrize("forget_memory", [False, True])
def test_a_changed_include_or_source_invalidates(cache, kernel, forget_memory):
    directory, calls = cache
    assert value(kernelcache.assemble_cached(kernel, ARCH)) == 4
    include = kernel.parent / "c.inc"
    include.write_text(".equ EXTRA, 10\n")
    os.utime(include, ns=(1, 1))  # a different stamp even within the clock's resolution
    if forget_memory:
        kernelcache.clear_memory()
    assert value(kernelcache.assemble_cached(kernel, ARCH)) == 13
    kernel.write_text(MAIN.replace("VALUE + EXTRA", "VALUE + 2 * EXTRA"))
    if forget_memory:
        kernelcache.clear_memory()
    assert value(kernelcache.assemble_cached(kernel, ARCH)) == 23
    assert len(calls) == 3


def test_defines_and_arch_are_part_of_the_key(cache, kernel):
    directory, calls = cache
    assert value(kernelcache.assemble_cached(kernel, ARCH)) == 4
    assert value(kernelcache.assemble_cached(kernel, ARCH, {"VALUE": 7})) == 8
    other = load_arch("hbm3:rows=8192")
    program = kernelcache.assemble_cached(kernel, other)
    assert program.to_bytes() == assemble_file(kernel, other).to_bytes()
    assert len(calls) == 3 and len(entries(directory)) == 3
    kernelcache.clear_memory()
    assert value(kernelcache.assemble_cached(kernel, ARCH, {"VALUE": 7})) == 8
    assert len(calls) == 3


@settings(max_examples=30)
@given(data=st.data())
def test_a_corrupt_entry_is_ignored_and_rebuilt(tmp_path_factory, data):
    directory = tmp_path_factory.mktemp("corrupt")
    kernel = directory / "k.pimasm"
    (directory / "c.inc").write_text(".equ EXTRA, 1\n")
    kernel.write_text(MAIN)
    os.environ[kernelcache.ENV] = str(directory / "cache")
    try:
        kernelcache.clear_memory()
        want = kernelcache.assemble_cached(kernel, ARCH).to_bytes()
        (entry,) = entries(directory / "cache")
        good = entry.read_bytes()
        at = data.draw(st.integers(0, 1 << 20), "position") % len(good)  # paths vary in length
        if data.draw(st.booleans(), "truncate"):
            bad = good[:at]
        else:
            flip = data.draw(st.integers(1, 255), "xor")
            bad = good[:at] + bytes([good[at] ^ flip]) + good[at + 1:]
        entry.write_bytes(bad)
        kernelcache.clear_memory()
        assert kernelcache.assemble_cached(kernel, ARCH).to_bytes() == want
        assert entry.read_bytes() == good or kernelcache.read_entry(entry, entry.stem) is not None
    finally:
        del os.environ[kernelcache.ENV]
        kernelcache.clear_memory()


def test_an_unwritable_or_disabled_cache_still_assembles(cache, kernel, monkeypatch, tmp_path):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    monkeypatch.setenv(kernelcache.ENV, str(blocker / "sub"))
    assert value(kernelcache.assemble_cached(kernel, ARCH)) == 4
    monkeypatch.setenv(kernelcache.ENV, "off")
    assert kernelcache.cache_dir() is None
    kernelcache.clear_memory()
    assert value(kernelcache.assemble_cached(kernel, ARCH)) == 4
    assert list(tmp_path.glob("**/*.tmp")) == []
