/* pimisa emulator core: bit-exact execution of PIM command streams (see emu_core.h).
 *
 * Semantics (the numpy twin in pimisa/emulator/twin.py implements the same, from the `sem`
 * functions of pimisa/isa.py; the differential tests compare both command by command):
 *   - lanes are uint32; float ops work on their float32 view, NaN results are 0x7FC00000,
 *     fmac rounds twice (build with -ffp-contract=off, never fast-math);
 *   - a predicated command (pred bit 7) writes only the lanes whose bit is set in mask
 *     pred & 0x3F (clear, when bit 6 inverts it); a predicated compare changes only those bits
 *     of md; the predicate is read before the command writes anything;
 *   - immediate shifts take 0..31; shlv/shrv by >= 32 give 0, srav by >= 31 gives the sign
 *     fill, shrvr rounds half to even with the bits shifted out (>= 33 gives 0);
 *   - `@bN` runs in unit N / banks_per_unit of every channel, otherwise every unit runs.
 * Work is split by unit ranges over threads: commands are independent across units, and every
 * check depends only on the command and slot, so all threads stop at the same faulting step.
 * Each thread decodes (and checks) CHUNK_CMDS commands at a time, then runs them over one tile
 * of TILE_LANES lanes after another. Units of 8 lanes (every preset) take single-pass vector
 * kernels (lane_op8, GCC vector extensions); other lane counts take the scalar loops
 * (lane_op + blend). The differential tests exercise both against the numpy twin.
 * Each lane and mask instruction is one line of cext/lane_ops.def, stamped into every
 * context (scalar, vector, mask words) by defining LANE_OP / MASK_OP and the helpers its
 * expressions use; the operand table, flags and fault codes are generated (emu_isa.h).
 */
#include "emu_core.h"

#include <pthread.h>
#include <string.h>

#define BLOCK_WORDS 1024u /* lanes processed per inner block (fits L1 with its operands) */
#ifndef TILE_LANES
#define TILE_LANES 2048u /* lanes of the unit tile a chunk of commands runs over at a time */
#endif
#ifndef CHUNK_CMDS
#define CHUNK_CMDS 128u /* commands decoded and run per chunk */
#endif
#define MAX_THREADS 16

#if defined(__GNUC__) && defined(__x86_64__) && !defined(EMU_NO_CLONES)
#define EMU_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define EMU_CLONES
#endif
#define INLINE static inline __attribute__((always_inline))

#define OPINFO PIMISA_OPINFO

uint32_t emu_op_info(uint32_t op) { return op < 256 ? OPINFO[op] : 0; }

/* 1 when cext/lane_ops.def defines instruction `op` (the tests check every lane and mask
 * instruction of the ISA table has its line). */
int emu_has_definition(uint32_t op) {
    switch (op) {
#define LANE_OP(NAME, expr) case OP_##NAME:
#define MASK_OP(NAME, expr) case OP_##NAME:
#include "lane_ops.def"
#undef LANE_OP
#undef MASK_OP
        return 1;
    default:
        return 0;
    }
}

/* One command, checked and decoded for a slot. */
typedef struct {
    uint32_t op, cls;
    uint32_t rd, ra, rb, cc, col, bank;
    uint32_t pred_on, pmask, pinv;
    uint32_t imm;
    uint64_t row;
} cmd_t;

/* The static fault of record r (EMU_OK if none): the lowest fault code among its fields
 * outside their limit (the generated table of pimisa/validate.py, ranges of this machine). */
INLINE int check_record(const pimisa_limit *lim, const pimisa_record *r) {
    const uint8_t *kinds = PIMISA_FIELD_LIMITS[r->op];
    int code = 0;
    for (unsigned j = 0; j < PIMISA_NUM_FIELDS; j++) {
        const pimisa_limit *l = &lim[kinds[j]];
        const int64_t v = pimisa_field(r, j), x = v & l->keep;
        if (l->fault && (x < l->lo || x > l->hi) && v != l->also && (!code || l->fault < code))
            code = l->fault;
    }
    return code;
}

