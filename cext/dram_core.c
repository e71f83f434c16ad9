/* DRAM command scheduler core (see dram_core.h and docs/dram.md).
 *
 * One channel, commands in program order, one command per cycle on the command bus. Each PIM
 * record becomes at most DRAM_MAX_PER_PIM DRAM commands: an optional refresh (PRE all + REF),
 * the row management of an open-row policy (PRE + ACT, all-bank or per-bank), and the column
 * command (RD, WR, or the register-only OP). Every command issues at the earliest cycle that
 * satisfies every constraint against what was issued before it.
 */
#include <string.h>

#include "dram_core.h"

#define NEVER (-(INT64_C(1) << 60))
#define TIMING_LIMIT (INT64_C(1) << 40)
#define BASE_LIMIT (INT64_C(1) << 62)
#define MAXT(a, b) ((a) > (b) ? (a) : (b))

typedef struct {
    dram_cmd *buf;
    int64_t cap, len;
    int overflow;
} sink;

static int timing_ok(int64_t v) { return v >= 0 && v <= TIMING_LIMIT; }

int dram_init(dram_state *st, const dram_params *p)
{
    const int64_t timings[] = {p->tCCD_col, p->tRCD_RD, p->tRCD_WR, p->tRP, p->tRAS, p->tRC,
                               p->tRTP, p->tWRP, p->tRTW, p->tWTR, p->tRRD_S, p->tRRD_L,
                               p->tFAW, p->tRFC, p->tREFI, p->rd_done, p->wr_done};
    size_t i;
    int b;
    memset(st, 0, sizeof *st);
    for (i = 0; i < sizeof timings / sizeof timings[0]; i++)
        if (!timing_ok(timings[i])) return DRAM_EPARAM;
    if (p->tCCD_col < 1 || p->banks < 1 || p->banks >= DRAM_MAX_BANKS || p->bank_groups < 1 ||
        p->banks % p->bank_groups || p->rows < 1 || p->bpu < 1 || p->banks % p->bpu)
        return DRAM_EPARAM;
    st->p = *p;
    st->last = -1;
    st->next_ref = p->tREFI > 0 ? p->tREFI : INT64_MAX;
    st->ref = st->col = NEVER;
    for (b = 0; b < DRAM_MAX_BANKS; b++) {
        st->act[b] = st->pre[b] = st->rd[b] = st->wr[b] = NEVER;
        st->open_row[b] = -1;
    }
    st->act_smax = st->pre_smax = st->rd_smax = st->wr_smax = NEVER;
    st->act_all = st->pre_all = st->rd_all = st->wr_all = NEVER;
    for (i = 0; i < 4; i++) st->faw[i] = NEVER;
    st->all_row = -1;
    return 0;
}

/* Issue a command at the earliest cycle >= t allowed by the command bus and tRFC. */
static inline int64_t issue(dram_state *st, sink *out, const int emit, int64_t t, int cmd,
                            int bank, int64_t row, int col)
{
    int64_t floor = MAXT(st->last + 1, st->ref + st->p.tRFC);
    if (t < floor) t = floor;
    st->last = t;
    st->s.commands[cmd]++;
    if (emit) {
        if (out->len < out->cap) {
            dram_cmd *c = &out->buf[out->len++];
            c->cycle = t;
            c->row = (int32_t)row;
            c->bank = (int16_t)bank;
            c->cmd = (uint8_t)cmd;
            c->col = (uint8_t)col;
        } else {
            out->overflow = 1;
        }
    }
    return t;
}

static inline int64_t any_act(const dram_state *st) { return MAXT(st->act_all, st->act_smax); }
static inline int64_t any_pre(const dram_state *st) { return MAXT(st->pre_all, st->pre_smax); }
static inline int64_t any_rd(const dram_state *st) { return MAXT(st->rd_all, st->rd_smax); }
static inline int64_t any_wr(const dram_state *st) { return MAXT(st->wr_all, st->wr_smax); }

static void precharge_all(dram_state *st, sink *out, const int emit)
{
    const dram_params *p = &st->p;
    int64_t t = any_act(st) + p->tRAS;
    int b;
    t = MAXT(t, any_rd(st) + p->tRTP);
    t = MAXT(t, any_wr(st) + p->tWRP);
    st->pre_all = issue(st, out, emit, t, DRAM_PRE, -1, -1, 0);
    st->s.all_bank_pre++;
    for (b = 0; b < p->banks; b++) st->open_row[b] = -1;
    st->n_open = 0;
    st->all_row = -1;
}

static void precharge_one(dram_state *st, sink *out, const int emit, int b)
{
    const dram_params *p = &st->p;
    int64_t t = MAXT(st->act_all, st->act[b]) + p->tRAS;
    t = MAXT(t, MAXT(st->rd_all, st->rd[b]) + p->tRTP);
    t = MAXT(t, MAXT(st->wr_all, st->wr[b]) + p->tWRP);
    t = issue(st, out, emit, t, DRAM_PRE, b, -1, 0);
    st->pre[b] = st->pre_smax = t;
    st->open_row[b] = -1;
    st->n_open--;
    st->all_row = -1;
}

