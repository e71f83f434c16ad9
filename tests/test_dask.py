"""Dask execution (pimisa.executor): bands and tensors on a LocalCluster give results identical
to the single-process run; without Dask the options say how to get it."""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest
from safetensors.numpy import load_file, save_file

from pimisa.cli import main
from pimisa.mx.formats.samples import adversarial

distributed = pytest.importorskip("distributed", reason="the dask extra: pip install pimisa[dask]")


@pytest.fixture(scope="module")
def cluster():
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                       dashboard_address=None, silence_logs=50)
    yield cluster
    cluster.close()


def test_checkpoint_on_a_cluster_equals_one_process(tmp_path, monkeypatch, cluster) -> None:
    monkeypatch.chdir(tmp_path)
    rng = np.random.default_rng(4)
    save_file({"a": adversarial(rng, (70, 300)), "b": rng.standard_normal((33, 17), np.float32)},
              "m.safetensors")
    argv = ["quantize", "--in", "m.safetensors", "--format", "mx6", "--direction", "col",
            "--golden", "--dequantized", "--band", "1"]
    assert main([*argv, "--out", "one.safetensors", "--report", "one.json"]) == 0
    assert main([*argv, "--out", "dask.safetensors", "--report", "dask.json",
                 "--scheduler", cluster.scheduler_address]) == 0
    one, many = load_file("one.safetensors"), load_file("dask.safetensors")
    assert sorted(one) == sorted(many)
    for key in one:
        assert np.array_equal(one[key].view(np.uint8), many[key].view(np.uint8)), key
    import json

    drop = {"seconds"}
    rows = [[{k: v for k, v in t.items() if k not in drop}
             for t in json.loads(open(name).read())["tensors"]] for name in ("one.json",
                                                                            "dask.json")]
    assert rows[0] == rows[1]


def test_tensor_on_local_workers_equals_one_process(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    np.save("w.npy", adversarial(np.random.default_rng(5), (50, 90)))
    argv = ["quantize", "--in", "w.npy", "--format", "mx9", "--direction", "row", "--golden",
            "--band", "1"]
    assert main([*argv, "--out", "one.npz"]) == 0
    assert main([*argv, "--out", "two.npz", "--workers", "2"]) == 0
    with np.load("one.npz") as a, np.load("two.npz") as b:
        for key in a.files:
            assert np.array_equal(a[key].view(np.uint8), b[key].view(np.uint8)), key


def test_without_dask_the_options_say_how_to_get_it(monkeypatch, capsys) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)
    assert main(["quantize", "--random", "16x16", "--format", "mx6", "--direction", "row",
                 "--workers", "2"]) == 2
    assert 'pip install "pimisa[dask]"' in capsys.readouterr().err
    assert main(["quantize", "--random", "16x16", "--format", "mx6", "--direction", "row",
                 "--workers", "2", "--scheduler", "tcp://x:1"]) == 2


def test_jitq_sweep_on_a_cluster_equals_one_process(tmp_path, monkeypatch, cluster) -> None:
    monkeypatch.chdir(tmp_path)
    argv = ["jitq", "sweep", "--model", "gpt3-125m", "--gpu", "mi300x", "--format", "all",
            "--axis", "workload.micro_batch=1,4", "--axis", 'pim.additions=[],["bfi"]',
            "--output", "json", "--cache-dir", str(tmp_path / "cache")]
    assert main([*argv, "--out", "one.json"]) == 0
    assert main([*argv, "--out", "dask.json", "--scheduler", cluster.scheduler_address]) == 0
    one, many = (open(name).read() for name in ("one.json", "dask.json"))
    assert one == many and len(json.loads(one)["records"]) == 2 * 2 * 3


def test_jitq_sweep_without_dask_says_how_to_get_it(monkeypatch, capsys) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)
    assert main(["jitq", "sweep", "--axis", "workload.micro_batch=1", "--workers", "2"]) == 2
    assert 'pip install "pimisa[dask]"' in capsys.readouterr().err


def test_fuzz_campaign_on_a_cluster_merges_the_runs(tmp_path, cluster, capsys) -> None:
    argv = ["fuzz", "mx6_row", "--golden", "mx6", "--direction", "row", "--max-examples", "7",
            "--seed", "5", "--scheduler", cluster.scheduler_address]
    assert main(argv) == 0
    assert "7 examples matched golden mx6 row in 2 runs" in capsys.readouterr().out
    wrong = tmp_path / "wrong_ref.py"
    wrong.write_text("import numpy as np\n\ndef gemv(inputs):\n"
                     "    return np.full((1, 8), 1.5, np.float32)\n")
    assert main(["fuzz", "example_gemv", "--ref", f"{wrong}:gemv", "--max-examples", "4",
                 "--scheduler", cluster.scheduler_address]) == 1
    assert "FAILED against" in capsys.readouterr().out