/* Check record *rec at row base `base`; fill c or return a fault code (row in *fault_row).
 * The record is copied first, so the stream needs no particular alignment. */
static int decode(const emu_machine *m, const pimisa_limit *lim, const void *rec, uint64_t base,
                  cmd_t *c, uint64_t *fault_row) {
    pimisa_record copy;
    const pimisa_record *r = &copy;
    memcpy(&copy, rec, sizeof copy);
    const int code = check_record(lim, r);
    if (code) return code;
    const uint32_t info = OPINFO[r->op];
    c->op = r->op;
    c->cls = info & 0xF;
    c->pred_on = (r->pred & PIMISA_PRED_ON) != 0;
    c->pmask = r->pred & PIMISA_PRED_MASK_BITS;
    c->pinv = (r->pred & PIMISA_PRED_INVERT) ? 0xFFFFFFFFu : 0u;
    c->bank = r->bank;
    c->rd = r->rd;
    c->ra = r->ra;
    c->rb = r->rb;
    c->cc = r->cc;
    c->imm = (uint32_t)r->imm;
    c->col = r->col;
    if (info & EMU_F_MEM) {
        c->row = base + r->row;
        if (c->row < base || c->row >= m->rows) {
            *fault_row = c->row;
            return EMU_FAULT_ROW;
        }
    }
    return EMU_OK;
}

