"""Source text -> statement nodes, with the Lark LALR grammar in asm/pimasm.lark.

The grammar defines the language. Lark's LALR parser needs about 100 us per line here, too
slow for the 20,000 lines/s target, so instruction lines (almost every line of a big kernel)
are parsed by a small recursive-descent parser that builds exactly the nodes Lark builds, from
the grammar's own terminal patterns; tests check the two agree on generated, mutated and random
lines. Directives, macro definitions and every line the fast parser does not accept go to Lark,
all of a file's such lines in one batch; on a syntax error they are re-parsed one at a time so
that every syntax error of the file is reported, each with its line and column.
"""

from __future__ import annotations

import re
import threading
from importlib import resources
from typing import Any

import lark

from .diagnostics import Diagnostic, Loc
from .expr import Binary, Flt, KeyVal, Mem, Name, Num, Range, Reg, Str, Unary
from .nodes import Bank, Directive, Instr, MacroDef, Param, Pred, SourceFile

_MAX_INT_DIGITS = 70  # longer literals are certainly out of range (and slow to convert)
_ESCAPES = {'"': '"', "\\": "\\", "n": "\n", "t": "\t"}


def parse_int(text: str) -> int | None:
    """Value of an integer literal as the grammar accepts it (None if absurdly long)."""
    digits = text.replace("_", "")
    if len(digits) > _MAX_INT_DIGITS:
        return None
    prefix = digits[:2].lower()
    if prefix in ("0x", "0b", "0o"):
        return int(digits[2:], {"0x": 16, "0b": 2, "0o": 8}[prefix])
    return int(digits, 10)


def is_register_name(text: str) -> bool:
    """Whether `text` spells a register, mask or bank (v<N>, m<N>, b<N>): reserved names."""
    return len(text) > 1 and text[0] in "vmb" and text[1:].isdigit()


def name_node(text: str, col: int, end: int) -> Any:
    """A Name, or a Reg for the register spellings v<N>, m<N>, b<N>."""
    if is_register_name(text):
        digits = text[1:]
        value = int(digits) if len(digits) <= _MAX_INT_DIGITS else None
        return Reg(text[0], Num(value, col + 1, end), col, end, text)
    return Name(text, col, end)


def _string_value(text: str) -> str:
    body = text[1:-1]
    return re.sub(r"\\(.)", lambda m: _ESCAPES[m.group(1)], body)


class _Build(lark.Transformer):
    """Lark callbacks building asm nodes directly (no parse tree)."""

    def __default__(self, data: Any, children: list[Any], meta: Any) -> Any:
        return lark.Tree(data, children)  # only the grammar's inlined _rules come here

    def start(self, c: list[Any]) -> list[Any]:
        return c

    def instr(self, c: list[Any]) -> Instr:
        tok = c[0]
        ops = tuple(x for x in c[1:] if x is not None and not isinstance(x, (Pred, Bank)))
        sufs = tuple(x for x in c[1:] if isinstance(x, (Pred, Bank)))
        return Instr(str(tok), ops, sufs, tok.column, tok.end_column, tok.line)

    def directive(self, c: list[Any]) -> Directive:
        tok = c[0]
        ops = tuple(x for x in c[1:] if x is not None)
        return Directive(str(tok), ops, tok.column, tok.end_column, tok.line)

    def macro_def(self, c: list[Any]) -> MacroDef:
        kw, name = c[0], c[1]
        params = tuple(p for p in c[2:] if p is not None)
        return MacroDef(str(name), params, kw.column, kw.end_column, name.column, kw.line)

    def mparam(self, c: list[Any]) -> Param:
        name, _eq, default = c
        end = default.end if default is not None else name.end_column
        return Param(str(name), default, name.column, end)

    def pred(self, c: list[Any]) -> Pred:
        q, bang, atom = c
        return Pred(bang is not None, atom, q.column, atom.end)

    def bank(self, c: list[Any]) -> Bank:
        at, atom = c
        return Bank(atom, at.column, atom.end)

    def mem(self, c: list[Any]) -> Mem:
        lb, row, col, rb = c
        return Mem(row, col, lb.column, rb.end_column)

    def string(self, c: list[Any]) -> Str:
        tok = c[0]
        return Str(_string_value(str(tok)), tok.column, tok.end_column)

    def keyval(self, c: list[Any]) -> KeyVal:
        name, _eq, value = c
        return KeyVal(str(name), value, name.column, value.end)

    def range(self, c: list[Any]) -> Range:
        start, _colon, stop = c
        return Range(start, stop, start.col, stop.end)

    def binop(self, c: list[Any]) -> Binary:
        left, op, right = c
        return Binary(str(op), left, right, left.col, right.end)

    def unop(self, c: list[Any]) -> Unary:
        op, operand = c
        return Unary(str(op), operand, op.column, operand.end)

    def int(self, c: list[Any]) -> Num:
        tok = c[0]
        return Num(parse_int(str(tok)), tok.column, tok.end_column)

    def float(self, c: list[Any]) -> Flt:
        tok = c[0]
        return Flt(float(str(tok).replace("_", "")), tok.column, tok.end_column)

    def name(self, c: list[Any]) -> Any:
        tok = c[0]
        return name_node(str(tok), tok.column, tok.end_column)

    def indexed(self, c: list[Any]) -> Reg:
        name, _lp, expr, rp = c
        return Reg(str(name), expr, name.column, rp.end_column)

    def paren(self, c: list[Any]) -> Any:
        lp, expr, rp = c
        expr.col, expr.end = lp.column, rp.end_column
        return expr


