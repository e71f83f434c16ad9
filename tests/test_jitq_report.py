"""JIT-Q sweep, tables, JSON, claim checks and figures, with a stand-in PIM model.

The stand-in is a test double for the scheduler-backed `PimTimer` (tested in
test_jitq_pim.py): it lets the report logic be checked on numbers we choose.
"""

import pytest

from pimisa.errors import UsageError
from pimisa.jitq.capacity import Setup
from pimisa.jitq.figures import plot_slack
from pimisa.jitq.gpu import load_gpus, pass_time
from pimisa.jitq.pim import BlockPim
from pimisa.jitq.report import (
    Options,
    capacity_table,
    claims,
    min_batch,
    slack_table,
    sweep,
    throughput_table,
    to_json,
)
from pimisa.jitq.workloads import Model, block_gemms, load_models


class ScaledPim:
    """PIM time proportional to the weight's elements: `ns_per_element[fmt][direction]`."""

    def __init__(self, ns_per_element):
        self.rate = ns_per_element

    def block(self, gpu, weights, fmt, direction, kernel=None, per_block=False, defines=()):
        elements = sum(w.elements for w in weights)
        tiles = -(-elements // 2048)
        return BlockPim(elements * self.rate[fmt][direction] * 1e-9,
                        elements // (2048 if direction == "row" else 256), tiles, tiles, 1)


FAST = ScaledPim({f: {"row": 1e-4, "col": 2e-4} for f in ("mx9", "mx6", "mx4")})


@pytest.fixture(scope="module")
def rows():
    models = [load_models()[n] for n in ("gpt3-125m", "gpt3-175b")]
    return sweep(models, [load_gpus()["h100-sxm"]], ["mx9", "mx6", "mx4"], FAST, Options())


def test_sweep_rows(rows):
    assert [r.key for r in rows][:3] == [("gpt3-125m", "h100-sxm", f) for f in
                                         ("mx9", "mx6", "mx4")]
    small, big = rows[0], rows[3]
    assert (small.setup.tp, small.setup.pp, small.fits) == (1, 1, True)
    assert (big.setup.tp, big.setup.pp, big.fits) == (8, 8, True)
    fwd, bwd = big.slack
    weights = big.model.block_weight_params / 8
    assert fwd.pim_s == pytest.approx(weights * 1e-13)
    assert bwd.pim_s == pytest.approx(2 * fwd.pim_s)
    assert big.row_opens["col"] > big.row_opens["row"]


def test_tables_and_json(rows):
    text = slack_table(rows)
    assert text.splitlines()[0].split() == ["model", "gpu", "format", "pass", "dir", "gpu_us",
                                            "pim_us", "slack_us", "slack_%", "min_batch"]
    assert len(text.splitlines()) == 1 + 2 * len(rows)
    assert "10 %" in throughput_table(rows, 0.1)
    assert "8x8" in capacity_table(rows)
    doc = to_json(rows, Options())
    entry = doc["results"]["gpt3-175b"]["h100-sxm"]["mx6"]
    assert set(entry["slack"]) == {"fwd", "bwd"}
    assert set(entry["slack"]["fwd"]) == {"row"} and set(entry["slack"]["bwd"]) == {"col"}
    assert entry["slack"]["fwd"]["row"]["slack_us"] == pytest.approx(
        rows[4].slack[0].slack_s * 1e6)
    assert entry["capacity"]["savings"] == pytest.approx(rows[4].memory.savings)
    assert doc["settings"]["slowdown"] == 0.1


def test_claims_hold_when_pim_is_fast(rows):
    checked = claims(rows)
    by_text = {c.text: c for c in checked}
    assert by_text["the fwd pass has enough slack to hide PIM quantization"].holds
    assert by_text["the bwd pass has enough slack to hide PIM quantization"].holds
    assert by_text["column quantization takes longer than row quantization (more DRAM row "
                   "opens)"].holds


def test_claims_fail_when_pim_is_late():
    slow = ScaledPim({f: {"row": 1.0, "col": 0.5} for f in ("mx9", "mx6", "mx4")})
    model = Model("m", hidden=256, layers=2, heads=4, ffn=1024, seq=256)
    rows = sweep([model], [load_gpus()["mi300x"]], ["mx9", "mx6", "mx4"], slow, Options())
    checked = {c.text: c for c in claims(rows)}
    late = checked["the fwd pass has enough slack to hide PIM quantization"]
    assert not late.holds and late.evidence.startswith("0/3 cases hide it")
    assert not checked["column quantization takes longer than row quantization (more DRAM "
                       "row opens)"].holds
    assert not checked["lower precision lowers slack, but slack remains"].holds


def test_precision_claim_needs_two_formats():
    rows = sweep([load_models()["gpt3-125m"]], [load_gpus()["mi250x"]], ["mx6"], FAST, Options())
    (claim,) = [c for c in claims(rows) if c.text.startswith("lower precision")]
    assert claim.holds is None and claim.verdict == "not checked"


def test_fixed_setup_and_unfit():
    model = load_models()["gpt3-175b"]
    opts = Options(setup=Setup(tp=2, pp=1), fit=False)
    (row,) = sweep([model], [load_gpus()["h100-sxm"]], ["mx6"], FAST, opts)
    assert (row.setup.tp, row.setup.pp, row.fits) == (2, 1, False)


@pytest.mark.parametrize("name, magic", [("slack.png", b"\x89PNG"), ("slack.svg", b"<?xml")])
def test_figure_files(rows, tmp_path, name, magic):
    path = tmp_path / name
    plot_slack(rows, path)
    assert path.read_bytes().startswith(magic)
    assert [p.name for p in tmp_path.iterdir()] == [name]  # no temporary file left


def test_figure_suffix(rows, tmp_path):
    with pytest.raises(UsageError, match="must be a .png or .svg file"):
        plot_slack(rows, tmp_path / "slack.pdf")
    assert not list(tmp_path.iterdir())


def test_min_batch_is_the_smallest_that_covers_pim():
    slow = ScaledPim({f: {"row": 0.05, "col": 0.05} for f in ("mx9", "mx6", "mx4")})
    models = [load_models()[n] for n in ("gpt3-125m", "gpt3-6.7b")]
    rows = sweep(models, list(load_gpus().values()), ["mx6"], slow, Options())
    for r in rows:
        for p in r.slack:
            b = min_batch(r, p.passname)

            def gpu(batch, r=r, p=p):
                gemms = block_gemms(r.model, batch * r.model.seq, r.setup.tp)
                return pass_time(r.gpu, gemms, r.fmt, p.passname)

            assert b is not None and b > 1
            assert gpu(b) >= p.pim_s > gpu(b - 1)
    hopeless = ScaledPim({f: {"row": 1e9, "col": 1e9} for f in ("mx9", "mx6", "mx4")})
    (row,) = sweep(models[:1], [load_gpus()["mi300x"]], ["mx6"], hopeless, Options())
    assert min_batch(row, "fwd") is None
    assert min_batch(rows[0], "fwd") == to_json(rows, Options())["results"]["gpt3-125m"][
        rows[0].gpu.name]["mx6"]["slack"]["fwd"]["row"]["min_batch"]
