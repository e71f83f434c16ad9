"""The paper's quantitative claims: their checks on hand-computed cases, and the `paper`
scenario's verdicts as docs/jitq.md reports them."""

import pytest

from pimisa.jitq import scenario as sc
from pimisa.jitq.capacity import Setup, memory
from pimisa.jitq.gpu import load_gpus
from pimisa.jitq.paperclaims import accounting_for, mean_loss, paper_claims, slowdown_for_mean
from pimisa.jitq.report import Options, Row
from pimisa.jitq.slack import SlackPoint
from pimisa.jitq.throughput import iteration_loss
from pimisa.jitq.workloads import load_models

BIG = load_models()["gpt3-175b"]


def _row(gpu_s, pim_s, fmt="mx6", layers=10):
    points = [SlackPoint("m", "g", fmt, "fwd", gpu_s, pim_s),
              SlackPoint("m", "g", fmt, "bwd", 2 * gpu_s, pim_s)]
    model = load_models()["gpt3-125m"]
    opts = Options()
    return Row(model, load_gpus()["mi300x"], fmt, Setup(), True, points,
               iteration_loss(points, layers, opts.slowdown), memory(model, Setup(), fmt),
               {}, opts)


def test_slowdown_for_mean_inverts_the_mean_loss():
    rows = [_row(1.0, 0.5), _row(2.0, 0.1)]
    s = slowdown_for_mean(rows, 0.05)
    assert s is not None and mean_loss(rows, s) == pytest.approx(0.05, rel=1e-6)
    assert slowdown_for_mean([_row(1.0, 5.0)], 0.016) is None  # late PIM: too lossy already


def test_accounting_for_by_hand():
    # no activations or embeddings to speak of: savings = lp / (state + lp), lp = 2 x 6/8
    setup = Setup(tp=8, pp=8)
    x = accounting_for(BIG, setup, "mx6", 0.125)
    assert memory(BIG, Setup(tp=8, pp=8, master_bytes=x * 4 / 18, working_bytes=x * 2 / 18,
                             grad_bytes=x * 4 / 18, optimizer_bytes=x * 8 / 18),
                  "mx6").savings == pytest.approx(0.125, abs=1e-6)
    assert accounting_for(BIG, setup, "mx6", 0.99) is None


def test_capacity_claim_holds_under_the_accounting_it_needs():
    setup = Setup(master_bytes=4, working_bytes=0, grad_bytes=2, optimizer_bytes=4,
                  recompute="full")
    claims = {c.text: c for c in paper_claims([_row(1.0, 0.01)], BIG, setup, ["mx6"])}
    saved = memory(BIG, Setup(tp=8, pp=8, master_bytes=4, working_bytes=0, grad_bytes=2,
                              optimizer_bytes=4, recompute="full"), "mx6").savings
    assert claims["MX6 saves 12.5 % of the memory (GPT3-175B)"].holds == (
        abs(saved - 0.125) <= 0.01)
    assert f"{100 * saved:.1f} %" in claims["MX6 saves 12.5 % of the memory (GPT3-175B)"].evidence


def test_paper_scenario_reports_every_claim():
    s = sc.load("paper")
    assert [g.dram for g in s.gpus] == ["hbm3", "hbm3"]
    texts = {c.text for c in paper_claims([_row(1.0, 0.01)], BIG, sc.options(s).setup,
                                          sc.formats(s))}
    assert texts == {
        "MX6 saves 12.5 % of the memory (GPT3-175B)", "MX6 costs 1.6 % of training throughput",
        "savings up to 24 % at a throughput loss up to 2.4 %",
        "GPT3-175B: a 20 % larger model fits in the same memory",
        "GPT3-175B: a 12.5 % lower tensor-slicing degree",
        "MX6 12.5 % and a 24 % maximum hold under one memory accounting"}
