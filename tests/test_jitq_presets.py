"""JIT-Q workloads and GPUs: bundled presets, user TOML files, block GEMMs, the GEMM time model."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pimisa.errors import InputError, UsageError
from pimisa.jitq.gpu import Gpu, gemm_time, load_gpus, operand_bytes, pass_time, select_gpus
from pimisa.jitq.workloads import (
    Gemm,
    Model,
    block_gemms,
    block_weights,
    load_models,
    select_models,
)

# Brown et al. 2020, Table 2.1: layers, d_model, heads (13B: 5120, see models.toml)
TABLE_2_1 = {
    "gpt3-125m": (12, 768, 12), "gpt3-350m": (24, 1024, 16), "gpt3-760m": (24, 1536, 16),
    "gpt3-1.3b": (24, 2048, 24), "gpt3-2.7b": (32, 2560, 32), "gpt3-6.7b": (32, 4096, 32),
    "gpt3-13b": (40, 5120, 40), "gpt3-175b": (96, 12288, 96),
}


def test_gpt3_presets_match_table_2_1():
    models = load_models()
    assert {n: (m.layers, m.hidden, m.heads) for n, m in models.items()} == TABLE_2_1
    for m in models.values():
        assert (m.seq, m.vocab, m.ffn) == (2048, 50257, 4 * m.hidden)
        assert "Brown et al. 2020" in m.source and "Table 2.1" in m.source
        # the counted parameters agree with the paper's nominal sizes within 3 %
        assert m.total_params == pytest.approx(m.params, rel=0.03), m.name


def test_gpu_presets():
    gpus = load_gpus()
    assert set(gpus) == {"mi250x", "mi300x", "h100-sxm"}
    h100 = gpus["h100-sxm"]
    assert (h100.tflops["bf16"], h100.tflops["mx6"], h100.bandwidth_gbs) == (989.4, 1978.9, 3350)
    assert h100.arch().geometry.stacks == 5
    assert h100.arch().geometry.total_units == 5 * 32 * 16
    mi250x = gpus["mi250x"].arch()
    assert mi250x.name == "hbm2-pim:lane_bits=32x8" and mi250x.geometry.total_units == 8 * 16 * 8
    assert mi250x.geometry.lane_bits == 32  # the float32 MX kernels
    for gpu in gpus.values():
        assert gpu.source and gpu.tflops["mx4"] >= gpu.tflops["bf16"]


def test_select_bundled_and_unknown():
    assert [m.name for m in select_models("gpt3-13b")] == ["gpt3-13b"]
    assert len(select_models(None)) == 8 and len(select_gpus(None)) == 3
    with pytest.raises(UsageError, match="unknown model 'gpt5'.*presets: gpt3-125m"):
        select_models("gpt5")
    with pytest.raises(UsageError, match="unknown GPU 'b200'"):
        select_gpus("b200")


def test_user_model_file(tmp_path):
    path = tmp_path / "mine.toml"
    path.write_text('[models.tiny]\nhidden = 64\nlayers = 2\nheads = 4\nseq = 128\n')
    (model,) = select_models(str(path))
    assert (model.name, model.ffn, model.seq, model.vocab) == ("tiny", 256, 128, 50257)


def test_user_file_errors_all_at_once(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text('[models.x]\nhidden = -3\nlayers = "two"\ncolour = 1\n')
    with pytest.raises(InputError) as info:
        select_models(str(path))
    lines = str(info.value).splitlines()
    assert lines == [
        f"{path} [models.x]: hidden must be a positive integer, got -3",
        f"{path} [models.x]: layers must be a positive integer, got 'two'",
        f"{path} [models.x]: missing key 'heads'",
        f"{path} [models.x]: unknown key 'colour'",
    ]


def test_user_gpu_file_errors(tmp_path):
    path = tmp_path / "g.toml"
    path.write_text('[gpus.g]\nmemory_gb = 1\nbandwidth_gbs = 1\nhbm_stacks = 1\n'
                    'dram = "nosuch"\n[gpus.g.tflops]\nbf16 = 1\nmx9 = 0\n')
    with pytest.raises(InputError) as info:
        select_gpus(str(path))
    text = str(info.value)
    assert f"{path} [gpus.g].tflops: mx9 must be a positive number, got 0" in text
    assert f"{path} [gpus.g].tflops: missing key 'mx6'" in text
    assert f"{path} [gpus.g]: dram: unknown architecture 'nosuch'" in text


@pytest.mark.parametrize("text, message", [
    ("[models.x\n", "invalid TOML"),
    ("hidden = 1\n", "unknown top-level key 'hidden'"),
    ("[other.x]\n", "no \\[models.NAME\\] table"),
])
def test_malformed_files(tmp_path, text, message):
    path = tmp_path / "m.toml"
    path.write_text(text)
    with pytest.raises(InputError, match=message):
        select_models(str(path))


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match="cannot read"):
        select_models(str(tmp_path / "none.toml"))


def test_block_gemms_hand_checked():
    model = Model("m", hidden=16, layers=1, heads=2, ffn=64)
    gemms = {(g.weight, g.kind): (g.m, g.n, g.k) for g in block_gemms(model, tokens=8, tp=2)}
    assert gemms[("qkv", "fprop")] == (8, 24, 16)
    assert gemms[("qkv", "dgrad")] == (8, 16, 24)
    assert gemms[("qkv", "wgrad")] == (24, 16, 8)
    assert gemms[("fc2", "fprop")] == (8, 16, 32)
    assert [w.shape for w in block_weights(model, 2)] == [(24, 16), (16, 8), (32, 16), (16, 32)]
    with pytest.raises(UsageError, match="hidden \\(16\\) is not divisible"):
        block_weights(model, 3)


@given(h=st.integers(1, 64), f=st.integers(1, 256), tokens=st.integers(1, 4096),
       tp=st.sampled_from([1, 2, 4]))
def test_block_flops(h, f, tokens, tp):
    model = Model("m", hidden=h * tp, layers=1, heads=tp, ffn=f * tp)
    gemms = block_gemms(model, tokens, tp)
    fwd = sum(g.flops for g in gemms if g.passname == "fwd")
    bwd = sum(g.flops for g in gemms if g.passname == "bwd")
    assert fwd * tp == 2 * tokens * model.block_weight_params
    assert bwd == 2 * fwd


def _gpu(tflops=1.0, bw=1.0):
    return Gpu("g", {f: tflops for f in ("bf16", "mx9", "mx6", "mx4")}, bw, 1.0, 1, "hbm3")


def test_gemm_time_hand_checked():
    gemm = Gemm("qkv", "fprop", 1000, 1000, 1000)
    t = gemm_time(_gpu(), gemm, "bf16")  # 1 TFLOPS, 1 GB/s
    assert t.compute_s == pytest.approx(2e-3) and t.memory_s == pytest.approx(6e-3)
    assert t.seconds == t.memory_s and t.bound == "memory"
    t = gemm_time(_gpu(), gemm, "mx6")  # 0.75 B inputs, 2 B output
    assert t.memory_s == pytest.approx(3.5e-3)
    wgrad = gemm_time(_gpu(bw=1e6), Gemm("qkv", "wgrad", 1000, 1000, 1000), "mx4")
    assert wgrad.bound == "compute" and wgrad.memory_s == pytest.approx((0.5e6 * 2 + 4e6) / 1e15)
    assert operand_bytes("mx9", 16) == 18
    with pytest.raises(UsageError):
        gemm_time(_gpu(), gemm, "fp16")


def test_pass_time_sums_its_pass():
    gemms = [Gemm("qkv", "fprop", 10, 10, 10), Gemm("qkv", "dgrad", 10, 10, 10),
             Gemm("qkv", "wgrad", 10, 10, 10)]
    gpu = _gpu(bw=1e9)
    assert pass_time(gpu, gemms, "bf16", "fwd") == pytest.approx(2e-9)
    assert pass_time(gpu, gemms, "bf16", "bwd") == pytest.approx(4e-9)