static void activate_all(dram_state *st, sink *out, const int emit, int64_t row)
{
    const dram_params *p = &st->p;
    int64_t t = any_pre(st) + p->tRP;
    int b, i;
    t = MAXT(t, any_act(st) + p->tRC);
    t = MAXT(t, st->faw[(st->faw_head + 3) & 3] + p->tFAW);  /* newest ACT: fills the window */
    t = issue(st, out, emit, t, DRAM_ACT, -1, row, 0);
    st->act_all = t;
    for (i = 0; i < 4; i++) st->faw[i] = t;
    st->s.all_bank_act++;
    for (b = 0; b < p->banks; b++) st->open_row[b] = row;
    st->n_open = p->banks;
    st->all_row = row;
}

static void activate_one(dram_state *st, sink *out, const int emit, int b, int64_t row)
{
    const dram_params *p = &st->p;
    const int per_group = p->banks / p->bank_groups;
    int64_t t = MAXT(st->pre_all, st->pre[b]) + p->tRP;
    int c;
    t = MAXT(t, MAXT(st->act_all, st->act[b]) + p->tRC);
    t = MAXT(t, st->faw[st->faw_head] + p->tFAW);  /* 4th most recent ACT unit */
    if (p->tRRD_S || p->tRRD_L) {
        for (c = 0; c < p->banks; c++) {
            if (c == b) continue;
            t = MAXT(t, st->act[c] + (c / per_group == b / per_group ? p->tRRD_L : p->tRRD_S));
        }
    }
    t = issue(st, out, emit, t, DRAM_ACT, b, row, 0);
    st->act[b] = st->act_smax = t;
    st->faw[st->faw_head] = t;
    st->faw_head = (st->faw_head + 1) & 3;
    st->open_row[b] = row;
    st->n_open++;
    st->all_row = -1;
    if (st->n_open == p->banks) {
        for (c = 0; c < p->banks && st->open_row[c] == row; c++) {}
        if (c == p->banks) st->all_row = row;
    }
}

static void refresh(dram_state *st, sink *out, const int emit)
{
    int64_t t;
    if (st->n_open) precharge_all(st, out, emit);
    t = any_pre(st) + st->p.tRP;
    st->ref = issue(st, out, emit, t, DRAM_REF, -1, -1, 0);
    st->next_ref += st->p.tREFI;
}

/* RD or WR of a memory record at unit row base + rec->row. */
static inline int memory(dram_state *st, sink *out, const int emit, const pimisa_record *r,
                         uint64_t base, int is_wr)
{
    const dram_params *p = &st->p;
    uint64_t unit_row = base + r->row;
    int64_t row, k, t;
    if (p->bpu == 1) {
        if (unit_row >= (uint64_t)p->rows) return DRAM_EROW;
        row = (int64_t)unit_row;
        k = 0;
    } else {
        k = (int64_t)(unit_row / (uint64_t)p->rows);
        if (k >= p->bpu) return DRAM_EROW;
        row = (int64_t)(unit_row - (uint64_t)k * (uint64_t)p->rows);
    }
    if (r->bank == PIMISA_ALL_BANKS) {
        if (st->all_row == row) {
            st->s.row_hits++;
        } else {
            st->s.row_misses++;
            if (st->n_open) {
                st->s.row_conflicts++;
                precharge_all(st, out, emit);
            }
            activate_all(st, out, emit, row);
        }
        t = any_act(st) + (is_wr ? p->tRCD_WR : p->tRCD_RD);
        t = MAXT(t, st->col + p->tCCD_col);
        t = MAXT(t, is_wr ? any_rd(st) + p->tRTW : any_wr(st) + p->tWTR);
        t = issue(st, out, emit, t, is_wr ? DRAM_WR : DRAM_RD, -1, row, r->col);
        if (is_wr) st->wr_all = t; else st->rd_all = t;
        st->s.mem_all++;
    } else {
        int b;
        if (r->bank >= p->banks) return DRAM_EBANK;
        b = (r->bank / p->bpu) * p->bpu + (int)k;
        if (st->open_row[b] == row) {
            st->s.row_hits++;
        } else {
            st->s.row_misses++;
            if (st->open_row[b] >= 0) {
                st->s.row_conflicts++;
                precharge_one(st, out, emit, b);
            }
            activate_one(st, out, emit, b, row);
        }
        t = MAXT(st->act_all, st->act[b]) + (is_wr ? p->tRCD_WR : p->tRCD_RD);
        t = MAXT(t, st->col + p->tCCD_col);
        t = MAXT(t, is_wr ? any_rd(st) + p->tRTW : any_wr(st) + p->tWTR);
        t = issue(st, out, emit, t, is_wr ? DRAM_WR : DRAM_RD, b, row, r->col);
        if (is_wr) st->wr[b] = st->wr_smax = t; else st->rd[b] = st->rd_smax = t;
        st->s.mem_single++;
    }
    st->col = t;
    return 0;
}

