"""Assembly listings: per command its index, the 16 record bytes, the instruction, the source."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from pimisa.encoding import disassemble_one
from pimisa.program import KernelMeta, Program


def describe_meta(meta: KernelMeta) -> list[str]:
    """Comment lines describing a kernel's regions and parameters."""
    out = []
    names = max((len(r.name) for r in meta.regions), default=0)
    spans = [f"{r.row}:{r.row + r.rows}" for r in meta.regions]
    rows = max((len(s) for s in spans), default=0)
    for r, span in zip(meta.regions, spans, strict=True):
        extra = "".join(f", {k}={v}" for k, v in r.params.items())
        out.append(f"; {r.kind:7s} {r.name:{names}s}  rows {span:{rows}s}  "
                   f"layout {r.layout}{extra}")
    if meta.params:
        out.append("; params  " + ", ".join(f"{k}={v}" for k, v in meta.params.items()))
    return out


def listing(program: Program, sources: dict[str, list[str]] | None = None) -> Iterator[str]:
    """Lines of the listing; `sources` maps file names to their lines (for the source text)."""
    sources = sources or {}
    n = len(program)
    main = program.files[0] if program.files else "?"
    yield (f"; kernel {program.meta.name or '(unnamed)'} for {program.meta.arch}: {n} command"
           f"{'s' if n != 1 else ''} from {main}")
    yield from describe_meta(program.meta)
    width = max(len(str(max(n - 1, 0))), 5) + 1
    multi = len(program.files) > 1
    yield (f";{'index':>{width - 1}}  {'encoding: op pred rd ra rb cc bank col row imm':47s}  "
           f"{'instruction':24s}  {'line':>4s}  source")
    raw = program.records.tobytes()
    srcmap = program.srcmap
    for i in range(n):
        hexes = raw[16 * i:16 * i + 16].hex(" ")
        text = disassemble_one(program.records[i])
        where, source = "", ""
        if srcmap is not None:
            f, line = int(srcmap[i]["file"]), int(srcmap[i]["line"])
            if line and f < len(program.files):
                name = program.files[f]
                where = f"{Path(name).name}:{line}" if multi else f"{line}"
                lines = sources.get(name)
                if lines is not None and line <= len(lines):
                    source = lines[line - 1].strip()
        yield f"{i:>{width}}  {hexes}  {text:24s}  {where:>4s}  {source}".rstrip()
