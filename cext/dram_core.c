/* DRAM command scheduler core (see dram_core.h and docs/dram.md).
 *
 * One channel, commands in program order, one command per cycle on the command bus. Each PIM
 * record becomes at most DRAM_MAX_PER_PIM DRAM commands: an optional refresh (PRE all + REF,
 * or under per-bank refresh PRE of the bank due + REFpb),
 * the row management of an open-row policy (PRE + ACT, all-bank or per-bank), the early PREs
 * of other parts an all-bank command to one part makes in idle cycles (bpu > 1), and the column
 * command (RD, WR, or the register-only OP). Every command issues at the earliest cycle that
 * satisfies every constraint against what was issued before it.
 */
#include <string.h>

#include "dram_core.h"

#define NEVER (-(INT64_C(1) << 60))
#define TIMING_LIMIT (INT64_C(1) << 40)
#define BASE_LIMIT (INT64_C(1) << 62)
#if DRAM_NCMD > 8
#error "dram_rule command masks hold 8 command codes"
#endif
#define MAXT(a, b) ((a) > (b) ? (a) : (b))

typedef struct {
    dram_cmd *buf;
    int64_t cap, len;
    int overflow;
} sink;

/* The launch being scheduled and the position in it (for the look-ahead). */
typedef struct {
    const pimisa_record *recs;
    int64_t n, slots, tile_rows, pos;
} stream;

static int timing_ok(int64_t v) { return v >= 0 && v <= TIMING_LIMIT; }

/* Fold the rules of dram_rules.h into the per-scope gap arrays (the hot loop reads only
 * these). */
static void fold_rules(dram_state *st)
{
    int r, a, b;
    for (r = 0; r < DRAM_NRULES; r++) {
        const dram_rule *rule = &DRAM_RULES[r];
        const int64_t gap = st->p.gap[r];
        int64_t (*g)[DRAM_NCMD] = rule->scope == DRAM_SCOPE_BANK    ? st->g_bank
                                  : rule->scope == DRAM_SCOPE_GROUP ? st->g_grp
                                                                    : st->g_ch;
        if (rule->window) {
            st->faw_gap = MAXT(st->faw_gap, gap);
            continue;
        }
        for (a = 0; a < DRAM_NCMD; a++)
            for (b = 0; b < DRAM_NCMD; b++)
                if ((rule->prev >> a & 1) && (rule->next >> b & 1)) g[a][b] = MAXT(g[a][b], gap);
    }
    for (a = 0; a < DRAM_NCMD; a++)
        for (b = 0; b < DRAM_NCMD; b++)
        {
            st->g_wide[a][b] = MAXT(st->g_grp[a][b], st->g_ch[a][b]);
            st->g_any[a][b] = MAXT(st->g_bank[a][b], st->g_wide[a][b]);
        }
}

int dram_init(dram_state *st, const dram_params *p)
{
    const int64_t timings[] = {p->tCCD_col, p->tREFI, p->rd_done, p->wr_done};
    size_t i;
    int b, c;
    memset(st, 0, sizeof *st);
    for (i = 0; i < sizeof timings / sizeof timings[0]; i++)
        if (!timing_ok(timings[i])) return DRAM_EPARAM;
    for (i = 0; i < DRAM_NRULES; i++)
        if (!timing_ok(p->gap[i])) return DRAM_EPARAM;
    if (p->tCCD_col < 1 || p->banks < 1 || p->banks >= DRAM_MAX_BANKS || p->bank_groups < 1 ||
        p->bank_groups > DRAM_MAX_GROUPS || p->banks % p->bank_groups || p->rows < 1 ||
        p->bpu < 1 || p->bpu > DRAM_MAX_PARTS || (p->banks / p->bank_groups) % p->bpu ||
        p->lookahead < 0)
        return DRAM_EPARAM;
    st->p = *p;
    st->per_group = p->banks / p->bank_groups;
    st->last = -1;
    st->next_ref = p->tREFI > 0 ? p->tREFI : INT64_MAX;
    st->ref_cmd = p->per_bank ? DRAM_REFPB : DRAM_REF;
    for (c = 0; c < DRAM_NCMD; c++) {
        st->ch[c] = st->all[c] = st->wide[c] = NEVER;
        for (b = 0; b < DRAM_MAX_PARTS; b++) st->part[b][c] = st->spart[b][c] = NEVER;
        for (b = 0; b < DRAM_MAX_BANKS; b++) st->bank[b][c] = NEVER;
        for (b = 0; b < DRAM_MAX_GROUPS; b++) st->grp[b][c] = NEVER;
    }
    for (b = 0; b < DRAM_MAX_BANKS; b++) st->open_row[b] = -1;
    for (b = 0; b < DRAM_MAX_PARTS; b++) st->part_row[b] = st->la_next[b] = -1;
    for (i = 0; i < 4; i++) st->faw[i] = NEVER;
    fold_rules(st);
    return 0;
}

