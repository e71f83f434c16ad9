"""Editor support: the generated Pygments lexer (found through its entry point) and TextMate
grammar cover every mnemonic and directive and lex every bundled kernel without errors."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from pygments.lexers import get_lexer_by_name
from pygments.token import Error, Keyword, Name

from pimisa.asm.expand import DIRECTIVES
from pimisa.editordefs import GRAMMAR_PATH, mnemonic_names
from pimisa.editors.pimasm_lexer import PimasmLexer
from pimisa.kernels import _directory

ROOT = Path(__file__).resolve().parent.parent
SOURCES = sorted(p for p in _directory().iterdir() if p.suffix in (".pimasm", ".inc"))


def test_entry_point_finds_the_lexer():
    assert isinstance(get_lexer_by_name("pimasm"), PimasmLexer)
    done = subprocess.run([sys.executable, "-m", "pygments", "-l", "pimasm", "-f", "raw",
                           str(SOURCES[0])], capture_output=True, text=True)
    assert done.returncode == 0 and "Token.Name.Builtin" in done.stdout


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.name)
def test_bundled_sources_lex_without_errors(path):
    tokens = list(PimasmLexer().get_tokens(path.read_text()))
    assert not [v for t, v in tokens if t in Error]
    if path.suffix == ".inc":  # the macro libraries hold the instructions
        assert any(t is Name.Builtin for t, _ in tokens)


def test_every_mnemonic_and_directive_is_highlighted():
    lexer = PimasmLexer()
    for name in mnemonic_names():
        tokens = list(lexer.get_tokens(f"    {name} v1, v2\n"))
        assert (Name.Builtin, name) in tokens, name
    for name in DIRECTIVES:
        assert (Keyword, name) in list(lexer.get_tokens(f"{name} X\n")), name


def test_textmate_grammar_covers_the_table():
    grammar = json.loads((ROOT / GRAMMAR_PATH).read_text())
    assert grammar["scopeName"] == "source.pimasm"
    patterns = {p.get("name") or p["captures"]["1"]["name"]: re.compile(p["match"], re.M)
                for p in grammar["patterns"]}
    instruction = patterns["keyword.other.instruction.pimasm"]
    for name in mnemonic_names():
        m = instruction.search(f"  {name} v0")
        assert m and m.group(1) == name, name
    directive = patterns["keyword.control.directive.pimasm"]
    assert all(directive.fullmatch(d) for d in DIRECTIVES)
    assert patterns["comment.line.pimasm"].search("li v0, 1 ; note").group() == "; note"