INLINE uint32_t f2u(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

INLINE float u2f(uint32_t u) {
    float f;
    memcpy(&f, &u, 4);
    return f;
}

INLINE uint32_t canon(float r) { return r != r ? PIMISA_CANONICAL_NAN : f2u(r); }

/* Logical right shift by y rounding half to even with the bits shifted out; in 32-bit
 * arithmetic so it vectorizes (y = 32 keeps only the rounding bit, y >= 33 gives 0). */
INLINE uint32_t shr_rne(uint32_t x, uint32_t y) {
    const uint32_t s = y > 32u ? 32u : y;
    const uint32_t all_out = 0u - (s >> 5);            /* s == 32: every bit is shifted out */
    const uint32_t sh = s & 31u;
    const uint32_t q = (x >> sh) & ~all_out;
    const uint32_t rem = x & (((1u << sh) - 1u) | all_out);
    const uint32_t half = s != 0u ? 1u << ((s - 1u) & 31u) : 0u;
    const uint32_t tie_up = half != 0u ? (q & 1u) : 0u;
    const uint32_t up = rem > half ? 1u : (rem == half ? tie_up : 0u);
    return y > 32u ? 0u : q + up;
}

/* Helpers of cext/lane_ops.def common to every context. */
#define SEL(m, a, b) (((a) & (m)) | ((b) & ~(m)))
#define MASK_OP(NAME, expr)

/* out[i] = op(d[i], a[i], b[i], imm) for one block of n lanes (any lane count): the scalar
 * context of cext/lane_ops.def. */
INLINE void lane_op(uint32_t op, uint32_t *restrict out, const uint32_t *restrict pd,
                    const uint32_t *restrict pa, const uint32_t *restrict pb, uint32_t imm,
                    uint32_t n) {
#define LT_S(a, b) (0u - (uint32_t)((int32_t)(a) < (int32_t)(b)))
#define LT_U(a, b) (0u - (uint32_t)((a) < (b)))
#define BCAST(v) (v)
#define SRA(a, s) ((uint32_t)((int32_t)(a) >> (s)))
#define SHLV(a, s) ((s) >= 32u ? 0u : (a) << ((s) & 31u))
#define SHRV(a, s) ((s) >= 32u ? 0u : (a) >> ((s) & 31u))
#define SRAV(a, s) ((uint32_t)((int32_t)(a) >> ((s) > 31u ? 31u : (s))))
#define SHR_RNE(a, s) shr_rne(a, s)
#define FBIN(a, op, b) canon(u2f(a) op u2f(b))
#define LANE_OP(NAME, expr)                               \
    case OP_##NAME:                                       \
        for (uint32_t i = 0; i < n; i++) {                \
            const uint32_t x = pa[i], y = pb[i], d = pd[i]; \
            (void)x, (void)y, (void)d;                    \
            out[i] = (expr);                              \
        }                                                 \
        break;
    switch (op) {
#include "lane_ops.def"
    default: break;
    }
#undef LANE_OP
#undef LT_S
#undef LT_U
#undef BCAST
#undef SRA
#undef SHLV
#undef SHRV
#undef SRAV
#undef SHR_RNE
#undef FBIN
}

typedef uint32_t v8u __attribute__((vector_size(32)));
typedef int32_t v8i __attribute__((vector_size(32)));
static const v8u LANE_BITS8 = {1u, 2u, 4u, 8u, 16u, 32u, 64u, 128u};

INLINE v8u load8(const uint32_t *p) {
    v8u v;
    memcpy(&v, p, sizeof v);
    return v;
}

INLINE void store8(uint32_t *p, v8u v) { memcpy(p, &v, sizeof v); }

/* OR of the 8 lanes of r. */
INLINE uint32_t or_lanes8(v8u r) {
#if defined(__has_builtin) && __has_builtin(__builtin_shufflevector)
    r |= __builtin_shufflevector(r, r, 4, 5, 6, 7, 0, 1, 2, 3);
    r |= __builtin_shufflevector(r, r, 2, 3, 0, 1, 6, 7, 4, 5);
    r |= __builtin_shufflevector(r, r, 1, 0, 3, 2, 5, 4, 7, 6);
    return r[0];
#else
    return r[0] | r[1] | r[2] | r[3] | r[4] | r[5] | r[6] | r[7];
#endif
}

/* Per unit, bit k = cond(a[u][k], b[u][k]); 8 lanes take whole vectors. */
INLINE void compare_op(uint32_t cc, uint32_t *restrict bits, const uint32_t *restrict a,
                       const uint32_t *restrict b, uint32_t nu, const uint32_t L) {
#define CMP(expr)                                                  \
    if (L == 8) {                                                  \
        for (uint32_t u = 0; u < nu; u++) {                        \
            v8u x = load8(a + u * 8), y = load8(b + u * 8);        \
            v8i xs = (v8i)x, ys = (v8i)y;                          \
            (void)xs;                                              \
            (void)ys;                                              \
            bits[u] = or_lanes8((v8u)(expr) & LANE_BITS8);         \
        }                                                          \
        break;                                                     \
    }                                                              \
    for (uint32_t u = 0; u < nu; u++) {                            \
        uint32_t w = 0;                                            \
        for (uint32_t k = 0; k < L; k++) {                         \
            uint32_t x = a[u * L + k], y = b[u * L + k];           \
            int32_t xs = (int32_t)x, ys = (int32_t)y;              \
            (void)xs;                                              \
            (void)ys;                                              \
            w |= (uint32_t)((expr) != 0) << k;                     \
        }                                                          \
        bits[u] = w;                                               \
    }                                                              \
    break;
    switch (cc) {
    case CC_EQ: CMP(x == y)
    case CC_NE: CMP(x != y)
    case CC_LT: CMP(xs < ys)
    case CC_LE: CMP(xs <= ys)
    case CC_GT: CMP(xs > ys)
    case CC_GE: CMP(xs >= ys)
    case CC_LTU: CMP(x < y)
    case CC_LEU: CMP(x <= y)
    case CC_GTU: CMP(x > y)
    case CC_GEU: CMP(x >= y)
    default: break;
    }
#undef CMP
}

/* dst lanes take src where the unit's predicate word selects them. */
INLINE void blend(uint32_t *restrict dst, const uint32_t *restrict src,
                  const uint32_t *restrict pw, uint32_t inv, uint32_t nu, const uint32_t L) {
    if (L == 8) {
        for (uint32_t u = 0; u < nu; u++) {
            v8u sel = (v8u)((LANE_BITS8 & (pw[u] ^ inv)) != 0);
            v8u d = load8(dst + u * 8);
            store8(dst + u * 8, (load8(src + u * 8) & sel) | (d & ~sel));
        }
        return;
    }
    for (uint32_t u = 0; u < nu; u++) {
        uint32_t w = pw[u] ^ inv;
        for (uint32_t k = 0; k < L; k++) {
            uint32_t sel = 0u - ((w >> k) & 1u);
            dst[u * L + k] = (src[u * L + k] & sel) | (dst[u * L + k] & ~sel);
        }
    }
}

typedef float v8f __attribute__((vector_size(32)));

/* Lanes of a where m is set, of b elsewhere. */
INLINE v8u vsel(v8u m, v8u a, v8u b) { return (a & m) | (b & ~m); }

INLINE v8u vcanon(v8f r) {
    const v8u nan = (v8u){0} + PIMISA_CANONICAL_NAN;
    return vsel((v8u)(r != r), nan, (v8u)r);
}

/* The vector form of shr_rne: round up when the highest shifted-out bit is set and either a
 * lower shifted-out bit is set or the result is odd. */
INLINE v8u vshr_rne(v8u x, v8u y) {
    const v8u one = (v8u){0} + 1u;
    const v8u live = ~(v8u)(y > 32u) & ~(v8u)(y == 0u); /* amounts 1..32 */
    const v8u s1 = (y - 1u) & 31u;                      /* position of the rounding bit */
    const v8u q = (x >> s1) >> 1u;                      /* x >> y, 0 for y = 32 */
    const v8u round = (x >> s1) & one;
    const v8u sticky = ~(v8u)((x & ((one << s1) - 1u)) == 0u) & one;
    const v8u up = round & (sticky | q);
    return vsel(live, q + up, vsel((v8u)(y == 0u), x, (v8u){0}));
}

/* 8 lanes per unit: d = op(d, a, b, imm) one unit (one vector) at a time, predicated per
 * unit, in a single pass; a, b and d may be the same register (each vector is read before
 * it is written). */
INLINE void lane_op8(uint32_t op, uint32_t *pd, const uint32_t *pa, const uint32_t *pb,
                     uint32_t imm, const uint32_t *pw, uint32_t inv, uint32_t nu,
                     const int pred) {
#define LT_S(a, b) ((v8u)((v8i)(a) < (v8i)(b)))
#define LT_U(a, b) ((v8u)((a) < (b)))
#define BCAST(v) ((v8u){0} + (v))
#define SRA(a, s) ((v8u)((v8i)(a) >> (int32_t)(s)))
#define SHLV(a, s) (((a) << ((s) & 31u)) & ~(v8u)((s) > 31u))
#define SHRV(a, s) (((a) >> ((s) & 31u)) & ~(v8u)((s) > 31u))
#define SRAV(a, s) ((v8u)((v8i)(a) >> (v8i)SEL((v8u)((s) > 31u), (v8u){0} + 31u, (s))))
#define SHR_RNE(a, s) vshr_rne(a, s)
#define FBIN(a, op, b) vcanon((v8f)(a) op (v8f)(b))
#define LANE_OP(NAME, expr)                                                         \
    case OP_##NAME:                                                                 \
        for (uint32_t u = 0; u < nu; u++) {                                         \
            const v8u x = load8(pa + 8u * u), y = load8(pb + 8u * u);                 \
            const v8u d = load8(pd + 8u * u);                                         \
            (void)x, (void)y;                                                       \
            v8u r = (expr);                                                         \
            if (pred) r = vsel((v8u)((LANE_BITS8 & (pw[u] ^ inv)) != 0u), r, d);    \
            store8(pd + 8u * u, r);                                                 \
        }                                                                           \
        break;
    switch (op) {
#include "lane_ops.def"
    default: break;
    }
#undef LANE_OP
#undef LT_S
#undef LT_U
#undef BCAST
#undef SRA
#undef SHLV
#undef SHRV
#undef SRAV
#undef SHR_RNE
#undef FBIN
}

/* dst = src for n lanes (an inline vector loop: short copies are too small for memcpy). */
INLINE void copy_lanes(uint32_t *restrict dst, const uint32_t *restrict src, uint32_t n) {
    uint32_t i = 0;
    for (; i + 8 <= n; i += 8) store8(dst + i, load8(src + i));
    for (; i < n; i++) dst[i] = src[i];
}

INLINE void put(uint32_t *restrict dst, const uint32_t *restrict src, const cmd_t *c,
                const uint32_t *pw, uint32_t nu, const uint32_t L) {
    if (c->pred_on)
        blend(dst, src, pw, c->pinv, nu, L);
    else
        copy_lanes(dst, src, nu * L);
}

/* Run command c on units [us, us + nu) (contiguous), block by block. */
INLINE void exec_units(const emu_machine *m, const cmd_t *c, uint32_t us, uint32_t nu,
                       const uint32_t L) {
    const uint64_t U = (uint64_t)m->channels * m->units_per_channel;
    const uint64_t slab = U * L;
    const uint32_t all = L >= 32 ? 0xFFFFFFFFu : (1u << L) - 1u;
    const uint32_t bu = BLOCK_WORDS / L;
    uint32_t tmp[BLOCK_WORDS];
    uint32_t fill[BLOCK_WORDS];
    uint32_t bits[BLOCK_WORDS];
    const uint32_t *pmask = m->masks + (uint64_t)c->pmask * U;
    uint32_t *mem_word = NULL;
    if (c->cls == SEM_LOAD || c->cls == SEM_STORE)
        mem_word = m->mem + (c->row * m->cols + c->col) * slab;
    if (c->cls == SEM_COMPARE && c->op == OP_CMPI)
        for (uint32_t i = 0; i < bu * L; i++) fill[i] = c->imm;
    for (uint32_t u = us; u < us + nu; u += bu) {
        const uint32_t k = (us + nu - u) < bu ? (us + nu - u) : bu;
        const uint64_t off = (uint64_t)u * L;
        const uint32_t *pw = pmask + u;
        switch (c->cls) {
        case SEM_LOAD:
            put(m->vregs + c->rd * slab + off, mem_word + off, c, pw, k, L);
            break;
        case SEM_STORE:
            put(mem_word + off, m->vregs + c->ra * slab + off, c, pw, k, L);
            break;
        case SEM_LANE:
        case SEM_LANE_ACC: {
            uint32_t *d = m->vregs + c->rd * slab + off;
            /* without va: any valid lanes (never used); `fill` keeps them apart from d */
            const uint32_t *a = (OPINFO[c->op] & EMU_F_RA_V) ? m->vregs + c->ra * slab + off
                                : (L == 8 ? d : fill);
            const uint32_t *b = (OPINFO[c->op] & EMU_F_RB_V) ? m->vregs + c->rb * slab + off : a;
            if (L == 8) {
                if (c->pred_on)
                    lane_op8(c->op, d, a, b, c->imm, pw, c->pinv, k, 1);
                else
                    lane_op8(c->op, d, a, b, c->imm, pw, 0, k, 0);
            } else if (!c->pred_on && c->cls == SEM_LANE && d != a && d != b) {
                lane_op(c->op, d, a, a, b, c->imm, k * L); /* distinct registers: in place */
            } else {
                lane_op(c->op, tmp, d, a, b, c->imm, k * L);
                put(d, tmp, c, pw, k, L);
            }
            break;
        }
        case SEM_COMPARE: {
            const uint32_t *a = m->vregs + c->ra * slab + off;
            const uint32_t *b = c->op == OP_CMPI ? fill : m->vregs + c->rb * slab + off;
            uint32_t *md = m->masks + (uint64_t)c->rd * U + u;
            compare_op(c->cc, bits, a, b, k, L);
            for (uint32_t j = 0; j < k; j++) {
                uint32_t sel = c->pred_on ? (pw[j] ^ c->pinv) & all : all;
                md[j] = (md[j] & ~sel) | (bits[j] & sel);
            }
            break;
        }
        case SEM_MASK: {
            uint32_t *md = m->masks + (uint64_t)c->rd * U + u;
            const uint32_t *ma = m->masks + (uint64_t)((OPINFO[c->op] & EMU_F_RA_M) ? c->ra : 0) * U + u;
            const uint32_t *mb = m->masks + (uint64_t)((OPINFO[c->op] & EMU_F_RB_M) ? c->rb : 0) * U + u;
            switch (c->op) {
#undef MASK_OP
#define MASK_OP(NAME, expr)                                                    \
    case OP_##NAME:                                                            \
        for (uint32_t j = 0; j < k; j++) {                                     \
            const uint32_t a = ma[j], b = mb[j], imm = c->imm;                 \
            (void)a, (void)b, (void)imm;                                       \
            bits[j] = (expr);                                                  \
        }                                                                      \
        break;
#define LANE_OP(NAME, expr)
#include "lane_ops.def"
#undef LANE_OP
#undef MASK_OP
            default: break;
            }
            for (uint32_t j = 0; j < k; j++) md[j] = bits[j] & all;
            break;
        }
        default:
            break;
        }
    }
}

/* Run one command over this thread's units [u0, u1). */
INLINE void exec_cmd(const emu_machine *m, const cmd_t *c, uint32_t u0, uint32_t u1,
                     const uint32_t L) {
    if (c->cls == SEM_NONE) return;
    if (c->bank == PIMISA_ALL_BANKS) {
        exec_units(m, c, u0, u1 - u0, L);
        return;
    }
    const uint32_t upc = m->units_per_channel;
    const uint32_t ub = c->bank / m->banks_per_unit;
    for (uint32_t ch = u0 / upc; ch <= (u1 - 1) / upc; ch++) {
        uint32_t u = ch * upc + ub;
        if (u >= u0 && u < u1) exec_units(m, c, u, 1, L);
    }
}

typedef struct {
    const emu_machine *m;
    const pimisa_limit *lim;
    const pimisa_record *recs;
    uint64_t n, begin, end;
    uint32_t u0, u1;
    emu_status st;
} job_t;

/* Decode up to CHUNK_CMDS steps from step t into cmds; stop early at a fault (recorded in
 * j->st with the steps done so far). Returns the number of decoded commands. */
static uint32_t decode_chunk(job_t *j, uint64_t t, cmd_t *cmds) {
    const emu_machine *m = j->m;
    uint64_t slot = t / j->n, idx = t % j->n;
    uint32_t nc = 0;
    while (nc < CHUNK_CMDS && t + nc < j->end) {
        uint64_t base, fault_row = 0;
        int code = __builtin_mul_overflow(slot, m->tile_rows, &base) ? EMU_FAULT_ROW : EMU_OK;
        if (code == EMU_OK)
            code = decode(m, j->lim, (const unsigned char *)j->recs + idx * sizeof(pimisa_record), base,
                          &cmds[nc], &fault_row);
        else
            fault_row = UINT64_MAX;
        if (code != EMU_OK) {
            j->st = (emu_status){code, 0, t + nc - j->begin, idx, slot, fault_row};
            break;
        }
        nc++;
        if (++idx == j->n) {
            idx = 0;
            slot++;
        }
    }
    return nc;
}

/* Run the job's steps chunk by chunk; each chunk runs over one tile of units at a time, so
 * the registers of the tile stay in the L1 cache across the chunk's commands. */
INLINE void run_job_lanes(job_t *j, const uint32_t L) {
    cmd_t cmds[CHUNK_CMDS];
    const uint32_t tile = TILE_LANES / L ? TILE_LANES / L : 1;
    j->st.code = EMU_OK;
    for (uint64_t t = j->begin; t < j->end && j->st.code == EMU_OK;) {
        uint32_t nc = decode_chunk(j, t, cmds);
        for (uint32_t b0 = j->u0; b0 < j->u1; b0 += tile) {
            uint32_t b1 = j->u1 - b0 < tile ? j->u1 : b0 + tile;
            for (uint32_t i = 0; i < nc; i++) exec_cmd(j->m, &cmds[i], b0, b1, L);
        }
        t += nc;
    }
    if (j->st.code == EMU_OK) j->st.steps = j->end - j->begin;
}

/* The hot loop, compiled once per instruction-set level; 8 lanes get their own copy. */
EMU_CLONES static void run_job(job_t *j) {
    if (j->m->lanes == 8)
        run_job_lanes(j, 8);
    else
        run_job_lanes(j, j->m->lanes);
}

static void *job_main(void *p) {
    run_job((job_t *)p);
    return NULL;
}

static int mul_ok(uint64_t a, uint64_t b, uint64_t *out) { return !__builtin_mul_overflow(a, b, out); }

static int machine_ok(const emu_machine *m) {
    uint64_t units, slab, words;
    if (!m || !m->mem || !m->vregs || !m->masks) return 0;
    if (m->lanes < 1 || m->lanes > 32 || m->cols < 1 || m->cols > 256) return 0;
    if (m->nv < 1 || m->nv > 256 || m->nm < 1 || m->nm > PIMISA_PRED_MASK_BITS + 1) return 0;
    if (m->channels < 1 || m->units_per_channel < 1 || m->banks_per_unit < 1) return 0;
    if ((uint64_t)m->units_per_channel * m->banks_per_unit != m->banks) return 0;
    if (m->banks >= PIMISA_ALL_BANKS) return 0;
    units = (uint64_t)m->channels * m->units_per_channel;
    if (units > 0xFFFFFFFFull || !mul_ok(units, m->lanes, &slab)) return 0;
    if (!mul_ok(slab, m->nv, &words) || words != m->vreg_words) return 0;
    if (!mul_ok(units, m->nm, &words) || words != m->mask_words) return 0;
    if (!mul_ok(m->rows, m->cols, &words) || !mul_ok(words, slab, &words) ||
        words != m->mem_words)
        return 0;
    return 1;
}

int emu_run(const emu_machine *m, const pimisa_record *recs, uint64_t n, uint64_t begin,
            uint64_t end, int nthreads, emu_status *status) {
    job_t jobs[MAX_THREADS];
    pthread_t threads[MAX_THREADS];
    int started[MAX_THREADS] = {0};
    uint32_t units, t, nt;
    if (!status) return EMU_BAD_MACHINE;
    memset(status, 0, sizeof(*status));
    if (!machine_ok(m) || (end > begin && (!recs || n == 0))) {
        status->code = EMU_BAD_MACHINE;
        return status->code;
    }
    if (end <= begin) return EMU_OK;
    pimisa_limit lim[PIMISA_NUM_LIMITS];
    pimisa_limits(lim, m->nv, m->nm, m->cols, m->banks,
                  m->lanes >= 32 ? 0xFFFFFFFFll : (1ll << m->lanes) - 1);
    units = m->channels * m->units_per_channel;
    nt = nthreads < 1 ? 1u : (uint32_t)nthreads;
    if (nt > MAX_THREADS) nt = MAX_THREADS;
    if (nt > units) nt = units;
    for (t = 0; t < nt; t++) {
        jobs[t] = (job_t){m, lim, recs, n, begin, end,
                          (uint32_t)((uint64_t)units * t / nt),
                          (uint32_t)((uint64_t)units * (t + 1) / nt), {0}};
    }
    for (t = 1; t < nt; t++) started[t] = pthread_create(&threads[t], NULL, job_main, &jobs[t]) == 0;
    run_job(&jobs[0]);
    for (t = 1; t < nt; t++) {
        if (started[t])
            pthread_join(threads[t], NULL);
        else
            run_job(&jobs[t]);
    }
    *status = jobs[0].st;
    for (t = 1; t < nt; t++)
        if (jobs[t].st.code != EMU_OK && (status->code == EMU_OK || jobs[t].st.steps < status->steps))
            *status = jobs[t].st;
    return status->code;
}