_parser: lark.Lark | None = None
_lock = threading.Lock()


def grammar_text() -> str:
    """The Lark grammar of the language."""
    return resources.files("pimisa.asm").joinpath("pimasm.lark").read_text(encoding="utf-8")


def _lark() -> lark.Lark:
    global _parser
    if _parser is None:
        _parser = lark.Lark(grammar_text(), parser="lalr", lexer="contextual",
                            transformer=_Build())
    return _parser


def lark_parse(text: str) -> list[Any]:
    """Parse text (newline-terminated lines) with the grammar; raises lark.UnexpectedInput."""
    with _lock:
        return _lark().parse(text)


# --- fast path -------------------------------------------------------------------------------
# A recursive-descent parser for instruction lines producing exactly the nodes Lark produces.
# It uses the grammar's own terminal regexes; anything it does not accept (directives, macro
# definitions, every line with an error) goes to Lark, so it only has to agree with Lark on the
# lines it accepts, which tests/test_asm_parse.py checks on generated and mutated lines.


def _terminal(name: str) -> str:
    m = re.search(rf"^{name}(?:\.\d+)?: /(.*)/$", grammar_text(), re.M)
    assert m is not None, name
    return m.group(1)


def _uncaptured(pattern: str) -> str:
    return re.sub(r"\((?!\?)", "(?:", pattern)


_MNEMONIC = re.compile(r"[ \t\f\r]*(" + _terminal("MNEMONIC") + ")")
# Each piece: (whitespace, token). A comment token ends the line; if the pieces do not cover
# the whole line, some character is not a token and the line goes to Lark.
_PIECES = re.compile(
    r"([ \t\f\r]*)(" + "|".join(_uncaptured(_terminal(t)) for t in ("FLOAT", "INT", "NAME",
                                                                     "STRING"))
    + r"|<<|>>|[-+*/%&|^~,\[\]()?!@=:]|[;#].*)"
)
_BLANK = re.compile(r"[ \t\f\r]*(?:[;#].*)?")
_PREC = {"|": 1, "^": 2, "&": 3, "<<": 4, ">>": 4, "+": 5, "-": 5, "*": 6, "/": 6, "%": 6}
_OPS = frozenset("+-*/%&|^~") | {"<<", ">>"}
_STOP = frozenset(",]?@):")  # tokens that end an operand expression


class _Decline(Exception):
    """The fast parser does not handle this line (Lark will)."""


def _tokens(text: str, pos: int) -> list[tuple[str, str, int, int]] | None:
    """[(kind, text, col, end)] with kind n(ame) i(nt) f(loat) s(tring) o(perator)
    p(unctuation), closed by an ("e", "", col, col) end token; None if not all tokens."""
    toks = []
    for ws, tok in _PIECES.findall(text, pos):
        pos += len(ws)
        c = tok[0]
        if c in ";#":
            if text[pos:] != tok:  # a character before the comment was skipped
                return None
            return toks + [("e", "", pos + 1, pos + 1)]
        if c.isalpha() or c == "_":
            kind = "n"
        elif c.isdigit() or c == ".":
            kind = "i" if tok[:2] in ("0x", "0X") or not any(
                x in tok for x in ".eE") else "f"
        elif c == '"':
            kind = "s"
        else:
            kind = "o" if tok in _OPS else "p"
        end = pos + len(tok)
        toks.append((kind, tok, pos + 1, end + 1))
        pos = end
    pos += len(text) - pos - len(text[pos:].lstrip(" \t\f\r"))
    if pos != len(text):
        return None
    toks.append(("e", "", pos + 1, pos + 1))
    return toks