/* Earliest cycle of command `cmd` to every bank: every rule, all scopes at once. */
static inline int64_t earliest_all(const dram_state *st, int cmd)
{
    int64_t t = st->last + 1;
    int a;
    for (a = 0; a < DRAM_NCMD; a++) t = MAXT(t, st->ch[a] + st->g_any[a][cmd]);
    return t;
}

/* Earliest cycle of command `cmd` to part k (bank k of every PIM unit; in every bank group). */
static inline int64_t earliest_part(const dram_state *st, int cmd, int k)
{
    int64_t t = st->last + 1;
    int a;
    if (st->p.bpu == 1) return earliest_all(st, cmd);
    for (a = 0; a < DRAM_NCMD; a++) {
        t = MAXT(t, MAXT(MAXT(st->part[k][a], st->spart[k][a]), st->all[a]) +
                        st->g_bank[a][cmd]);
        t = MAXT(t, st->ch[a] + st->g_wide[a][cmd]);
    }
    return t;
}

/* Earliest cycle of command `cmd` to bank b alone. */
static inline int64_t earliest_one(const dram_state *st, int cmd, int b)
{
    const int g = b / st->per_group;
    const int k = b % st->p.bpu;
    int64_t t = st->last + 1;
    int a;
    for (a = 0; a < DRAM_NCMD; a++) {
        t = MAXT(t, MAXT(MAXT(st->bank[b][a], st->all[a]), st->part[k][a]) + st->g_bank[a][cmd]);
        t = MAXT(t, MAXT(st->grp[g][a], st->wide[a]) + st->g_grp[a][cmd]);
        t = MAXT(t, st->ch[a] + st->g_ch[a][cmd]);
    }
    return t;
}

