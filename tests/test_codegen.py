"""Generated files (C header, docs/isa.md) must match the ISA table."""

from pimisa import codegen
from pimisa.cli import main
from pimisa.isa import TABLE


def test_generated_files_are_fresh():
    assert codegen.stale_files() == [], "run `python -m pimisa.codegen`"


def test_stale_file_is_detected(tmp_path):
    for rel, make in codegen.GENERATED.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(make())
    assert codegen.stale_files(tmp_path, jitq=False) == []
    header = tmp_path / codegen.C_HEADER_PATH
    header.write_text(header.read_text().replace("0x13", "0x14", 1))
    assert codegen.stale_files(tmp_path, jitq=False) == [codegen.C_HEADER_PATH]


def test_every_instruction_documented(capsys):
    doc = codegen.isa_markdown()
    header = codegen.c_header()
    for ins in TABLE:
        assert f"`{ins.syntax}`" in doc
        assert f"#define OP_{ins.c_name} 0x{ins.opcode:02X}" in header
    assert main(["isa", "--markdown"]) == 0
    assert capsys.readouterr().out == doc
