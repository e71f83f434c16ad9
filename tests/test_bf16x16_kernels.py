"""The BF16-weight JIT-Q kernels of 16-bit lanes, mx{9,6,4}_{row,col}_bf16x16: bit-exact against
the golden model applied to the BF16 values on both backends (and the backends against each
other), with and without the ISA additions, fuzzed with adversarial BF16 tensors; the kernel
choice by lane width (API, `pimisa quantize` on hbm2-pim, checkpoints, JIT-Q) and the one-line
errors for float32 weights or a kernel of the other lane width."""

from __future__ import annotations

import ml_dtypes
import numpy as np
import pytest

from pimisa.arch import load_arch
from pimisa.cli import main
from pimisa.errors import InputError, UsageError
from pimisa.kernels import addition_defines, bundled, resolve
from pimisa.mx.formats import decode, encode, quantize_dequantize
from pimisa.mx.fuzzing import fuzz_arch, fuzz_kernel
from pimisa.mx.quantize import kernel_hp, kernel_name, load_quant_kernel, quantize

ARCH = fuzz_arch(load_arch("hbm2-pim"))
KERNELS = [(f, d) for f in ("mx9", "mx6", "mx4") for d in ("row", "col")]
MAG = {"mx9": 7, "mx6": 4, "mx4": 2}