/* Issue a command at cycle t to `bank`: b >= 0 one bank, -1 every bank, -2 - k part k. */
static inline int64_t issue(dram_state *st, sink *out, const int emit, int64_t t, int cmd,
                            int bank, int64_t row, int col)
{
    st->last = t;
    st->ch[cmd] = t;
    if (bank == -1) {
        st->all[cmd] = st->wide[cmd] = t;
    } else if (bank < -1) {
        st->part[-2 - bank][cmd] = st->wide[cmd] = t;
    } else {
        st->bank[bank][cmd] = t;
        st->grp[bank / st->per_group][cmd] = t;
        st->spart[bank % st->p.bpu][cmd] = t;
    }
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

/* The trace bank of part k: -1 (every bank) with one bank per unit, else -2 - k. */
static inline int part_bank(const dram_state *st, int k) { return st->p.bpu == 1 ? -1 : -2 - k; }

static void precharge_all(dram_state *st, sink *out, const int emit)
{
    int b;
    issue(st, out, emit, earliest_all(st, DRAM_PRE), DRAM_PRE, -1, -1, 0);
    st->s.all_bank_pre++;
    for (b = 0; b < st->p.banks; b++) st->open_row[b] = -1;
    for (b = 0; b < st->p.bpu; b++) {
        st->part_open[b] = 0;
        st->part_row[b] = -1;
    }
    st->n_open = 0;
}

static void precharge_part(dram_state *st, sink *out, const int emit, int k)
{
    int b;
    issue(st, out, emit, earliest_part(st, DRAM_PRE, k), DRAM_PRE, part_bank(st, k), -1, 0);
    st->s.all_bank_pre++;
    for (b = k; b < st->p.banks; b += st->p.bpu) st->open_row[b] = -1;
    st->n_open -= st->part_open[k];
    st->part_open[k] = 0;
    st->part_row[k] = -1;
}

static void precharge_one(dram_state *st, sink *out, const int emit, int b)
{
    const int k = b % st->p.bpu;
    issue(st, out, emit, earliest_one(st, DRAM_PRE, b), DRAM_PRE, b, -1, 0);
    st->open_row[b] = -1;
    st->n_open--;
    st->part_open[k]--;
    st->part_row[k] = -1;
}

static void activate_part(dram_state *st, sink *out, const int emit, int k, int64_t row)
{
    int64_t t = earliest_part(st, DRAM_ACT, k);
    int b, i;
    t = MAXT(t, st->faw[(st->faw_head + 3) & 3] + st->faw_gap);  /* newest ACT: fills it */
    t = issue(st, out, emit, t, DRAM_ACT, part_bank(st, k), row, 0);
    for (i = 0; i < 4; i++) st->faw[i] = t;
    st->s.all_bank_act++;
    for (b = k; b < st->p.banks; b += st->p.bpu) st->open_row[b] = row;
    st->part_open[k] = st->p.banks / st->p.bpu;
    st->n_open += st->part_open[k];
    st->part_row[k] = row;
}

static void activate_one(dram_state *st, sink *out, const int emit, int b, int64_t row)
{
    const int k = b % st->p.bpu;
    const int per_part = st->p.banks / st->p.bpu;
    int64_t t = earliest_one(st, DRAM_ACT, b);
    int c;
    t = MAXT(t, st->faw[st->faw_head] + st->faw_gap);  /* 4th most recent ACT unit */
    t = issue(st, out, emit, t, DRAM_ACT, b, row, 0);
    st->faw[st->faw_head] = t;
    st->faw_head = (st->faw_head + 1) & 3;
    st->open_row[b] = row;
    st->n_open++;
    if (++st->part_open[k] == per_part) {
        for (c = k; c < st->p.banks && st->open_row[c] == row; c += st->p.bpu) {}
        if (c >= st->p.banks) st->part_row[k] = row;
    }
}

/* The refresh that is due: REF (every bank closed first), or REFpb of the next bank in turn
 * (that bank closed first). */
static void refresh(dram_state *st, sink *out, const int emit)
{
    if (st->p.per_bank) {
        const int b = st->ref_bank;
        if (st->open_row[b] >= 0) precharge_one(st, out, emit, b);
        issue(st, out, emit, earliest_one(st, DRAM_REFPB, b), DRAM_REFPB, b, -1, 0);
        st->ref_bank = b + 1 == st->p.banks ? 0 : b + 1;
    } else {
        if (st->n_open) precharge_all(st, out, emit);
        issue(st, out, emit, earliest_all(st, DRAM_REF), DRAM_REF, -1, -1, 0);
    }
    st->next_ref += st->p.tREFI;
}

/* The ACT a row miss needs (to bank b, or to part k when b < 0) would issue at this cycle, after
 * the PRE it needs first (need_pre); nothing is issued. */
static int64_t miss_act(const dram_state *st, int b, int k, int need_pre)
{
    int64_t t = b >= 0 ? earliest_one(st, DRAM_ACT, b) : earliest_part(st, DRAM_ACT, k);
    t = MAXT(t, (b >= 0 ? st->faw[st->faw_head] : st->faw[(st->faw_head + 3) & 3]) +
                    st->faw_gap);
    if (need_pre) {
        const int64_t pre = b >= 0 ? earliest_one(st, DRAM_PRE, b) : earliest_part(st, DRAM_PRE, k);
        t = MAXT(t, MAXT(pre + 1, pre + st->g_any[DRAM_PRE][DRAM_ACT]));
    }
    return t;
}

/* The ACT of a row miss would issue once the refresh is due: the controller refreshes first
 * instead of opening the row for one command and closing it again after tRAS (a refresh that
 * is due takes priority over new activations, as in DRAMsim3). Not right after a refresh
 * (only when tRFC >= tREFI could the next one be due already), which bounds a record's
 * commands to DRAM_MAX_PER_PIM. */
static inline int straddles(const dram_state *st, int64_t act)
{
    return act >= st->next_ref && st->ch[st->ref_cmd] != st->last;
}

/* Unit row of the memory record at position q of the launch (slot q / n), or -1 for any
 * other record; -2 for a barrier (the look-ahead stops there). */
static inline int64_t unit_row_at(const stream *sm, int64_t q)
{
    const int64_t slot = q / sm->n;
    const pimisa_record *r = &sm->recs[q - slot * sm->n];
    if (r->op == OP_BARRIER) return -2;
    if (r->op != OP_LD && r->op != OP_ST) return -1;
    if (sm->tile_rows && slot > (BASE_LIMIT - (int64_t)r->row) / sm->tile_rows) return -1;
    return slot * sm->tile_rows + (int64_t)r->row;
}

/* Is the row open in every bank of part k still needed: is the next memory command to part k
 * among the next p.lookahead PIM commands (up to a barrier) one to that row? Amortised O(1):
 * the next command found for a part, and how far the stream was scanned, are kept. */
static int row_needed(dram_state *st, const stream *sm, int k)
{
    const int64_t end = sm->pos + 1 + st->p.lookahead, total = sm->n * sm->slots;
    const int64_t stop = end < total ? end : total;
    int64_t q;
    if (st->la_next[k] <= sm->pos) {
        for (q = MAXT(st->la_scan[k], sm->pos + 1); q < stop; q++) {
            const int64_t u = unit_row_at(sm, q);
            if (u == -2) break;
            if (u >= 0 && u / st->p.rows == k) {
                st->la_next[k] = q;
                st->la_nrow[k] = u - (int64_t)k * st->p.rows;
                break;
            }
        }
        st->la_scan[k] = q;
        if (st->la_next[k] <= sm->pos) return 0;
    }
    return st->la_nrow[k] == st->part_row[k];
}

/* Before the column command of an all-bank command to part k (due at t): close every other
 * part whose row no command of the look-ahead uses, if its PRE fits in an idle cycle before t
 * (no rule delays a column command after a PRE). As PIMSimulator's controller does. */
static inline void precharge_idle_parts(dram_state *st, sink *out, const int emit,
                                        const stream *sm, int k, int64_t t)
{
    int j;
    for (j = 0; j < st->p.bpu; j++)
        if (j != k && st->part_row[j] >= 0 && earliest_part(st, DRAM_PRE, j) < t &&
            !row_needed(st, sm, j))
            precharge_part(st, out, emit, j);
}

/* RD or WR of a memory record at unit row base + rec->row. */
static inline __attribute__((always_inline)) int memory(dram_state *st, sink *out,
                                                        const int emit, const stream *sm,
                         const pimisa_record *r, uint64_t base, int is_wr)
{
    const dram_params *p = &st->p;
    uint64_t unit_row = base + r->row;
    const int cmd = is_wr ? DRAM_WR : DRAM_RD;
    int64_t row, k;
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
        const int part = (int)k;
        if (st->part_row[part] == row) {
            st->s.row_hits++;
        } else {
            st->s.row_misses++;
            if (straddles(st, miss_act(st, -1, part, st->part_open[part] > 0)))
                refresh(st, out, emit);
            if (st->part_open[part]) {
                st->s.row_conflicts++;
                precharge_part(st, out, emit, part);
            }
            activate_part(st, out, emit, part, row);
        }
        if (p->bpu > 1 && p->lookahead)
            precharge_idle_parts(st, out, emit, sm, part, earliest_part(st, cmd, part));
        issue(st, out, emit, earliest_part(st, cmd, part), cmd, part_bank(st, part), row,
              r->col);
        st->s.mem_all++;
    } else {
        int b;
        if (r->bank >= p->banks) return DRAM_EBANK;
        b = (r->bank / p->bpu) * p->bpu + (int)k;
        if (st->open_row[b] == row) {
            st->s.row_hits++;
        } else {
            st->s.row_misses++;
            if (straddles(st, miss_act(st, b, 0, st->open_row[b] >= 0))) refresh(st, out, emit);
            if (st->open_row[b] >= 0) {
                st->s.row_conflicts++;
                precharge_one(st, out, emit, b);
            }
            activate_one(st, out, emit, b, row);
        }
        issue(st, out, emit, earliest_one(st, cmd, b), cmd, b, row, r->col);
        st->s.mem_single++;
    }
    return 0;
}

