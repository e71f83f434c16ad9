"""cffi builder (out-of-line API mode) of `pimisa._dramcore`, the DRAM command scheduler core.

Run by setuptools at `pip install` through setup.py's `cffi_modules`; the C sources are
cext/dram_core.c and cext/dram_core.h (which includes the generated cext/pimisa_isa.h and
cext/dram_rules.h).
"""

from pathlib import Path

from cffi import FFI

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

CDEF = """
typedef struct { uint8_t op; uint8_t bank; uint8_t col; uint32_t row; ...; } pimisa_record;

typedef struct {
    int64_t gap[...];
    int64_t tCCD_col, tREFI, rd_done, wr_done;
    int32_t banks, bank_groups, rows, bpu;
    int32_t lookahead, per_bank;
} dram_params;

typedef struct {
    int64_t cycle;
    int32_t row;
    int16_t bank;
    uint8_t cmd;
    uint8_t col;
} dram_cmd;

typedef struct {
    int64_t commands[...];
    int64_t all_bank_act, all_bank_pre;
    int64_t row_hits, row_misses, row_conflicts;
    int64_t mem_all, mem_single;
    int64_t pim_commands;
    int64_t end_cycle;
} dram_stats;

typedef struct {
    int64_t slot, index, err_index;
    dram_stats s;
    ...;
} dram_state;

static const int DRAM_MAX_PER_PIM;
static const int DRAM_CSV_LINE_MAX, DRAM_CSV_SLOT_MAX;
static const int DRAM_NCMD;
static const int DRAM_NRULES;
static const unsigned long long DRAM_RULES_HASH;
static const int DRAM_DONE, DRAM_FULL, DRAM_EPARAM, DRAM_EBANK, DRAM_EROW, DRAM_EARG;

int dram_init(dram_state *st, const dram_params *p);
int dram_run(dram_state *st, const pimisa_record *recs, int64_t n, int64_t slots,
             int64_t tile_rows, dram_cmd *out, int64_t cap, int64_t *out_len);
typedef struct {
    const int64_t *slot, *index;
    const char *text;
    const int64_t *at;
    int64_t count;
} dram_names;

int64_t dram_format_csv(const dram_cmd *cmds, int64_t n, int32_t channel,
                        const dram_names *names, char *buf, int64_t cap, int64_t *used);
"""

ffibuilder = FFI()
ffibuilder.cdef(CDEF)
ffibuilder.set_source(
    "pimisa._dramcore",
    '#include "dram_core.h"',
    sources=[str((HERE / "dram_core.c").relative_to(ROOT))],
    include_dirs=[str(HERE.relative_to(ROOT))],
    depends=[str((HERE / name).relative_to(ROOT))
             for name in ("dram_core.h", "dram_rules.h", "pimisa_isa.h")],
    extra_compile_args=["-O3", "-std=c99", "-Wall", "-Wextra"],  # -O3: unrolled gap loops, ~1.3x
)

if __name__ == "__main__":
    ffibuilder.compile(verbose=True)