def _edge_tensor(fmt: str, seed: int) -> np.ndarray:
    """BF16 values with blocks that break quantizers, in both directions: zeros, subnormals
    only (E = 0), E = 1, the largest exponent, Inf/NaN, exact ties of the format's quantum
    (with d = 0 and d = 1), and a wide random range."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((48, 272)).astype(np.float32) * np.float32(2.0) ** rng.integers(
        -133, 127, (48, 272)).astype(np.float32)
    m = MAG[fmt]
    ties = (2 * rng.integers(0, 1 << m, (16, 16)) + 1).astype(np.float32)
    x[0:16, 0:16] = ties * np.float32(2.0 ** -m)  # half-quanta when the max is in [1, 2)
    x[0:16, 16:32] = ties * np.float32(2.0 ** -(m + 1))  # the same for d = 1 pairs
    x[0:16, 0], x[0:16, 16] = 1.5, 1.5  # each column block's max too
    x[0, 0:16], x[0, 16:32] = 1.5, 1.5  # and each row block's
    x[16:32, 32:64] = 0.0
    x[16:32, 64:80] = np.float32(2.0 ** -133) * rng.integers(1, 128, (16, 16))  # subnormals
    x[16:32, 80:96] = np.float32(2.0 ** -126) * rng.choice([0.0, 1.0, 1.5], (16, 16))  # E = 1
    x[32:48, 96:112] = np.float32(3.3e38) * rng.choice([-1.0, 0.5, 1.0], (16, 16))  # E = 254
    x[2, 120], x[40, 130], x[20, 200] = np.nan, -np.inf, np.inf
    x[8:24, 240:256] = -0.0
    return x.astype(ml_dtypes.bfloat16).astype(np.float32)


def test_every_format_has_both_kernels():
    assert {f"{f}_{d}_bf16x16" for f, d in KERNELS} <= set(bundled())


@pytest.mark.parametrize(("fmt", "direction"), KERNELS)
def test_kernel_equals_golden_on_both_backends(fmt, direction):
    x = _edge_tensor(fmt, 5)
    assert kernel_name(fmt, direction, "bf16", ARCH) == f"{fmt}_{direction}_bf16x16"
    results = {b: quantize(x, fmt, direction, ARCH, b, golden=True, hp="bf16")
               for b in ("c", "numpy")}
    want = quantize_dequantize(x, fmt, direction)
    for r in results.values():
        assert r.golden_problem() is None
        got = decode(r.codes)
        np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
        np.testing.assert_array_equal(got[~np.isnan(got)], want[~np.isnan(want)])
        assert r.tiles == 3 * 2  # 16 x 256 elements per tile: 48 x 272 -> 3 x 2 tiles
    c, twin = results["c"].codes, results["numpy"].codes
    for name in ("codes", "shared_exp", "micro_exp"):  # NaN blocks' payload too
        assert np.array_equal(getattr(c, name), getattr(twin, name)), name
    assert results["c"].stats.commands == results["numpy"].stats.commands


@pytest.mark.parametrize(("fmt", "direction"), KERNELS)
def test_kernel_survives_fuzzing(fmt, direction):
    program = load_quant_kernel(f"{fmt}_{direction}_bf16x16", ARCH)
    assert kernel_hp(program) == "bf16" and program.lane_bits == 16
    report = fuzz_kernel(program, fmt, direction, ARCH, "c", max_examples=12, seed=4,
                         max_cols=600)
    assert report.failure is None, report.failure.render()


@pytest.mark.parametrize(("fmt", "direction"), KERNELS)
def test_the_additions_are_used_and_bit_exact(fmt, direction):
    from pimisa.isa import BY_MNEMONIC
    from pimisa.kernels import ISA_ADDITIONS

    names = tuple(a.name for a in ISA_ADDITIONS)
    plain = load_quant_kernel(f"{fmt}_{direction}_bf16x16", ARCH)
    program = load_quant_kernel(f"{fmt}_{direction}_bf16x16", ARCH, addition_defines(names))
    used = set(np.unique(program.records["op"]).tolist())
    assert {BY_MNEMONIC[a.mnemonic].opcode for a in ISA_ADDITIONS} <= used
    assert len(program) < len(plain)
    x = _edge_tensor(fmt, 6)
    for backend in ("c", "numpy"):
        r = quantize(x, fmt, direction, ARCH, backend, golden=True, program=program)
        assert r.golden_problem() is None


def test_fuzz_catches_a_broken_kernel(tmp_path):
    """A kernel that drops the lowest mantissa bit of every even element fails fuzzing."""
    src = resolve("mx6_col_bf16x16")
    for name in ("mx_common.inc", "mx_common_bf16x16.inc"):
        text = (src.parent / name).read_text()
        broken = text.replace("    andi v1, v1, 0x7FFF\n    andi v2, v2, 0x7FFF",
                              "    andi v1, v1, 0x7FFE\n    andi v2, v2, 0x7FFF")
        assert name == "mx_common.inc" or broken != text
        (tmp_path / name).write_text(broken)
    (tmp_path / "k.pimasm").write_text(src.read_text())
    program = load_quant_kernel(str(tmp_path / "k.pimasm"), ARCH)
    report = fuzz_kernel(program, "mx6", "col", ARCH, "c", max_examples=200, seed=2)
    assert report.failure is not None


def _run(capsys, *argv):
    code = main(["quantize", *argv])
    out = capsys.readouterr()
    return code, out.out, out.err.strip()


@pytest.mark.parametrize(("fmt", "direction"), [("mx6", "row"), ("mx4", "col")])
def test_quantize_cli_on_hbm2_pim(capsys, fmt, direction):
    code, out, _ = _run(capsys, "--format", fmt, "--direction", direction, "--hp", "bf16",
                        "--round-hp", "--random", "40x300", "--golden", "--arch", "hbm2-pim")
    assert code == 0
    commands = len(load_quant_kernel(f"{fmt}_{direction}_bf16x16", load_arch("hbm2-pim")))
    assert f"40x300 bf16 -> {fmt} {direction} blocks on hbm2-pim" in out
    assert f"{commands} commands per tile" in out and "matches the golden model" in out


def test_bf16_checkpoint_on_hbm2_pim(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    b = np.random.default_rng(3).standard_normal((20, 270)).astype(ml_dtypes.bfloat16)
    np.savez("m.npz", w=b)
    code, out, _ = _run(capsys, "--hp", "bf16", "--in", "m.npz", "--format", "mx9",
                        "--direction", "col", "--golden", "--arch", "hbm2-pim", "--out", "q.npz")
    assert code == 0 and "w: 20x270 BF16 -> mx9 col" in out and "golden ok" in out


@pytest.mark.parametrize(("argv", "wants"), [
    (["--format", "mx6", "--direction", "row"],
     ["16-bit lanes of hbm2-pim", "--hp bf16", "--arch hbm2-pim:lane_bits=32"]),
    (["--format", "mxfp8_e4m3", "--direction", "col"],
     ["16-bit lanes of hbm2-pim", "--arch hbm2-pim:lane_bits=32"]),
    (["--kernel", "mx6_row"],
     ["mx6_row.pimasm is written for 32-bit lanes", "hbm2-pim has 16-bit lanes"]),
])
def test_float32_on_16_bit_lanes_is_one_line(capsys, argv, wants):
    code, out, err = _run(capsys, *argv, "--random", "16x16", "--arch", "hbm2-pim")
    assert code == 2 and out == "" and "\n" not in err
    assert all(w in err for w in wants), err


def test_a_16_bit_kernel_on_32_bit_lanes_is_one_line(capsys):
    code, _, err = _run(capsys, "--kernel", "mx6_row_bf16x16", "--hp", "bf16", "--random",
                        "16x16", "--round-hp", "--arch", "hbm3")
    assert code == 2 and "\n" not in err
    assert "written for 16-bit lanes, and hbm3 has 32-bit lanes" in err
    assert "--arch hbm3:lane_bits=16" in err


@pytest.mark.parametrize("command", ["asm", "time"])
def test_other_commands_name_the_lane_width_too(capsys, tmp_path, command):
    out = ["-o", str(tmp_path / "k.pimb")] if command == "asm" else []
    assert main([command, "mx9_col", "--arch", "hbm2-pim", *out]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "mx9_col.pimasm is written for 32-bit lanes" in err


def test_a_broken_kernel_still_lists_its_errors(tmp_path):
    """A source that assembles for neither width keeps its assembler diagnostics."""
    from pimisa.errors import SourceError

    (tmp_path / "k.pimasm").write_text(".kernel k\nfmul.bf16 v0, v1, v99\n")
    with pytest.raises(SourceError, match="v99"):
        load_quant_kernel(str(tmp_path / "k.pimasm"), load_arch("hbm2-pim"))


def test_api_picks_the_kernel_of_the_lane_width():
    x = _edge_tensor("mx4", 8)[:16, :40]
    wide = load_arch("hbm2-pim:lane_bits=32")
    assert kernel_name("mx4", "row", "bf16", wide) == "mx4_row_bf16"
    narrow, two = (quantize(x, "mx4", "row", a, "c", hp="bf16") for a in (ARCH, wide))
    for name in ("codes", "shared_exp", "micro_exp"):
        np.testing.assert_array_equal(getattr(narrow.codes, name), getattr(two.codes, name))
    assert np.array_equal(narrow.codes.codes, encode(x, "mx4", "row").codes)
    with pytest.raises(UsageError, match="16-bit lanes of hbm2-pim"):
        quantize(x, "mx4", "row", ARCH)


def test_jitq_picks_the_kernel_of_the_gpu_lane_width():
    from pimisa.jitq.gpu import Gpu
    from pimisa.jitq.pim import PimTimer
    from pimisa.jitq.report import Options, lane_bits
    from pimisa.jitq.workloads import Weight

    gpu = Gpu("pim16", {}, 0.0, 0.0, 1, "hbm2-pim")
    assert lane_bits(gpu) == 16
    assert Options(hp="bf16").kernel("mx6", "col", 16) == "mx6_col_bf16x16"
    assert Options(hp="bf16").kernel("mx6", "col", 32) == "mx6_col_bf16"
    with pytest.raises(InputError, match="pim.hp fp32"):
        Options().kernel("mx6", "col", 16)
    pim = PimTimer(use_disk=False)
    weight = Weight("w", 1024, 1024)
    narrow = pim.block(gpu, [weight], "mx6", "row", "mx6_row_bf16x16")
    assert narrow.tiles == 1024 * 1024 // 4096 and narrow.seconds > 0
    with pytest.raises(InputError, match="16-bit lanes"):
        pim.block(gpu, [weight], "mx6", "row")


@pytest.mark.parametrize(("hp", "want"), [("bf16", "mx6_col_bf16x16"), ("fp32", None)])
def test_jitq_scenario_on_16_bit_lanes(capsys, tmp_path, hp, want):
    import json

    sixteen = ["--set", "gpus.mi300x.pim.lane_bits=16", "--set", "gpus.mi300x.pim.lanes=16"]
    code = main(["jitq", "--model", "gpt3-125m", "--gpu", "mi300x", "--format", "mx6", "--json",
                 "--cache-dir", str(tmp_path), "--set", f"pim.hp={hp}", *sixteen])
    out = capsys.readouterr()
    if want is None:
        assert code == 1 and "pim.hp fp32" in out.err and "\n" not in out.err.strip()
        return
    assert code == 0
    pim = json.loads(out.out)["results"]["gpt3-125m"]["mi300x"]["mx6"]["pim"]
    assert pim["col"]["kernel"] == want and pim["row"]["kernel"] == "mx6_row_bf16x16"


@pytest.mark.parametrize("fmt", ["mx9", "mx6", "mx4"])
def test_footprint_is_the_nominal_one_on_16_bit_lanes(fmt):
    """16-bit words hold an MX block exactly (E and the micro-exponents in one, m + 1 for the
    codes): full tiles take the format's nominal bits per element, where 32-bit words pad MX9
    to 10."""
    x = _edge_tensor(fmt, 9)[:32, :256]
    x[~np.isfinite(x)] = 1.0
    nominal = {"mx9": 9, "mx6": 6, "mx4": 4}[fmt]
    r = quantize(x, fmt, "row", ARCH, "c", hp="bf16")
    assert r.tiles == 2 and r.bits_per_element == nominal
    assert r.lp_bytes == 2 * 16 * 16 * nominal * 2  # tiles x blocks x lanes x words x 2 bytes
    wide = quantize(x, fmt, "row", load_arch("hbm2-pim:lane_bits=32"), "c", hp="bf16")
    assert wide.bits_per_element == {"mx9": 10, "mx6": 6, "mx4": 4}[fmt]
