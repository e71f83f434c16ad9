"""JIT-Q memory-capacity accounting: Korthikanti activations, weight state, LP copies."""

from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pimisa.errors import UsageError
from pimisa.jitq.capacity import (
    Setup,
    activation_bytes,
    fit_setup,
    larger_model,
    lower_tp,
    memory,
)
from pimisa.jitq.workloads import Model, load_models

# s = 4 tokens, h = 8, a = 2 heads, v = 8: sbh = 32, as/h = 1
TINY = Model("tiny", hidden=8, layers=1, heads=2, ffn=32, seq=4, vocab=8)


@pytest.mark.parametrize("setup, per_layer", [
    (Setup(recompute="none"), 32 * (34 + 5)),
    (Setup(tp=2, recompute="none"), 32 * (34 + 5) / 2),
    (Setup(tp=2, recompute="none", sequence_parallel=False), 32 * (10 + 12 + 2.5)),
    (Setup(tp=2, recompute="selective"), 32 * 34 / 2),
    (Setup(tp=2, recompute="selective", sequence_parallel=False), 32 * (10 + 12)),
    (Setup(tp=2, recompute="full"), 32 * 2 / 2),
    (Setup(tp=2, recompute="full", sequence_parallel=False), 32 * 2),
])
def test_korthikanti_table_2(setup, per_layer):
    sp = setup.sequence_parallel
    extras = 32 * 1 / (setup.tp if sp else 1) + 4 * 32 * (1 + 8 / 8) / setup.tp
    assert activation_bytes(TINY, setup) == pytest.approx(per_layer + extras)
    piped = replace(setup, pp=3)  # first stage: L layers' worth, p embedding masks, no output
    assert activation_bytes(TINY, piped, layers=6) == pytest.approx(
        6 * per_layer + 3 * 32 / (setup.tp if sp else 1))


@given(t=st.sampled_from([1, 2, 4, 8]), b=st.integers(1, 8))
def test_recompute_orders_memory(t, b):
    model = load_models()["gpt3-1.3b"]
    for sp in (True, False):
        none, sel, full = (activation_bytes(model, Setup(tp=t, micro_batch=b, recompute=r,
                                                         sequence_parallel=sp))
                           for r in ("none", "selective", "full"))
        assert full < sel < none
    assert activation_bytes(model, Setup(tp=t, sequence_parallel=True)) <= activation_bytes(
        model, Setup(tp=t, sequence_parallel=False))


def test_weight_state_is_megatrons_18_bytes():
    model = load_models()["gpt3-2.7b"]
    mem = memory(model, Setup(), "mx6")
    params = model.layers * model.block_params + model.embedding_params  # first stage
    assert (mem.master + mem.working + mem.grads + mem.optimizer) / params == pytest.approx(18)
    sharded = memory(model, Setup(dp_shard=4), "mx6")
    state = sharded.master + sharded.working + sharded.grads + sharded.optimizer
    assert state / params == pytest.approx(6 + 12 / 4)
    weights = model.layers * model.block_weight_params
    assert mem.lp == {"row": pytest.approx(weights * 0.75), "col": pytest.approx(weights * 0.75)}
    assert mem.savings == pytest.approx(1.5 * weights / mem.baseline)
    assert mem.baseline - mem.jitq == pytest.approx(1.5 * weights)


@given(fmt=st.sampled_from(["mx9", "mx6", "mx4"]), d=st.sampled_from([1, 8, 64]))
def test_larger_model_fills_the_baseline_memory(fmt, d):
    model = load_models()["gpt3-175b"]
    setup = Setup(tp=8, pp=8, dp_shard=d)
    grow = larger_model(model, setup, fmt)
    budget = memory(model, setup, fmt).baseline
    assert grow > 0
    assert memory(model, setup, fmt, model.layers * (1 + grow)).jitq == pytest.approx(budget)


def test_lower_tp_is_the_smallest_that_fits():
    model = load_models()["gpt3-175b"]
    for d in (1, 8, 64):
        setup = Setup(tp=8, pp=8, dp_shard=d)
        t, cut = lower_tp(model, setup, "mx9")
        budget = memory(model, setup, "mx9").baseline
        assert memory(model, replace(setup, tp=t), "mx9").jitq <= budget
        if t > 1:
            assert memory(model, replace(setup, tp=t - 1), "mx9").jitq > budget
        assert cut == pytest.approx(1 - t / 8)


def test_fit_setup():
    model = load_models()["gpt3-13b"]
    setup = fit_setup(model, Setup(), "mx6", 80e9)
    assert setup is not None and memory(model, setup, "mx6").baseline <= 80e9
    assert memory(model, replace(setup, tp=setup.tp // 2), "mx6").baseline > 80e9
    assert fit_setup(model, Setup(), "mx6", 1e6) is None


def test_bad_setups():
    model = load_models()["gpt3-125m"]
    with pytest.raises(UsageError, match="recompute must be one of"):
        memory(model, Setup(recompute="some"), "mx6")
    with pytest.raises(UsageError, match="pipeline degree 13 exceeds"):
        memory(model, Setup(pp=13), "mx6")
    with pytest.raises(UsageError, match="micro_batch must be at least 1"):
        memory(model, Setup(micro_batch=0), "mx6")
