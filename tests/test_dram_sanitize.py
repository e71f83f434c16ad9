"""The scheduler core under AddressSanitizer and UndefinedBehaviorSanitizer.

A C harness drives cext/dram_core.c with random parameters (including absent and huge
timings), random record bytes (bad banks, huge rows, unknown opcodes), random tile sizes, chunk
capacities and the statistics-only path, and formats every chunk as CSV; any out-of-bounds
access or undefined behaviour aborts it.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

CEXT = Path(__file__).resolve().parents[1] / "cext"

HARNESS = r"""
#include <stdio.h>
#include "dram_core.h"

static uint64_t s = 88172645463325252ull;
static uint64_t rnd(void) { s ^= s << 13; s ^= s >> 7; s ^= s << 17; return s; }
static int64_t timing(void) {
    uint64_t r = rnd() % 50;
    return r == 0 ? INT64_C(1) << 40 : r < 12 ? 0 : (int64_t)(rnd() % 100);
}

int main(void) {
    static dram_state st;
    static pimisa_record recs[200];
    static dram_cmd out[DRAM_MAX_PER_PIM + 60];
    static char buf[(DRAM_MAX_PER_PIM + 60) * DRAM_CSV_LINE_MAX];
    /* name columns: tails of 3 records (one empty), any slot */
    static char nbuf[(DRAM_MAX_PER_PIM + 60) * (DRAM_CSV_LINE_MAX + DRAM_CSV_SLOT_MAX + 12)];
    static int64_t owner[DRAM_MAX_PER_PIM + 60], slot_of[DRAM_MAX_PER_PIM + 60];
    static const int64_t at[] = {0, 12, 12, 19};
    const dram_names names = {slot_of, owner, ",0,ld,a.s:1\n,2,op,\n", at, 3};
    static const uint8_t ops[] = {OP_LD, OP_ST, OP_BARRIER, OP_NOP, OP_ADD, 0xEE};
    long total = 0;
    for (int iter = 0; iter < 20000; iter++) {
        dram_params p = {0};
        for (int k = 0; k < DRAM_NRULES; k++) p.gap[k] = timing();
        p.rd_done = timing();
        p.wr_done = timing();
        p.tCCD_col = 1 + (int64_t)(rnd() % 8);
        p.tREFI = rnd() % 2 ? 0 : 200 + (int64_t)(rnd() % 2000);
        p.banks = 1 + (int32_t)(rnd() % 254);
        p.bank_groups = 1;
        p.rows = 1 + (int32_t)(rnd() % 100);
        p.bpu = 1;
        p.per_bank = (int32_t)(rnd() % 2);
        if (rnd() % 2 && p.banks % 2 == 0) p.bpu = 2;
        if (rnd() % 2 && p.banks % 4 == 0) p.bank_groups = 2;
        p.lookahead = rnd() % 3 ? (int32_t)(rnd() % 80) : rnd() % 2 ? 0 : INT32_MAX;
        if (dram_init(&st, &p)) continue;
        int n = 1 + (int)(rnd() % 200);
        for (int i = 0; i < n; i++) {
            recs[i].op = ops[rnd() % 6];
            recs[i].bank = rnd() % 3 ? PIMISA_ALL_BANKS : (uint8_t)rnd();
            recs[i].row = rnd() % 8 ? (uint32_t)(rnd() % 10) : (uint32_t)rnd();
            recs[i].col = (uint8_t)rnd();
        }
        int64_t slots = (int64_t)(rnd() % 5);
        int64_t tile = rnd() % 3 ? (int64_t)(rnd() % 4) : (int64_t)(rnd() >> 2);
        int64_t cap = DRAM_MAX_PER_PIM + (int64_t)(rnd() % 60), len, used;
        int rc;
        do {
            rc = dram_run(&st, recs, n, slots, tile, rnd() % 4 ? out : NULL, cap, &len);
            if (dram_format_csv(out, len, 3, NULL, buf, sizeof buf, &used) != len) return 2;
            for (int64_t i = 0; i < len; i++) {
                owner[i] = (int64_t)(rnd() % 3);
                slot_of[i] = (int64_t)rnd() >> 1;
            }
            if (dram_format_csv(out, len, 3, &names, nbuf, sizeof nbuf, &used) != len) return 4;
            total += len;
        } while (rc == DRAM_FULL);
        if (rc != DRAM_DONE && rc != DRAM_EBANK && rc != DRAM_EROW) return 3;
    }
    printf("ok %ld\n", total);
    return 0;
}
"""


def test_core_is_clean_under_sanitizers(tmp_path: Path) -> None:
    compiler = shutil.which("cc") or shutil.which("gcc")
    assert compiler, "a C compiler is needed to build pimisa at all"
    (tmp_path / "harness.c").write_text(HARNESS)
    exe = tmp_path / "harness"
    subprocess.run([compiler, "-O1", "-g", "-std=c99", "-Wall", "-Werror",
                    "-fsanitize=address,undefined", "-fno-sanitize-recover=all",
                    f"-I{CEXT}", str(tmp_path / "harness.c"), str(CEXT / "dram_core.c"),
                    "-o", str(exe)], check=True, capture_output=True)
    done = subprocess.run([str(exe)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.startswith("ok ") and int(done.stdout.split()[1]) > 10000
