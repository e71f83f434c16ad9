"""Assembler speed: parsing+assembling, loop/macro expansion, and loading a 1 M-command .pimb.

    python benchmarks/bench_asm.py [--quick]

Prints each figure with its target and, as a same-run baseline, the speed of a simpler
operation on the same input (plain Lark parsing; copying the emitted bytes; reading the file).
Targets (issue 2): >= 20,000 source lines/s; >= 500,000 emitted commands/s; load < 0.1 s.
"""

from __future__ import annotations

import argparse
import random
import tempfile
from pathlib import Path

import numpy as np
from benchutil import best_time

from pimisa.arch import load_arch
from pimisa.asm import assemble_source
from pimisa.asm.parse import lark_parse
from pimisa.program import load_program
from pimisa.validate import check_records


def straight_line_source(lines: int, expr_share: float, seed: int = 1) -> str:
    """A generated kernel without loops: typical instructions, `expr_share` of them with
    address expressions (those go through Lark, the rest through the fast path)."""
    rng = random.Random(seed)
    out = [".kernel bench", ".input A, rows=0:4096", ".output B, rows=4096:8192",
           ".equ BASE, 4096", ".equ ACC, v0"]
    three = ["add", "sub", "and", "or", "xor", "min", "max", "fadd", "fmul", "fmac", "shlv"]
    while len(out) < lines:
        v = [rng.randrange(16) for _ in range(3)]
        row, col = rng.randrange(4096), rng.randrange(32)
        pick = rng.random()
        if rng.random() < expr_share:
            out.append(rng.choice([
                f"    ld v{v[0]}, [BASE - {4096 - row} + {row % 3}, ({col} + 1) % 32]",
                f"    st v{v[0]}, [BASE + {row}, {col} ^ 1]   ; write back",
                f"    li v{v[0]}, {rng.uniform(-8, 8):.4f}",
                f"    addi v{v[0]}, v{v[1]}, {row} * 2 + 1",
            ]))
        elif pick < 0.3:
            out.append(f"    ld v{v[0]}, [{row}, {col}]")
        elif pick < 0.4:
            out.append(f"    st v{v[0]}, [{4096 + row}, {col}] ?m{v[1] % 4}")
        elif pick < 0.5:
            out.append(f"    cmp.gt m{v[0] % 4}, v{v[1]}, v{v[2]} ?!m{v[2] % 4}")
        elif pick < 0.6:
            out.append(f"    addi v{v[0]}, v{v[1]}, {row - 2048}     ; adjust")
        else:
            out.append(f"    {rng.choice(three)} v{v[0]}, v{v[1]}, v{v[2]}")
    return "\n".join(out) + "\n"


def unrolled_source(rows: int) -> str:
    """Nested loops and macro calls that unroll to rows * 32 * 4 commands."""
    return f"""
.kernel unroll
.input  A, rows=0:{rows}
.output B, rows={rows}:{2 * rows}
.equ ROWS, {rows}
.macro mac_word r, c
    ld   v(c % 8), [r, c]
    fmac v8, v(c % 8), v9 ?m0
.endm
.for r = 0, ROWS
    .for c = 0, 32
        mac_word r, c
        addi v10, v10, c
        st   v8, [ROWS + r, c] @b(c % 16)
    .endfor
.endfor
"""


def triangular_source(rows: int) -> str:
    """A non-rectangular nest: the inner bounds depend on the outer variable, so the outer
    iterations run in groups with equal inner bounds."""
    return f"""
.macro mac_word r, c
    ld   v(c % 8), [r, c]
    fmac v8, v(c % 8), v9 ?m0
.endm
.for r = 0, {rows}
    .for c = 0, r % 32 + 1
        mac_word r, c
        st   v8, [r, c] @b(c % 16)
    .endfor
.endfor
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller inputs, one run each")
    args = parser.parse_args()
    runs = 1 if args.quick else 3
    n_lines = 5_000 if args.quick else 20_000
    unroll_rows = 2048 if args.quick else 8192
    print(f"pimisa assembler benchmark ({'quick' if args.quick else 'full'})")

    for share in (0.0, 0.1, 1.0):
        src = straight_line_source(n_lines, share)
        t = best_time(lambda s=src: assemble_source(s), runs)
        t_lark = best_time(lambda s=src: lark_parse(s), 1)
        speed = n_lines / t
        print(f"  parse+assemble, {share:4.0%} expression lines: {speed:9,.0f} lines/s "
              f"(target 20,000: x{speed / 20_000:.2f}; plain Lark parse of the same text "
              f"{n_lines / t_lark:,.0f} lines/s, x{t_lark / t:.1f})")

    src = unrolled_source(unroll_rows)
    program = assemble_source(src)
    n = len(program)
    t = best_time(lambda: assemble_source(src), runs)
    t_copy = best_time(lambda: np.array(program.records, copy=True), runs)
    print(f"  loop/macro expansion: {n:,} commands in {t:.3f} s = {n / t:,.0f} commands/s "
          f"(target 500,000: x{n / t / 500_000:.2f}; copying the records takes "
          f"{t_copy * 1000:.1f} ms)")

    src = triangular_source(unroll_rows)
    m = len(assemble_source(src))
    t = best_time(lambda: assemble_source(src), runs)
    print(f"  non-rectangular nest (iterations grouped by inner bounds): {m:,} commands in "
          f"{t:.3f} s = {m / t:,.0f} commands/s (target 500,000: x{m / t / 500_000:.2f})")

    geometry = load_arch().geometry
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "unroll.pimb"
        program.save(path)

        def load() -> None:
            loaded = load_program(path)
            assert check_records(loaded.records, geometry) is None

        t = best_time(load, max(runs, 3))
        t_read = best_time(lambda: path.read_bytes(), max(runs, 3))
        print(f"  load {n:,}-command .pimb + check_records: {t * 1000:.1f} ms "
              f"(target < 100 ms: x{0.1 / t:.1f} margin; reading the file alone "
              f"{t_read * 1000:.1f} ms)")


if __name__ == "__main__":
    main()
