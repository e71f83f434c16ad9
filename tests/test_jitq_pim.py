"""The scheduler-backed PIM model of JIT-Q: slot counts, scheduler times, the timing cache."""

import json

import pytest

from pimisa.dram import time_launch
from pimisa.jitq.gpu import load_gpus
from pimisa.jitq.pim import PimTimer, input_region, kernel_name
from pimisa.jitq.workloads import Weight

GPUS = load_gpus()
QKV_175B_TP8 = Weight("qkv", 3 * 12288 // 8, 12288)


@pytest.fixture(scope="module")
def timer(tmp_path_factory):
    return PimTimer(tmp_path_factory.mktemp("jitq-cache"))


def test_slots_follow_the_hp16_tiles(timer):
    launch = timer.launch(GPUS["h100-sxm"], QKV_175B_TP8, "mx6", "row")
    # hp16 tiles are 16 x 128 elements (8 lanes): 288 x 96 tiles over 5 x 32 x 16 units
    assert launch.slots == -(-(4608 // 16) * (12288 // 128) // 2560) == 11
    small = timer.launch(GPUS["mi250x"], Weight("proj", 768, 768), "mx9", "col")
    assert small.slots == 1  # 48 x 6 tiles on 8 x 16 x 8 units


@pytest.mark.parametrize("fmt, direction", [("mx9", "row"), ("mx6", "col"), ("mx4", "col")])
def test_time_is_the_schedulers(timer, fmt, direction):
    gpu = GPUS["mi300x"]
    arch = gpu.arch()
    launch = timer.launch(gpu, QKV_175B_TP8, fmt, direction)
    program = timer.program(kernel_name(fmt, direction), arch)
    assert input_region(program)
    summary = time_launch(program, arch, launch.slots)
    assert (launch.ns, launch.cycles, launch.acts) == (summary.ns, summary.cycles,
                                                       summary.commands["ACT"])
    assert timer.seconds(gpu, QKV_175B_TP8, fmt, direction) == pytest.approx(summary.ns * 1e-9)
    assert timer.row_opens(gpu, QKV_175B_TP8, fmt, direction) == summary.commands["ACT"]


def test_more_slots_take_longer(timer):
    gpu = GPUS["h100-sxm"]
    one = timer.launch(gpu, Weight("w", 16, 128), "mx6", "row")
    many = timer.launch(gpu, Weight("w", 16 * 2560 * 3, 128), "mx6", "row")
    assert (one.slots, many.slots) == (1, 3)
    assert many.ns > 2 * one.ns


def test_disk_cache(tmp_path):
    gpu, weight = GPUS["h100-sxm"], Weight("fc1", 4096, 1024)
    first = PimTimer(tmp_path)
    launch = first.launch(gpu, weight, "mx4", "row")
    assert first.scheduled == 1
    files = list(tmp_path.iterdir())
    assert len(files) == 1 and files[0].name.startswith("mx4_row-")
    second = PimTimer(tmp_path)
    assert second.launch(gpu, weight, "mx4", "row") == launch
    assert second.scheduled == 0
    other_gpu = PimTimer(tmp_path)
    other_gpu.launch(GPUS["mi300x"], weight, "mx4", "row")  # other stack count: other key
    assert other_gpu.scheduled == 1 and len(list(tmp_path.iterdir())) == 2
    files[0].write_text("{not json")
    third = PimTimer(tmp_path)
    assert third.launch(gpu, weight, "mx4", "row") == launch and third.scheduled == 1
    assert json.loads(files[0].read_text())["slots"] == launch.slots


def test_unwritable_cache_only_costs_speed(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    timer = PimTimer(blocker / "cache")
    timer.launch(GPUS["h100-sxm"], Weight("w", 16, 128), "mx9", "row")
    assert timer.scheduled == 1 and not timer.use_disk


def test_bf16_tiles_hold_twice_the_elements(timer):
    gpu = GPUS["mi300x"]
    fp32, bf16 = (timer.tile_cost(gpu, k) for k in ("mx6_row", "mx6_row_bf16"))
    assert bf16.elements == 2 * fp32.elements == 4096
    weight = Weight("w", 4096, 4096)
    assert timer.tiles(gpu, weight, "mx6_row") == 2 * timer.tiles(gpu, weight, "mx6_row_bf16")


def test_an_addition_changes_the_kernel_and_its_time(timer):
    gpu = GPUS["mi300x"]
    base, bfi = (timer.tile_cost(gpu, "mx6_row", d) for d in ((), (("BFI", 1),)))
    assert bfi.commands < base.commands and bfi.launch.cycles < base.launch.cycles
    assert base.slots_per_element == base.commands / base.elements