static inline int register_only(dram_state *st, sink *out, const int emit,
                                const pimisa_record *r)
{
    if (r->bank == PIMISA_ALL_BANKS) {
        issue(st, out, emit, earliest_all(st, DRAM_OP), DRAM_OP, -1, -1, 0);
        return 0;
    }
    if (r->bank >= st->p.banks) return DRAM_EBANK;
    issue(st, out, emit, earliest_one(st, DRAM_OP, r->bank), DRAM_OP, r->bank, -1, 0);
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
    end = MAXT(end, st->ch[DRAM_RD] + p->rd_done);
    end = MAXT(end, st->ch[DRAM_WR] + p->wr_done);
    end = MAXT(end, MAXT(MAXT(st->ch[DRAM_RD], st->ch[DRAM_WR]), st->ch[DRAM_OP]) + p->tCCD_col);
    end = MAXT(end, st->ch[DRAM_REF] + p->gap[DRAM_RULE_tRFC]);
    end = MAXT(end, st->ch[DRAM_REFPB] + p->gap[DRAM_RULE_tRFCpb]);
    end = MAXT(end, st->ch[DRAM_PRE] + p->gap[DRAM_RULE_tRP]);
    st->s.end_cycle = end;
}

/* The hot path: from record i on, a run of all-bank column commands that needs no other DRAM
 * command (register-only commands, and with one bank per unit RD / WR that hit the open row)
 * before the next refresh is due or the chunk fills. Each issues at earliest_all's cycle, as
 * on the general path, but with that cycle kept per column command in a local (r_c = max over
 * the commands issued, a at cycle t, of t + g_any[a][c]) and updated as each one issues, so
 * the run touches the state only at its ends. Returns the index of the first record it did
 * not schedule. */
