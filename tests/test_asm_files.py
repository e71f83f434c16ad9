"""LLVM-MC-style assembler tests: every tests/asm/*.pimasm file carries its expectations.

Annotations (in comments, anywhere on a line):

    add v1, v2, v3    ; CHECK: 13 00 01 02 03 00 ff 00 00 00 00 00 00 00 00 00
    ad v1, v2         ; ERROR: [[@LINE]]:1: unknown mnemonic 'ad'
    ; NOTE: [[@LINE-3]]:5: in expansion of macro 'acc'
    ; WARNING: other.inc:4:1: 'st' writes row
    ; ARCH: hbm2-pim

CHECK gives the bytes of one or more 16-byte records. On a line of its own, a CHECK belongs to
the closest statement line above it (so a loop body line can list all its records below it).
The records whose source map points at a line (program order) must be exactly the CHECK bytes
of that line, in order; every record must be checked (CHECKs in included files count for
their lines).

ERROR/WARNING/NOTE give a diagnostic as [file:]line:col: and a text the message must contain.
As in LLVM's FileCheck and clang -verify, the line is written relative to the annotation's own
line ([[@LINE]], [[@LINE-N]], [[@LINE+N]]), so an expectation sits on or right below the line
it tests and survives edits above it; a plain number is an absolute line, kept for a
diagnostic in another file (an included one). The diagnostics of the run, notes included,
must be exactly the expected ones: a missing, an extra or a misplaced (line or column)
diagnostic fails, and a file with ERRORs must fail to assemble. ARCH picks the architecture
passed to the assembler.
"""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pimisa.asm import assemble_path

HERE = Path(__file__).parent / "asm"
FILES = sorted(HERE.glob("*.pimasm"))
_ANNOT = re.compile(r"[;#]\s*(CHECK|ERROR|WARNING|NOTE|ARCH):\s*(.*?)\s*$")
_DIAG = re.compile(r"(?:(?P<file>[^:\s\[]+):)?(?P<line>\d+|\[\[@LINE(?:[+-]\d+)?\]\]):"
                   r"(?P<col>\d+):\s*(?P<msg>.*)")


def diagnostic_line(text: str, here: int) -> int:
    """An annotation's line: absolute, or [[@LINE]] / [[@LINE+N]] / [[@LINE-N]] relative to
    the annotation's own line `here`."""
    if text.isdigit():
        return int(text)
    offset = text[len("[[@LINE"):-2]
    return here + (int(offset) if offset else 0)


def annotations(path: Path) -> list[tuple[int, str, str]]:
    """(line, kind, text) of every annotation; a CHECK alone on its line gets the line number
    of the closest statement above it."""
    out = []
    statement = 0
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        alone = line.lstrip()[:1] in (";", "#", "")
        if not alone:
            statement = number
        for m in _ANNOT.finditer(line):
            where = statement if alone and m.group(1) == "CHECK" else number
            out.append((where, m.group(1), m.group(2)))
    return out


def test_relative_lines_resolve():
    assert diagnostic_line("7", 3) == 7
    assert diagnostic_line("[[@LINE]]", 3) == 3
    assert diagnostic_line("[[@LINE+2]]", 3) == 5 and diagnostic_line("[[@LINE-1]]", 3) == 2
    m = _DIAG.fullmatch("[[@LINE-1]]:5: in expansion of macro 'acc'")
    assert m and m.group("file") is None and m.group("line") == "[[@LINE-1]]"


def test_the_suite_is_not_empty():
    assert len(FILES) >= 10