class _Fast:
    """Recursive descent over the token list of one instruction line."""

    __slots__ = ("toks", "i")

    def __init__(self, toks: list[tuple[str, str, int, int]]) -> None:
        self.toks = toks
        self.i = 0

    def take(self, text: str) -> tuple[str, str, int, int]:
        tok = self.toks[self.i]
        if tok[1] != text or tok[0] != "p":
            raise _Decline
        self.i += 1
        return tok

    def line(self, mnemonic: str, col: int) -> Instr:
        toks = self.toks
        ops: list[Any] = []
        kind, text = toks[0][:2]
        if kind != "e" and not (kind == "p" and text in "?@"):
            ops.append(self.operand())
            while toks[self.i][1] == ",":
                self.i += 1
                ops.append(self.operand())
        sufs: list[Pred | Bank] = []
        while True:
            kind, text, tcol, _ = toks[self.i]
            if kind != "p" or text not in "?@":
                break
            self.i += 1
            if text == "?":
                bang = toks[self.i][:2] == ("p", "!")
                self.i += bang
                atom = self.atom()
                sufs.append(Pred(bang, atom, tcol, atom.end))
            else:
                atom = self.atom()
                sufs.append(Bank(atom, tcol, atom.end))
        if toks[self.i][0] != "e":
            raise _Decline
        return Instr(mnemonic, tuple(ops), tuple(sufs), col, col + len(mnemonic))

    def operand(self) -> Any:
        toks = self.toks
        kind, text, col, end = toks[self.i]
        if kind == "p" and text == "[":
            self.i += 1
            row = self.expr(1)
            self.take(",")
            column = self.expr(1)
            rb = self.take("]")
            return Mem(row, column, col, rb[3])
        if kind == "n" and toks[self.i + 1][:2] == ("p", "="):
            self.i += 2
            value = self.value()
            return KeyVal(text, value, col, value.end)
        return self.value()

    def value(self) -> Any:
        kind, text, col, end = self.toks[self.i]
        if kind == "s":
            self.i += 1
            return Str(_string_value(text), col, end)
        first = self.expr(1)
        if self.toks[self.i][:2] == ("p", ":"):
            self.i += 1
            stop = self.expr(1)
            return Range(first, stop, first.col, stop.end)
        return first

    def expr(self, min_prec: int) -> Any:
        toks = self.toks
        nxt = toks[self.i + 1] if self.i + 1 < len(toks) else toks[-1]
        if (nxt[0] == "e" or nxt[1] in _STOP) and toks[self.i][0] in "ni":
            return self.atom()  # shortcut for a lone name or number
        left = self.unary()
        while True:
            kind, text = toks[self.i][:2]
            prec = _PREC.get(text, 0) if kind == "o" else 0
            if prec < min_prec:
                return left
            self.i += 1
            right = self.expr(prec + 1)
            left = Binary(text, left, right, left.col, right.end)

    def unary(self) -> Any:
        kind, text, col, _ = self.toks[self.i]
        if kind == "o" and text in "-+~":
            self.i += 1
            operand = self.unary()
            return Unary(text, operand, col, operand.end)
        return self.atom()

    def atom(self) -> Any:
        toks = self.toks
        kind, text, col, end = toks[self.i]
        self.i += 1
        if kind == "n":
            if toks[self.i][:2] == ("p", "("):
                self.i += 1
                index = self.expr(1)
                rp = self.take(")")
                return Reg(text, index, col, rp[3])
            return name_node(text, col, end)
        if kind == "i":
            return Num(parse_int(text), col, end)
        if kind == "f":
            return Flt(float(text.replace("_", "")), col, end)
        if kind == "p" and text == "(":
            inner = self.expr(1)
            rp = self.take(")")
            inner.col, inner.end = col, rp[3]
            return inner
        raise _Decline


def fast_parse_line(text: str) -> Instr | bool:
    """The Instr of an instruction line, True for a blank/comment line, False if Lark is
    needed (a directive, a macro definition, or any line with a syntax error)."""
    if _BLANK.fullmatch(text):
        return True
    m = _MNEMONIC.match(text)
    if m is None:
        return False
    toks = _tokens(text, m.end())
    if toks is None:
        return False
    try:
        return _Fast(toks).line(m.group(1), m.start(1) + 1)
    except (_Decline, RecursionError):
        return False


# --- syntax errors ---------------------------------------------------------------------------

# LPAR is left out: after a name it only means `v(...)`, rarely what the user meant.
_EXPR_START = {"INT", "FLOAT", "NAME", "UNOP", "LBRACK", "STRING"}
_PUNCT = [("COMMA", "','"), ("RBRACK", "']'"), ("RPAR", "')'"), ("_NL", "end of line")]
_RARE = [("EQUAL", "'='"), ("COLON", "':'"), ("LPAR", "'('")]


