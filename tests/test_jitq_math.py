"""JIT-Q slack and throughput-loss arithmetic on hand-checked numbers and properties."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pimisa.errors import UsageError
from pimisa.jitq.gpu import Gpu, pass_time
from pimisa.jitq.slack import SlackPoint, hiding_gemms, slack_points
from pimisa.jitq.throughput import block_time, iteration_loss, slowdown_at, slowdown_for_loss
from pimisa.jitq.workloads import Model, block_gemms

times = st.floats(1e-9, 1.0)


def _points(gf, pf, gb, pb):
    return [SlackPoint("m", "g", "mx6", "fwd", gf, pf), SlackPoint("m", "g", "mx6", "bwd", gb, pb)]


def test_slack_point():
    fwd, bwd = _points(10.0, 4.0, 20.0, 25.0)
    assert (fwd.direction, fwd.slack_s, fwd.slack_fraction) == ("row", 6.0, 0.6)
    assert (bwd.direction, bwd.slack_s) == ("col", -5.0)
    assert fwd.to_json()["slack_us"] == pytest.approx(6e6)


def test_block_time_hand_checked():
    assert block_time(10.0, 4.0, 0.25) == pytest.approx(10.8)  # 10 + 4 * 0.25 / 1.25
    assert block_time(10.0, 20.0, 0.1) == 20.0  # PIM is late: the GPU waits
    assert block_time(10.0, 4.0, 0.0) == 10.0
    with pytest.raises(UsageError):
        block_time(1.0, 1.0, -0.1)


def test_iteration_loss_hand_checked():
    loss = iteration_loss(_points(10.0, 4.0, 20.0, 8.0), layers=2, slowdown=0.25)
    assert loss.baseline_s == pytest.approx(60.0)
    assert loss.jitq_s == pytest.approx(2 * (10.8 + 21.6) + 12.0)  # + first block of each pass
    assert loss.loss == pytest.approx(1 - 60 / 76.8)
    assert loss.unhidden_s == pytest.approx(12.0)
    late = iteration_loss(_points(10.0, 15.0, 20.0, 8.0), layers=2, slowdown=0.0)
    assert late.unhidden_s == pytest.approx(2 * 5.0 + 23.0)


@given(gf=times, pf=times, gb=times, pb=times, layers=st.integers(1, 96),
       s1=st.floats(0, 2), s2=st.floats(0, 2))
def test_loss_grows_with_slowdown(gf, pf, gb, pb, layers, s1, s2):
    points = _points(gf, pf, gb, pb)
    lo, hi = sorted((s1, s2))
    a, b = iteration_loss(points, layers, lo), iteration_loss(points, layers, hi)
    assert 0 < a.loss <= b.loss + 1e-12
    # the JIT-Q time is never below the GPU time nor below the PIM time
    assert a.jitq_s >= max(a.baseline_s, layers * (pf + pb)) * (1 - 1e-12)


@given(gf=times, pf=times, gb=times, pb=times, layers=st.integers(2, 96),
       target=st.floats(0.001, 0.5))
def test_slowdown_for_loss_inverts(gf, pf, gb, pb, layers, target):
    points = _points(gf, pf, gb, pb)
    s = slowdown_for_loss(points, layers, target)
    if s is None:
        floor = iteration_loss(points, layers, 0.0).loss
        ceiling = iteration_loss(points, layers, 1e6).loss
        assert floor > target or ceiling < target
    else:
        assert iteration_loss(points, layers, s).loss == pytest.approx(target, rel=1e-6)


def test_slack_points_use_the_given_pim_time():
    model = Model("m", hidden=64, layers=4, heads=4, ffn=256)
    gpu = Gpu("g", {f: 1.0 for f in ("bf16", "mx9", "mx6", "mx4")}, 1.0, 1.0, 1, "hbm3")
    gemms = block_gemms(model, 128, 2)
    fwd, bwd = slack_points(model, gpu, "mx4", gemms, {"row": 3e-6, "col": 5e-6})
    assert (fwd.pim_s, bwd.pim_s) == (3e-6, 5e-6)
    assert fwd.gpu_s == pass_time(gpu, gemms, "mx4", "fwd")
    assert bwd.gpu_s == pass_time(gpu, gemms, "mx4", "bwd")


def test_hiding_gemms_by_hand():
    model = Model("m", hidden=64, layers=4, heads=4, ffn=256)
    weights_only = hiding_gemms(model, 2, 32, 1)
    assert [g.kind for g in weights_only].count("wgrad") == 4
    dgrad = hiding_gemms(model, 2, 32, 1, backward="dgrad")
    assert [g.kind for g in dgrad] == [g.kind for g in weights_only if g.kind != "wgrad"]
    attn = hiding_gemms(model, 2, 32, 2, attention=True)[-6:]
    # per GPU: 2 sequences x 4/2 heads, d_head 16: QK^T 2 s s d, AV 2 s d s; backward 2x each
    fwd = sum(g.flops for g in attn if g.kind == "fprop")
    bwd = sum(g.flops for g in attn if g.kind == "dgrad")
    assert fwd == 2 * (2 * 32 * 32 * 16 * 4) and bwd == 2 * fwd


def test_slowdown_table_interpolates():
    table = ((0.0, 0.0), (0.5, 0.1), (1.0, 0.3))
    assert slowdown_at(table, 0.25) == pytest.approx(0.05)
    assert slowdown_at(table, 0.75) == pytest.approx(0.2)
    assert slowdown_at(table, 7.0) == 0.3 and slowdown_at(0.1, 0.9) == 0.1
    points = _points(1.0, 0.5, 2.0, 1.0)
    assert iteration_loss(points, 3, table).jitq_s == pytest.approx(
        3 * (block_time(1.0, 0.5, 0.1) + block_time(2.0, 1.0, 0.1)) + 1.5)
    assert iteration_loss(points, 3, 0.1, first_block_hidden=True).jitq_s == pytest.approx(
        3 * (block_time(1.0, 0.5, 0.1) + block_time(2.0, 1.0, 0.1)))