def check_file(path: Path) -> None:
    """Assemble `path` and assert that its diagnostics and records are exactly its annotations."""
    notes = annotations(path)
    arch = next((text for _, kind, text in notes if kind == "ARCH"), None)
    result = assemble_path(path, arch)
    expected: list[tuple[str, str, int, int, str]] = []
    for where, kind, text in notes:
        if kind in ("ERROR", "WARNING", "NOTE"):
            m = _DIAG.fullmatch(text)
            assert m, f"bad annotation {text!r}"
            expected.append((kind.lower(), m.group("file") or path.name,
                             diagnostic_line(m.group("line"), where), int(m.group("col")),
                             m.group("msg")))
    actual: list[tuple[str, str, int, int, str]] = []
    for d in result.diagnostics:
        assert d.loc is not None
        actual.append((d.severity, Path(d.loc.file).name, d.loc.line, d.loc.col, d.message))
        for loc, msg in d.notes:
            actual.append(("note", Path(loc.file).name, loc.line, loc.col, msg))
    unmatched = list(actual)
    for exp in expected:
        hit = next((a for a in unmatched if a[:4] == exp[:4] and exp[4] in a[4]), None)
        assert hit is not None, f"expected {exp} not reported; got:\n{result.rendered}"
        unmatched.remove(hit)
    unexpected = unmatched
    assert not unexpected, f"unexpected diagnostics {unexpected}:\n{result.rendered}"
    if any(e[0] == "error" for e in expected):
        assert result.program is None, "the file assembled despite its expected errors"
        return
    program = result.program
    assert program is not None, result.rendered
    checks: dict[tuple[str, int], list[str]] = defaultdict(list)
    for name in program.files:
        for number, kind, text in annotations(Path(name)):
            if kind == "CHECK":
                checks[(Path(name).name, number)] += text.split()
    got: dict[tuple[str, int], list[str]] = defaultdict(list)
    raw = program.records.tobytes()
    assert program.srcmap is not None
    for i, entry in enumerate(program.srcmap):
        key = (Path(program.files[int(entry["file"])]).name, int(entry["line"]))
        got[key] += raw[16 * i:16 * i + 16].hex(" ").split()
    for key in sorted(set(checks) | set(got)):
        assert got.get(key) == checks.get(key), f"{key[0]}:{key[1]}: records differ"


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_file(path: Path):
    check_file(path)


_SELF_CONTAINED = [p for p in FILES if p.name.startswith("errors_") and ".include" not in
                   p.read_text(encoding="utf-8")]
_MUTATIONS = ("drop", "column", "line", "text")


def _mutate(line: str, how: str) -> str:
    """One expectation line made wrong: dropped, column +1, line -1 further up, or its message
    no longer a substring of the real one."""
    m = re.search(r"(ERROR|WARNING|NOTE): (\[\[@LINE-(\d+)\]\]|\d+):(\d+):", line)
    assert m
    if how == "drop":
        return ""
    if how == "column":
        return line[:m.start(4)] + str(int(m.group(4)) + 1) + line[m.end(4):]
    if how == "line":
        up = int(m.group(3)) + 1 if m.group(3) else None
        where = f"[[@LINE-{up}]]" if up else str(int(m.group(2)) - 1)
        return line[:m.start(2)] + where + line[m.end(2):]
    return line + " (not what it said)"


@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_a_wrong_expectation_fails(tmp_path_factory, data):
    """Any one expectation dropped, or moved by a line or a column, or given another text,
    makes the file's check fail (a missing, an extra or a misplaced diagnostic)."""
    source = data.draw(st.sampled_from(_SELF_CONTAINED), label="file")
    lines = source.read_text(encoding="utf-8").splitlines()
    spots = [i for i, line in enumerate(lines) if re.search(r"; (ERROR|WARNING|NOTE): ", line)]
    spot = data.draw(st.sampled_from(spots), label="expectation")
    how = data.draw(st.sampled_from(_MUTATIONS), label="mutation")
    if how == "drop":
        lines[spot] = ";"                    # keep the line count: only this expectation changes
    else:
        lines[spot] = _mutate(lines[spot], how)
    path = tmp_path_factory.mktemp("asm") / source.name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(AssertionError):
        check_file(path)


def test_an_unexpected_diagnostic_fails(tmp_path):
    """A diagnostic that no expectation names fails the check (here: one more bad line)."""
    source = HERE / "errors_operands.pimasm"
    path = tmp_path / source.name
    path.write_text(source.read_text(encoding="utf-8") + "add v1, v2, v99\n", encoding="utf-8")
    with pytest.raises(AssertionError, match="unexpected diagnostics"):
        check_file(path)
