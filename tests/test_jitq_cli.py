"""`pimisa jitq`: tables, JSON, figure, options and errors."""

import json

import pytest

from pimisa.cli import main


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return str(tmp_path_factory.mktemp("jitq-cli-cache"))


def run(capsys, *argv):
    try:
        code = main(["jitq", *argv])
    except SystemExit as exc:  # argparse usage errors
        code = exc.code
    out = capsys.readouterr()
    return code, out.out, out.err


def test_tables(capsys, cache):
    code, out, err = run(capsys, "--model", "gpt3-125m", "--gpu", "h100-sxm", "--format", "mx6",
                         "--cache-dir", cache)
    assert code == 0 and err == ""
    assert "slack_us" in out and "loss_%" in out and "saved_%" in out
    assert out.count("gpt3-125m  h100-sxm") >= 4  # 2 slack rows, throughput, capacity
    assert "The paper's claims on these numbers (scenario default" in out
    assert "MX6 costs 1.6 % of training throughput" in out


def test_json_keys(capsys, cache):
    code, out, _ = run(capsys, "--model", "gpt3-175b", "--gpu", "mi300x", "--json",
                       "--cache-dir", cache, "--tp", "8", "--pp", "8", "--slowdown", "0.2")
    assert code == 0
    doc = json.loads(out)
    assert doc["settings"]["slowdown"] == 0.2 and doc["settings"]["fit"] is False
    formats = doc["results"]["gpt3-175b"]["mi300x"]
    assert set(formats) == {"mx9", "mx6", "mx4"}
    for entry in formats.values():
        assert entry["setup"] == {"tp": 8, "pp": 8, "fits": True}
        assert set(entry["slack"]["fwd"]) == {"row"} and set(entry["slack"]["bwd"]) == {"col"}
        row = entry["slack"]["fwd"]["row"]
        assert row["slack_us"] == pytest.approx(row["gpu_us"] - row["pim_us"])
        assert 0 < entry["capacity"]["savings"] < 1
        assert entry["throughput"]["loss"] > 0
    assert {c["text"] for c in doc["claims"]} >= {
        "the fwd pass has enough slack to hide PIM quantization"}


def test_plot(capsys, cache, tmp_path):
    path = tmp_path / "slack.svg"
    code, _, _ = run(capsys, "--model", "gpt3-350m", "--gpu", "mi250x", "--plot", str(path),
                     "--cache-dir", cache)
    assert code == 0 and path.read_bytes().startswith(b"<?xml")


@pytest.mark.parametrize("argv, code, message", [
    (["--model", "gpt9"], 2, "pimisa: error: unknown model 'gpt9'"),
    (["--gpu", "a100"], 2, "pimisa: error: unknown GPU 'a100'"),
    (["--plot", "x.pdf"], 2, "pimisa: error: x.pdf: the figure must be a .png or .svg file"),
    (["--batch", "0"], 2, "argument --batch: expected a positive integer, got '0'"),
    (["--slowdown", "-1"], 2, "argument --slowdown: expected a number >= 0, got '-1'"),
    (["--format", "mx5"], 2, "argument --format: invalid choice: 'mx5'"),
    (["--model", "gpt3-125m", "--tp", "5"], 2, "hidden (768) is not divisible by the "
                                               "tensor-parallel degree 5"),
])
def test_errors(capsys, tmp_path, argv, code, message):
    got, out, err = run(capsys, *argv, "--cache-dir", str(tmp_path))
    assert (got, out) == (code, "")
    assert message in err and "Traceback" not in err
    assert not (tmp_path / "x.pdf").exists()


def test_bad_user_file(capsys, tmp_path):
    path = tmp_path / "gpus.toml"
    path.write_text("[gpus.x]\nmemory_gb = 0\n")
    code, out, err = run(capsys, "--gpu", str(path), "--cache-dir", str(tmp_path))
    assert code == 1 and out == ""
    assert f"{path} [gpus.x]: memory_gb must be a positive number, got 0" in err.splitlines()



def test_scenario_and_set(capsys, cache):
    code, out, _ = run(capsys, "--scenario", "default", "--model", "gpt3-125m", "--gpu",
                       "mi300x", "--format", "mx6", "--json", "--cache-dir", cache,
                       "--set", "pim.launch=block", "--set", "capacity.dp_shard=8")
    assert code == 0
    doc = json.loads(out)
    assert doc["scenario"]["name"] == "default"
    assert doc["settings"]["launch"] == "block" and doc["settings"]["setup"]["dp_shard"] == 8
    pim = doc["results"]["gpt3-125m"]["mi300x"]["mx6"]["pim"]["row"]
    assert 0 < pim["utilisation"] <= 1 and pim["slots"] == 1


def test_bad_set_is_a_usage_error(capsys, cache):
    code, out, err = run(capsys, "--set", "capacity.dp_shard=0", "--cache-dir", cache)
    assert (code, out) == (2, "")
    assert err.strip() == "pimisa: error: --set capacity.dp_shard: must be an integer >= 1, got 0"


@pytest.mark.parametrize("output", ["table", "csv", "json"])
def test_sweep_outputs(capsys, cache, tmp_path, output):
    argv = ["sweep", "--model", "gpt3-350m", "--gpu", "mi300x", "--format", "mx6",
            "--axis", "workload.micro_batch=1,4", "--axis", "pim.launch=weight,block",
            "--output", output, "--cache-dir", cache]
    code, out, err = run(capsys, *argv)
    assert code == 0 and err == ""
    if output == "json":
        records = json.loads(out)["records"]
        assert len(records) == 4
        by = {(r["workload.micro_batch"], r["pim.launch"]): r for r in records}
        assert by[("4", "weight")]["fwd_slack"] > by[("1", "weight")]["fwd_slack"]
        assert by[("1", "block")]["row_util"] >= by[("1", "weight")]["row_util"]
    elif output == "csv":
        lines = out.strip().splitlines()
        assert lines[0].startswith("workload.micro_batch,pim.launch,model,gpu,format")
        assert len(lines) == 5
    else:
        assert "fwd_slack_%" in out
    path = tmp_path / "sweep.svg"
    assert run(capsys, *argv, "--plot", str(path))[0] == 0
    assert path.read_bytes().startswith(b"<?xml")


def test_sweep_bad_axis(capsys, cache):
    code, out, err = run(capsys, "sweep", "--axis", "workload.micro_batch=1,0",
                         "--cache-dir", cache)
    assert (code, out) == (2, "")
    assert "--set workload.micro_batch: must be an integer >= 1, got 0" in err
