"""Scenarios: loading, overriding with --set, validation messages, and the default's equality
with the analysis' standing settings."""

import pytest

from pimisa.errors import InputError, UsageError
from pimisa.jitq import scenario as sc
from pimisa.jitq.gpu import load_gpus
from pimisa.jitq.report import Options
from pimisa.jitq.sweeps import count, parse_axis
from pimisa.jitq.workloads import load_models


def test_default_is_the_standing_analysis():
    s = sc.load("default")
    assert sc.options(s) == Options()
    assert s.models == list(load_models().values())
    assert s.gpus == list(load_gpus().values())
    assert sc.formats(s) == ["mx9", "mx6", "mx4"]


@pytest.mark.parametrize("name", sc.bundled_names())
def test_bundled_scenarios_are_sourced(name):
    s = sc.load(name)
    assert s.doc["description"] and s.doc["source"]
    for section in sc.SCHEMA:
        assert s.doc[section]["source"], f"{name}: [{section}] has no source"
    for table in (*s.all_models.values(), *s.all_gpus.values()):
        assert table.source


def test_set_overrides_fields():
    s = sc.load("default", ["capacity.dp_shard=8", "gpus.mi300x.tflops.mx6=5229.8",
                            'models."gpt3-1.3b".layers=12', "pim.launch=block",
                            "throughput.slowdown_table=[[0, 0], [1, 0.2]]"])
    opts = sc.options(s)
    assert opts.setup.dp_shard == 8 and opts.per_block
    assert opts.slowdown == ((0.0, 0.0), (1.0, 0.2))
    assert s.all_gpus["mi300x"].tflops["mx6"] == 5229.8
    assert s.all_gpus["mi300x"].tflops["mx9"] == 2614.9  # the rest comes from the preset
    assert s.all_models["gpt3-1.3b"].layers == 12


@pytest.mark.parametrize("sets, message", [
    (["capacity.dp_shard=0"], "--set capacity.dp_shard: must be an integer >= 1, got 0"),
    (["workload.micro_batch=two"], "--set workload.micro_batch: must be an integer >= 1"),
    (["gpus.mi300x.tflops.mx6=-1"], "--set gpus.mi300x.tflops.mx6: must be a positive number"),
    (["capacity.lp_bits=exact"], "--set capacity.lp_bits: must be one of 'nominal', 'packed'"),
    (["capacity.colour=1"], "--set capacity.colour: unknown field"),
    (["workload.models=[\"gpt9\"]"], "--set workload.models: 'gpt9' has no [models.gpt9] table"),
    (["throughput.slowdown_table=[[1, 0], [0, 1]]"], "--set throughput.slowdown_table: must be"),
    (["noequals"], "--set 'noequals': expected path.field=value"),
    (["pim.hp=fp8"], "--set pim.hp: must be one of 'fp32', 'bf16'"),
    (['pim.additions=["fma"]'], "--set pim.additions: must be"),
])
def test_bad_sets_name_the_field(sets, message):
    with pytest.raises(UsageError) as err:
        sc.load("default", sets)
    assert message in str(err.value) and len(str(err.value).splitlines()) == 1


def test_bad_files(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[workload\n")
    with pytest.raises(InputError, match="bad.toml: invalid TOML"):
        sc.load(str(bad))
    text = (sc.resources.files(sc.PACKAGE) / "default.toml").read_text()
    broken = tmp_path / "mine.toml"
    broken.write_text(text.replace("dp_shard = 1 ", "dp_shard = -3 ").replace(
        'from = "mi250x"', 'from = "mi999"'))
    with pytest.raises(InputError) as err:
        sc.load(str(broken))
    lines = str(err.value).splitlines()
    assert f"{broken}: capacity.dp_shard: must be an integer >= 1, got -3" in lines
    assert any(line.startswith(f"{broken}: gpus.mi250x.from: no bundled gpu 'mi999'")
               for line in lines)
    with pytest.raises(UsageError, match="unknown scenario 'nope'"):
        sc.load("nope")
    with pytest.raises(InputError, match="absent.toml: cannot read: No such file"):
        sc.load(str(tmp_path / "absent.toml"))


def test_axes():
    axis = parse_axis('workload.formats=["mx6"],["mx4", "mx9"]')
    assert axis.values == ('["mx6"]', '["mx4", "mx9"]')
    assert count([axis, parse_axis("workload.micro_batch=1,2,4")]) == 6
    with pytest.raises(UsageError, match="expected path.field=v1,v2"):
        parse_axis("workload.micro_batch")


def test_field_docs_cover_the_schema():
    paths = {p for p, _, _ in sc.field_docs()}
    assert {"capacity.dp_shard", "pim.kernels", "throughput.slowdown_table"} <= paths


def test_hp_and_additions_choose_the_kernels():
    opts = sc.options(sc.load("default", ["pim.hp=bf16", 'pim.additions=["minui", "bfi"]']))
    assert opts.kernel("mx6", "col") == "mx6_col_bf16"
    assert opts.defines() == (("BFI", 1), ("MINUI", 1))
    mine = sc.options(sc.load("default", ['pim.kernels.mx6_col="my.pimasm"']))
    assert (mine.kernel("mx6", "col"), mine.kernel("mx6", "row")) == ("my.pimasm", "mx6_row")