static inline __attribute__((always_inline)) int64_t column_run(dram_state *st, sink *out,
                                                                const int emit,
                                                                const pimisa_record *recs,
                                                                int64_t i, int64_t n,
                                                                uint64_t base)
{
    const int64_t start = i, next_ref = st->next_ref;
    const int64_t open = st->p.bpu == 1 ? st->part_row[0] : -1;
    const int64_t(*g)[DRAM_NCMD] = st->g_any;
    int64_t last = st->last, rd = st->ch[DRAM_RD], wr = st->ch[DRAM_WR], op = st->ch[DRAM_OP];
    int64_t r_rd = NEVER, r_wr = NEVER, r_op = NEVER, n_rd = 0, n_wr = 0;
    int a;
    for (a = 0; a < DRAM_NCMD; a++) {
        r_rd = MAXT(r_rd, st->ch[a] + g[a][DRAM_RD]);
        r_wr = MAXT(r_wr, st->ch[a] + g[a][DRAM_WR]);
        r_op = MAXT(r_op, st->ch[a] + g[a][DRAM_OP]);
    }
    for (; i < n && last + 1 < next_ref; i++) {
        const pimisa_record *r = &recs[i];
        int64_t t;
        int cmd;
        if (r->bank != PIMISA_ALL_BANKS || r->op == OP_BARRIER ||
            (emit && out->cap - out->len < DRAM_MAX_PER_PIM))
            break;
        if (r->op == OP_LD || r->op == OP_ST) {
            if (open < 0 || base + r->row != (uint64_t)open) break;
            cmd = r->op == OP_LD ? DRAM_RD : DRAM_WR;
        } else {
            cmd = DRAM_OP;
        }
        t = MAXT(last + 1, cmd == DRAM_RD ? r_rd : cmd == DRAM_WR ? r_wr : r_op);
        r_rd = MAXT(r_rd, t + g[cmd][DRAM_RD]);
        r_wr = MAXT(r_wr, t + g[cmd][DRAM_WR]);
        r_op = MAXT(r_op, t + g[cmd][DRAM_OP]);
        if (cmd == DRAM_RD) rd = t, n_rd++;
        else if (cmd == DRAM_WR) wr = t, n_wr++;
        else op = t;
        last = t;
        if (emit) {
            dram_cmd *c = &out->buf[out->len++];
            c->cycle = t;
            c->row = cmd == DRAM_OP ? -1 : open;
            c->bank = -1;
            c->cmd = (uint8_t)cmd;
            c->col = cmd == DRAM_OP ? 0 : r->col;
        }
    }
    if (i > start) {
        const int64_t n_op = i - start - n_rd - n_wr;
        st->last = last;
        if (n_rd) st->ch[DRAM_RD] = st->all[DRAM_RD] = st->wide[DRAM_RD] = rd;
        if (n_wr) st->ch[DRAM_WR] = st->all[DRAM_WR] = st->wide[DRAM_WR] = wr;
        if (n_op) st->ch[DRAM_OP] = st->all[DRAM_OP] = st->wide[DRAM_OP] = op;
        st->s.commands[DRAM_RD] += n_rd;
        st->s.commands[DRAM_WR] += n_wr;
        st->s.commands[DRAM_OP] += n_op;
        st->s.row_hits += n_rd + n_wr;
        st->s.mem_all += n_rd + n_wr;
        st->s.pim_commands += i - start;
    }
    return i;
}

