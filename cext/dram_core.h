/* DRAM command scheduler core: in-order PIM command timing for one channel.
 *
 * The Python side (pimisa.dram.core) fills dram_params from an architecture preset, then calls
 * dram_run repeatedly: either with out == NULL (statistics only) or with a caller-owned chunk
 * buffer that receives the DRAM commands; the scheduler state lives in dram_state across calls,
 * so a launch of any length is scheduled in bounded memory. The policy and the constraints are
 * documented in docs/dram.md. Every timing constraint is a rule of the generated table
 * dram_rules.h (from pimisa/dram/rules.py); dram_init folds the rules' gaps into per-scope gap
 * arrays, so the hot loop interprets no rule. pimisa/dram/reference.py is an independent
 * Python oracle over the same table.
 */
#ifndef PIMISA_DRAM_CORE_H
#define PIMISA_DRAM_CORE_H
#include <stdint.h>

#include "dram_rules.h"
#include "pimisa_isa.h"

#define DRAM_MAX_BANKS 256
#define DRAM_MAX_GROUPS 64
#define DRAM_MAX_PARTS 64   /* banks per PIM unit */
/* Most DRAM commands one PIM command can produce: PRE (all, or of the bank a REFpb is due
 * for) + REF (or REFpb) + ACT + column command, or
 * PRE + ACT of its part, the early PREs of the other parts, and the column command. */
#define DRAM_MAX_PER_PIM (DRAM_MAX_PARTS + 2)
/* Longest CSV line dram_format_csv writes, newline included, without the name columns (those
 * add at most DRAM_CSV_SLOT_MAX plus the line's tail). */
#define DRAM_CSV_LINE_MAX 80
#define DRAM_CSV_SLOT_MAX 21

/* Command codes (the trace's `command` column, in this order). */
enum { DRAM_ACT = 0, DRAM_PRE = 1, DRAM_REF = 2, DRAM_RD = 3, DRAM_WR = 4, DRAM_OP = 5,
       DRAM_REFPB = 6, DRAM_NCMD = 7 };

/* dram_run results: done, chunk buffer full (call again), or an error. */
enum { DRAM_DONE = 0, DRAM_FULL = 1, DRAM_EPARAM = -1, DRAM_EBANK = -2, DRAM_EROW = -3,
       DRAM_EARG = -4 };

/* Timing in cycles and geometry of one channel. */
typedef struct {
    int64_t gap[DRAM_NRULES];  /* each rule's gap (0: absent), pimisa.dram.rules.gaps */
    int64_t tCCD_col;  /* one PIM command slot (the end of the last column command) */
    int64_t tREFI;     /* refresh interval, tREFIpb under per-bank refresh (0: no refresh) */
    int64_t rd_done;   /* RD issue -> last data beat: CL + nBL */
    int64_t wr_done;   /* WR issue -> last data beat: CWL + nBL */
    int32_t banks, bank_groups, rows, bpu;
    int32_t lookahead; /* PIM commands an all-bank command looks ahead to close other parts */
    int32_t per_bank;  /* refresh one bank at a time (REFpb, banks in turn) instead of all */
} dram_params;

/* One scheduled DRAM command (16 bytes; numpy mirror in pimisa.dram.core.CMD_DTYPE). */
typedef struct {
    int64_t cycle;
    int32_t row;   /* DRAM row of ACT/RD/WR, -1 otherwise */
    int16_t bank;  /* -1 all banks (and REF), -2 - k bank k of every PIM unit (bpu > 1) */
    uint8_t cmd;   /* DRAM_ACT .. DRAM_OP */
    uint8_t col;   /* column word of RD/WR */
} dram_cmd;

typedef struct {
    int64_t commands[DRAM_NCMD];
    int64_t all_bank_act, all_bank_pre;
    int64_t row_hits, row_misses, row_conflicts;
    int64_t mem_all, mem_single;  /* RD/WR commands in all-bank and single-bank mode */
    int64_t pim_commands;         /* PIM records scheduled (every slot) */
    int64_t end_cycle;            /* set when dram_run returns DRAM_DONE */
} dram_stats;

typedef struct {
    dram_params p;
    int64_t slot, index;          /* resume position */
    int64_t err_index;            /* record index of an error */
    int64_t last;                 /* cycle of the last issued command (-1: none) */
    int64_t next_ref;             /* cycle at which the next REF (or REFpb) is due */
    int32_t ref_cmd, ref_bank;    /* DRAM_REF or DRAM_REFPB; the bank the next REFpb is for */
    /* Last issue cycle of each command code: on the channel, by an all-bank command, by a
     * command touching every bank group (all-bank or part), by a part command (bank k of every
     * PIM unit) per part, and by a single-bank command per bank, per bank group and per part.
     * A rule's scope picks which of these its preceding command is looked up in. */
    int64_t ch[DRAM_NCMD], all[DRAM_NCMD], wide[DRAM_NCMD];
    int64_t part[DRAM_MAX_PARTS][DRAM_NCMD], spart[DRAM_MAX_PARTS][DRAM_NCMD];
    int64_t bank[DRAM_MAX_BANKS][DRAM_NCMD], grp[DRAM_MAX_GROUPS][DRAM_NCMD];
    /* Gaps folded from the rules: per scope, and the maximum over scopes. */
    int64_t g_bank[DRAM_NCMD][DRAM_NCMD], g_grp[DRAM_NCMD][DRAM_NCMD];
    int64_t g_ch[DRAM_NCMD][DRAM_NCMD], g_any[DRAM_NCMD][DRAM_NCMD], g_wide[DRAM_NCMD][DRAM_NCMD];
    int64_t faw_gap;              /* the window rule's gap (tFAW) */
    int64_t faw[4];               /* ACT weight units in the tFAW window, oldest at faw_head */
    int32_t faw_head, per_group;
    int32_t n_open;               /* banks with an open row */
    int32_t part_open[DRAM_MAX_PARTS];  /* of them, banks of each part */
    int64_t part_row[DRAM_MAX_PARTS];   /* row open in every bank of a part, or -1 */
    int64_t open_row[DRAM_MAX_BANKS];
    /* Look-ahead of the early part precharge, per part: the position (slot x records + index)
     * of the next memory command to the part found (-1: none), its row, and the position the
     * stream was scanned up to (exclusive). */
    int64_t la_next[DRAM_MAX_PARTS], la_nrow[DRAM_MAX_PARTS], la_scan[DRAM_MAX_PARTS];
    dram_stats s;
} dram_state;

int dram_init(dram_state *st, const dram_params *p);
int dram_run(dram_state *st, const pimisa_record *recs, int64_t n, int64_t slots,
             int64_t tile_rows, dram_cmd *out, int64_t cap, int64_t *out_len);
/* The name columns of a trace: command i is owned by record index[i] of tile slot slot[i];
 * its line ends `,slot` and then tail r = index[i], text[at[r] .. at[r + 1]) (`,index,pim,
 * source` and the newline), for r < count. */
typedef struct {
    const int64_t *slot, *index;
    const char *text;
    const int64_t *at;
    int64_t count;
} dram_names;

/* Format cmds as CSV lines (names NULL: without the name columns) into buf while the next line
 * fits; returns the commands formatted (stops at a bad index), *used the bytes written. */
int64_t dram_format_csv(const dram_cmd *cmds, int64_t n, int32_t channel,
                        const dram_names *names, char *buf, int64_t cap, int64_t *used);

#endif
