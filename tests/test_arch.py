"""Architecture presets: the spec's numbers, validation errors, the `arch` command."""

import json
import tomllib
from importlib import resources

import numpy as np
import pytest

from pimisa.arch import load_arch, parse_arch, preset_names
from pimisa.cli import main
from pimisa.dram.tracefile import preset_fingerprint
from pimisa.errors import InputError


def test_bundled_presets():
    assert preset_names() == ["hbm2-pim", "hbm3", "lpddr5x"]
    hbm3 = load_arch()
    assert hbm3.name == "hbm3"
    g, t = hbm3.geometry, hbm3.timing
    assert (g.channels, g.banks, g.cols, g.lanes, g.rows) == (32, 16, 32, 8, 2**15)
    assert (t.CL, t.tRCD_RD, t.tRP, t.tRAS, t.tRC, t.tRFC, t.tREFI, t.rtw) == (
        20, 31, 26, 45, 72, 560, 6240, 20)
    hbm2 = load_arch("hbm2-pim")
    assert hbm2.geometry.banks_per_pim_unit == 2 and hbm2.geometry.units_per_channel == 8
    assert hbm2.timing.rtw == 20 + 2 + 1 - 8  # PIMSimulator: RL + BL/2 + tRTRS - WL
    lp = load_arch("lpddr5x")
    assert lp.geometry.cols == 64 and lp.timing.tCCD_L == 4 and lp.timing.tREFI == 3661
    assert lp.timing.tCK_ns * 4 == pytest.approx(4.266667, rel=1e-6)


def _doc(name="hbm3"):
    text = resources.files("pimisa.presets").joinpath(f"{name}.toml").read_text()
    return tomllib.loads(text)


def test_user_preset_file(tmp_path):
    path = tmp_path / "mine.toml"
    text = (resources.files("pimisa.presets") / "hbm3.toml").read_text()
    path.write_text(text.replace('name = "hbm3"', 'name = "mine"')
                    .replace("channels = 32", "channels = 4"))
    arch = load_arch(str(path))
    assert arch.name == "mine" and arch.geometry.channels == 4


def test_every_bad_field_is_reported():
    doc = _doc()
    doc["geometry"]["lanes"] = "eight"
    doc["geometry"]["colour"] = 3
    doc["timing"]["tRP"] = -1
    del doc["timing"]["CL"]
    with pytest.raises(InputError) as exc:
        parse_arch(doc, "x.toml")
    lines = str(exc.value).splitlines()
    assert len(lines) == 4
    assert any("lanes must be an integer" in ln for ln in lines)
    assert any("unknown key 'colour'" in ln for ln in lines)
    assert any("tRP must be >= 0" in ln for ln in lines)
    assert any("missing key 'CL'" in ln for ln in lines)
    assert all(ln.startswith("x.toml: ") for ln in lines)


@pytest.mark.parametrize("section,key,value,message", [
    ("geometry", "word_bits", 128, "word_bits (128) must equal lanes x lane_bits (8 x 32 = 256)"),
    ("geometry", "lane_bits", 8, "lane_bits must be 32 or 16, got 8"),
    ("geometry", "lanes", 32, "lanes must be at most 16"),
    ("geometry", "banks", 15, "multiple of bank_groups"),
    ("geometry", "row_bytes", 1000, "whole number"),
    ("geometry", "mask_registers", 0, "mask_registers must be in"),
    ("geometry", "rows", 0, "rows must be at least 1"),
    ("timing", "tRAS", 100, "tRAS (100) cannot exceed tRC"),
    ("timing", "tRFC", 7000, "must be below tREFI"),
    ("timing", "tCK_ns", 0, "tCK_ns must be positive"),
])
def test_impossible_values(section, key, value, message):
    doc = _doc()
    doc["geometry"]["lanes"] = 8
    doc[section][key] = value
    with pytest.raises(InputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_arch(doc, "x.toml")


def test_lane_widths_and_overrides():
    """hbm2-pim computes in 16 x 16-bit lanes (HBM-PIM), the others in 8 x 32; any preset
    takes the other width (or another geometry field) as NAME:FIELD=VALUE."""
    widths = {n: (load_arch(n).geometry.lanes, load_arch(n).geometry.lane_bits)
              for n in preset_names()}
    assert widths == {"hbm2-pim": (16, 16), "hbm3": (8, 32), "lpddr5x": (8, 32)}
    wide = load_arch("hbm2-pim:lane_bits=32")
    assert (wide.name, wide.geometry.lanes, wide.geometry.lane_bits) == (
        "hbm2-pim:lane_bits=32", 8, 32)
    assert wide.timing == load_arch("hbm2-pim").timing
    narrow = load_arch("hbm3:lane_bits=16,channels=4")
    assert (narrow.geometry.lanes, narrow.geometry.lane_dtype, narrow.geometry.channels) == (
        16, np.dtype(np.uint16), 4)
    for spec, message in [("hbm3:lane_bits=8", "lane_bits must be 32 or 16, got 8"),
                          ("hbm3:colour=3", "'colour=3' is not FIELD=VALUE"),
                          ("hbm3:lanes=x", "lanes must be an integer"),
                          ("hbm3:lanes=16", r"must equal lanes x lane_bits \(16 x 32")]:
        with pytest.raises(InputError, match=message):
            load_arch(spec)


def test_refresh_modes():
    """hbm3 refreshes all banks by default and per bank on request (Ramulator 2's numbers);
    a preset without per-bank numbers cannot, and only the two modes exist. All-bank presets
    fingerprint as before the per-bank fields existed."""
    base, pb = load_arch("hbm3"), load_arch("hbm3:refresh=per-bank,channels=4")
    assert (base.timing.refresh, base.timing.per_bank) == ("all-bank", False)
    assert pb.timing.per_bank and pb.geometry.channels == 4
    assert (pb.timing.tRFCpb, pb.timing.tREFIpb, pb.timing.tRREFD) == (320, 390, 8)
    assert "tRFCpb" not in base.timing.scheduled() and pb.timing.scheduled()["tRFCpb"] == 320
    assert preset_fingerprint(base) != preset_fingerprint(pb)
    for spec, message in [
            ("hbm3:refresh=sometimes", "refresh must be one of 'all-bank', 'per-bank', got "
                                       "'sometimes'"),
            ("hbm2-pim:refresh=per-bank", "refresh = 'per-bank' needs tRFCpb and tREFIpb")]:
        with pytest.raises(InputError, match=message):
            load_arch(spec)
    doc = _doc()
    doc["geometry"]["lanes"] = 8
    doc["timing"]["refresh"] = 1
    with pytest.raises(InputError, match="refresh must be one of"):
        parse_arch(doc, "x.toml")


def test_unreadable_and_invalid_files(tmp_path):
    with pytest.raises(InputError, match="cannot read"):
        load_arch(str(tmp_path / "missing.toml"))
    bad = tmp_path / "bad.toml"
    bad.write_text("name = [\n")
    with pytest.raises(InputError, match="invalid TOML"):
        load_arch(str(bad))
    with pytest.raises(InputError, match="unknown architecture"):
        load_arch("hbm9")


def test_arch_command(capsys):
    assert main(["arch", "--list"]) == 0
    assert "hbm3" in capsys.readouterr().out
    assert main(["arch", "--show", "lpddr5x", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["derived"]["cols"] == 64
    assert main(["arch", "--show", "nope"]) == 1
    assert "unknown architecture" in capsys.readouterr().err
    assert main(["arch", "--json"]) == 2