def _describe_token(tok: lark.Token) -> str:
    if tok.type in ("_NL", "$END"):
        return "end of line"
    if tok.type in ("INT", "FLOAT"):
        return f"number '{tok}'"
    if tok.type == "STRING":
        return f"string {tok}"
    return f"'{tok}'"


def _describe_expected(expected: set[str]) -> str:
    if expected & {"MNEMONIC", "DIRECTIVE", "MACRO"}:
        return "an instruction or a directive"
    if expected == {"NAME"}:
        return "a name"
    parts = []
    if expected & _EXPR_START:
        parts.append("an operand")
    parts += [desc for name, desc in _PUNCT if name in expected]
    if not parts:
        parts = [desc for name, desc in _RARE if name in expected]
    if not parts:
        parts = sorted(expected)
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " or " + parts[-1]


def syntax_message(exc: lark.UnexpectedInput, line_text: str) -> tuple[int, int, str]:
    """(col, end, message) for a Lark error on a one-line parse."""
    if isinstance(exc, lark.UnexpectedToken):
        tok = exc.token
        col = tok.column if isinstance(tok.column, int) else len(line_text) + 1
        end = tok.end_column if isinstance(tok.end_column, int) and tok.type != "_NL" else col + 1
        expected = _describe_expected(set(exc.expected))
        hint = ""
        if tok.type == "EQUAL" and re.match(r"\s*[A-Za-z_]\w*\s*=", line_text):
            hint = " (to define a symbol: .equ NAME, value)"
        return col, end, f"unexpected {_describe_token(tok)}; expected {expected}{hint}"
    col = getattr(exc, "column", 1)
    col = col if isinstance(col, int) and col > 0 else 1
    char = line_text[col - 1] if col - 1 < len(line_text) else ""
    if char == '"':
        msg = "unterminated string (or an escape other than \\\" \\\\ \\n \\t)"
    elif char.isdigit() or line_text[col - 1:col + 1][:2] in [f".{d}" for d in "0123456789"]:
        token = re.match(r"[0-9A-Za-z_.]*", line_text[col - 1:])
        msg = f"malformed number '{token.group(0) if token else char}'"
    elif char.isprintable():
        msg = f"unexpected character '{char}'"
    else:
        msg = f"unexpected character {char!r}"
    return col, col + 1, msg


_OPENER = re.compile(r"[ \t]*(\.for|\.rept|\.macro|\.input|\.output|\.scratch)"
                     r"(?![A-Za-z0-9_])(?:[ \t]+([A-Za-z_][A-Za-z0-9_]*))?")


def _stand_in(text: str) -> Directive | MacroDef | None:
    """For a line with a syntax error that opens a block (or declares a region): a broken
    stand-in, so blocks stay matched and later checks know something is missing."""
    m = _OPENER.match(text)
    if m is None:
        return None
    col, end = m.start(1) + 1, m.end(1) + 1
    if m.group(1) == ".macro":
        name = m.group(2) or ""
        return MacroDef(name, (), col, end, m.start(2) + 1 if name else end, broken=True)
    return Directive(m.group(1), (), col, end, broken=True)


# --- files -----------------------------------------------------------------------------------


def parse_lines(src: SourceFile, bad_lines: set[int] | None = None) -> tuple[list[Any],
                                                                         list[Diagnostic]]:
    """Statements of a file in line order, plus a diagnostic per syntax error.

    Lines listed in `bad_lines` (e.g. undecodable bytes, already reported) are skipped.
    """
    stmts: list[Any] = []
    slow: list[int] = []
    skip = bad_lines or set()
    for number, raw in enumerate(src.lines, 1):
        if number in skip:
            continue
        result = fast_parse_line(raw)
        if result is True:
            continue
        if result is False:
            slow.append(number)
            continue
        result.line = number
        result.src = src
        stmts.append(result)
    diags: list[Diagnostic] = []
    if slow:
        batch = "\n".join(src.lines[n - 1] for n in slow) + "\n"
        try:
            parsed = lark_parse(batch)
        except lark.UnexpectedInput:
            for n in slow:
                try:
                    for st in lark_parse(src.lines[n - 1] + "\n"):
                        st.line = n
                        st.src = src
                        stmts.append(st)
                except lark.UnexpectedInput as exc:
                    col, end, msg = syntax_message(exc, src.lines[n - 1])
                    diags.append(Diagnostic("error", Loc(src.name, n, col, end), msg))
                    stand_in = _stand_in(src.lines[n - 1])
                    if stand_in is not None:
                        stand_in.line = n
                        stand_in.src = src
                        stmts.append(stand_in)
        else:
            for st in parsed:
                st.line = slow[st.line - 1]
                st.src = src
                stmts.append(st)
        stmts.sort(key=lambda s: s.line)
    return stmts, diags