static inline int register_only(dram_state *st, sink *out, const int emit,
                                const pimisa_record *r)
{
    int bank = -1;
    if (r->bank != PIMISA_ALL_BANKS) {
        if (r->bank >= st->p.banks) return DRAM_EBANK;
        bank = r->bank;
    }
    st->col = issue(st, out, emit, st->col + st->p.tCCD_col, DRAM_OP, bank, -1, 0);
    return 0;
}

static void finish(dram_state *st)
{
    const dram_params *p = &st->p;
    int64_t end = st->last + 1;
    if (st->last < 0) {
        st->s.end_cycle = 0;
        return;
    }
    end = MAXT(end, any_rd(st) + p->rd_done);
    end = MAXT(end, any_wr(st) + p->wr_done);
    end = MAXT(end, st->col + p->tCCD_col);
    end = MAXT(end, st->ref + p->tRFC);
    end = MAXT(end, any_pre(st) + p->tRP);
    st->s.end_cycle = end;
}

static inline __attribute__((always_inline)) int run(dram_state *st, const pimisa_record *recs,
                                                     int64_t n, int64_t slots,
                                                     int64_t tile_rows, sink *out,
                                                     const int emit)
{
    int64_t slot = st->slot, i = st->index;
    int rc = 0;
    for (; slot < slots; slot++, i = 0) {
        /* Saturated: a row beyond any unit is reported by memory() as DRAM_EROW. */
        const uint64_t base = tile_rows && slot > BASE_LIMIT / tile_rows
                                  ? (uint64_t)BASE_LIMIT
                                  : (uint64_t)slot * (uint64_t)tile_rows;
        for (; i < n; i++) {
            const pimisa_record *r = &recs[i];
            if (emit && out->cap - out->len < DRAM_MAX_PER_PIM) {
                st->slot = slot;
                st->index = i;
                return DRAM_FULL;
            }
            if (st->last + 1 >= st->next_ref) refresh(st, out, emit);
            switch (r->op) {
            case OP_LD: rc = memory(st, out, emit, r, base, 0); break;
            case OP_ST: rc = memory(st, out, emit, r, base, 1); break;
            case OP_BARRIER:
                if (st->n_open) precharge_all(st, out, emit);
                break;
            default: rc = register_only(st, out, emit, r); break;
            }
            if (rc || out->overflow) {
                st->slot = slot;
                st->index = st->err_index = i;
                return rc ? rc : DRAM_EARG;
            }
            st->s.pim_commands++;
        }
    }
    st->slot = slot;
    st->index = 0;
    finish(st);
    return DRAM_DONE;
}

int dram_run(dram_state *st, const pimisa_record *recs, int64_t n, int64_t slots,
             int64_t tile_rows, dram_cmd *out, int64_t cap, int64_t *out_len)
{
    sink s = {out, cap, 0, 0};
    int rc;
    *out_len = 0;
    if (n < 0 || slots < 0 || tile_rows < 0 || (out && cap < DRAM_MAX_PER_PIM) || (n && !recs))
        return DRAM_EARG;
    rc = out ? run(st, recs, n, slots, tile_rows, &s, 1)
             : run(st, recs, n, slots, tile_rows, &s, 0);
    *out_len = s.len;
    return rc;
}

static char *put_int(char *p, int64_t v)
{
    char tmp[24];
    int k = 0;
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    if (v < 0) *p++ = '-';
    do {
        tmp[k++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    while (k) *p++ = tmp[--k];
    return p;
}

int64_t dram_format_csv(const dram_cmd *cmds, int64_t n, int32_t channel, char *buf,
                        int64_t cap, int64_t *used)
{
    static const char *const names[DRAM_NCMD] = {"ACT", "PRE", "REF", "RD", "WR", "OP"};
    char *p = buf;
    int64_t i;
    for (i = 0; i < n && cap - (p - buf) >= DRAM_CSV_LINE_MAX; i++) {
        const dram_cmd *c = &cmds[i];
        const char *name;
        int has_row, has_col;
        if (c->cmd >= DRAM_NCMD) break;
        name = names[c->cmd];
        has_col = c->cmd == DRAM_RD || c->cmd == DRAM_WR;
        has_row = has_col || c->cmd == DRAM_ACT;
        p = put_int(p, c->cycle);
        *p++ = ',';
        p = put_int(p, channel);
        *p++ = ',';
        p = put_int(p, c->bank);
        *p++ = ',';
        while (*name) *p++ = *name++;
        *p++ = ',';
        p = put_int(p, has_row ? c->row : -1);
        *p++ = ',';
        p = put_int(p, has_col ? c->col : -1);
        *p++ = '\n';
    }
    *used = p - buf;
    return i;
}