static inline __attribute__((always_inline)) int run(dram_state *st, const pimisa_record *recs,
                                                     int64_t n, int64_t slots,
                                                     int64_t tile_rows, sink *out,
                                                     const int emit)
{
    int64_t slot = st->slot, i = st->index;
    stream sm = {recs, n, slots, tile_rows, 0};
    int rc = 0;
    for (; slot < slots; slot++, i = 0) {
        /* Saturated: a row beyond any unit is reported by memory() as DRAM_EROW. */
        const uint64_t base = tile_rows && slot > BASE_LIMIT / tile_rows
                                  ? (uint64_t)BASE_LIMIT
                                  : (uint64_t)slot * (uint64_t)tile_rows;
        for (; i < n; i++) {
            const pimisa_record *r;
            if (recs[i].bank == PIMISA_ALL_BANKS && st->last + 1 < st->next_ref) {
                i = column_run(st, out, emit, recs, i, n, base);
                if (i == n) break;
            }
            r = &recs[i];
            if (emit && out->cap - out->len < DRAM_MAX_PER_PIM) {
                st->slot = slot;
                st->index = i;
                return DRAM_FULL;
            }
            if (st->last + 1 >= st->next_ref) refresh(st, out, emit);
            sm.pos = slot * n + i;
            switch (r->op) {
            case OP_LD: rc = memory(st, out, emit, &sm, r, base, 0); break;
            case OP_ST: rc = memory(st, out, emit, &sm, r, base, 1); break;
            case OP_BARRIER:
                if (st->n_open) precharge_all(st, out, emit);
                break;
            default: rc = register_only(st, out, emit, r); break;
            }
            if (rc || (emit && out->overflow)) {
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

int64_t dram_format_csv(const dram_cmd *cmds, int64_t n, int32_t channel,
                        const dram_names *names, char *buf, int64_t cap, int64_t *used)
{
    static const char *const cmd_names[DRAM_NCMD] = {"ACT", "PRE", "REF", "RD", "WR", "OP",
                                                      "REFpb"};
    char *p = buf;
    int64_t i;
    for (i = 0; i < n; i++) {
        const dram_cmd *c = &cmds[i];
        const char *name, *tail = NULL;
        int64_t tail_len = 0, need = DRAM_CSV_LINE_MAX;
        int has_row, has_col;
        if (c->cmd >= DRAM_NCMD) break;
        if (names) {
            const int64_t r = names->index[i];
            if (r < 0 || r >= names->count) break;
            tail = names->text + names->at[r];
            tail_len = names->at[r + 1] - names->at[r];
            need += DRAM_CSV_SLOT_MAX + tail_len;
        }
        if (cap - (p - buf) < need) break;
        name = cmd_names[c->cmd];
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
        if (names) {
            *p++ = ',';
            p = put_int(p, names->slot[i]);
            memcpy(p, tail, (size_t)tail_len);
            p += tail_len;
        } else {
            *p++ = '\n';
        }
    }
    *used = p - buf;
    return i;
}
