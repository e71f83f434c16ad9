/* pimisa emulator core: bit-exact execution of PIM command streams (see emu_core.h).
 *
 * Semantics (the numpy twin in pimisa/emulator/twin.py implements the same, from the `sem`
 * functions of pimisa/isa.py; the differential tests compare both command by command):
 *   - lanes are uint32 or uint16 (the machine's lane_bits); 32-bit float ops work on the
 *     float32 view, NaN results are 0x7FC00000; 16-bit float ops (.f16 / .bf16) convert the
 *     operands exactly to float32, compute there and round to nearest even to binary16 /
 *     bfloat16 (NaN: 0x7E00 / 0x7FC0); fmac rounds twice (build with -ffp-contract=off,
 *     never fast-math);
 *   - a predicated command (pred bit 7) writes only the lanes whose bit is set in mask
 *     pred & 0x3F (clear, when bit 6 inverts it); a predicated compare changes only those bits
 *     of md; the predicate is read before the command writes anything;
 *   - immediate shifts take 0..W-1 (W = lane bits); shlv/shrv by >= W give 0, srav by >= W-1
 *     gives the sign fill, shrvr rounds half to even with the bits shifted out (>= W+1 gives
 *     0); immediates act with their low W bits;
 *   - `@bN` runs in unit N / banks_per_unit of every channel, otherwise every unit runs.
 * Work is split by unit ranges over threads: commands are independent across units, and every
 * check depends only on the command and slot, so all threads stop at the same faulting step.
 * Each thread decodes (and checks) CHUNK_CMDS commands at a time, then runs them over one tile
 * of TILE_LANES lanes after another. Units of one 32-byte vector (8 x 32 or 16 x 16 lanes,
 * every preset) take single-pass vector kernels (GCC vector extensions); other lane counts
 * take the scalar loops. On x86-64 CPUs with F16C the 16-bit context is stamped once more with
 * the CPU's binary16 conversions (run_job_16c; emu_machine.soft_fp16 keeps the software ones).
 * The differential and oracle tests exercise all of them against the numpy twin.
 * Each lane, mask and compare definition is one line of cext/lane_ops.def, stamped into every
 * context (scalar and vector, per lane width, by cext/emu_width.inc; mask words) by defining
 * LANE_OP / MASK_OP / COND_OP and the helpers its expressions use; the operand table, flags,
 * fault codes and per-width limits are generated (emu_isa.h).
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
#define EMU_F16C 1 /* a third 16-bit context on the CPU's binary16 conversions */
#include <immintrin.h>
#else
#define EMU_CLONES
#define EMU_F16C 0
#endif
#define INLINE static inline __attribute__((always_inline))

#define OPINFO PIMISA_OPINFO

uint32_t emu_op_info(uint32_t op) { return op < 256 ? OPINFO[op] : 0; }

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
INLINE int check_record(const pimisa_limit *lim, const pimisa_kinds *table,
                        const pimisa_record *r) {
    const uint8_t *kinds = table[r->op];
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
static int decode(const emu_machine *m, const pimisa_limit *lim, const pimisa_kinds *kinds,
                  const void *rec, uint64_t base, cmd_t *c, uint64_t *fault_row) {
    pimisa_record copy;
    const pimisa_record *r = &copy;
    memcpy(&copy, rec, sizeof copy);
    const int code = check_record(lim, kinds, r);
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

/* binary16 bits h (zero-extended) -> the float32 of the same value (exact). */
INLINE float h2f(uint32_t h) {
    const uint32_t em = h & 0x7FFFu, s = (h & 0x8000u) << 16;
    if (em < 0x400u) return u2f(s | f2u((float)em * 0x1p-24f)); /* zero, subnormal */
    if (em >= 0x7C00u) return u2f(s | 0x7F800000u | (em << 13));  /* inf, NaN */
    return u2f(s | ((em << 13) + (112u << 23)));
}

/* float32 r -> binary16 bits, rounded to nearest even; NaN -> PIMISA_CANONICAL_NAN_F16. */
INLINE uint32_t f2h(float r) {
    uint32_t f = f2u(r);
    const uint32_t s = (f >> 16) & 0x8000u;
    f &= 0x7FFFFFFFu;
    if (f > 0x7F800000u) return PIMISA_CANONICAL_NAN_F16;
    if (f >= 0x47800000u) return s | 0x7C00u; /* >= 65536: infinity */
    if (f < 0x38800000u)                      /* below 2^-14: subnormal; exact RNE by a float add */
        return s | (f2u(u2f(f) + 0.5f) - 0x3F000000u);
    return s | ((f - (112u << 23) + 0xFFFu + ((f >> 13) & 1u)) >> 13);
}

/* float32 r -> bfloat16 bits, rounded to nearest even; NaN -> PIMISA_CANONICAL_NAN_BF16. */
INLINE uint32_t f2b(float r) {
    const uint32_t f = f2u(r);
    if ((f & 0x7FFFFFFFu) > 0x7F800000u) return PIMISA_CANONICAL_NAN_BF16;
    return (f + 0x7FFFu + ((f >> 16) & 1u)) >> 16;
}

/* Logical right shift by y rounding half to even with the bits shifted out; in 32-bit
 * arithmetic so it vectorizes (y = 32 keeps only the rounding bit, y >= 33 gives 0). Also the
 * 16-bit form: a zero-extended 16-bit x gives the 16-bit result for every y. */
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

typedef uint32_t v8u __attribute__((vector_size(32)));
typedef int32_t v8i __attribute__((vector_size(32)));
typedef float v8f __attribute__((vector_size(32)));
typedef uint16_t v16h __attribute__((vector_size(32)));
typedef int16_t v16s __attribute__((vector_size(32)));
static const v8u LANE_BITS8 = {1u, 2u, 4u, 8u, 16u, 32u, 64u, 128u};
static const v16h LANE_BITS16 = {1u, 2u, 4u, 8u, 16u, 32u, 64u, 128u, 256u, 512u, 1024u,
                                 2048u, 4096u, 8192u, 16384u, 32768u};

INLINE v8u vsel8(v8u m, v8u a, v8u b) { return (a & m) | (b & ~m); }

INLINE v8u vcanon(v8f r) { return vsel8((v8u)(r != r), (v8u){0} + PIMISA_CANONICAL_NAN, (v8u)r); }

/* The vector form of shr_rne on 8 x 32 bits: round up when the highest shifted-out bit is set
 * and either a lower shifted-out bit is set or the result is odd (zero-extended 16-bit x: the
 * 16-bit result too, as shr_rne). */
INLINE v8u vshr_rne8(v8u x, v8u y) {
    const v8u one = (v8u){0} + 1;
    const v8u live = ~(v8u)(y > 32) & ~(v8u)(y == 0); /* amounts 1..32 */
    const v8u s1 = (y - 1) & 31;                       /* position of the rounding bit */
    const v8u q = (x >> s1) >> 1;                      /* x >> y, 0 for y = 32 */
    const v8u round = (x >> s1) & one;
    const v8u sticky = ~(v8u)((x & ((one << s1) - 1)) == 0) & one;
    const v8u up = round & (sticky | q);
    return vsel8(live, q + up, vsel8((v8u)(y == 0), x, (v8u){0}));
}

/* 16 x 16-bit lanes as two vectors of 8 x 32 bits (no shuffles: a 32-bit element holds lanes
 * 2i and 2i + 1): lo16 / hi16 zero-extend the even / odd lanes, slo16 / shi16 sign-extend them,
 * join16 packs the low 16 bits of both back. The ops with no 16-bit vector instruction on x86
 * (per-lane shifts, float conversions) run on these halves. */
INLINE v8u lo16(v16h v) { return (v8u)v & 0xFFFFu; }
INLINE v8u hi16(v16h v) { return (v8u)v >> 16; }
INLINE v8i slo16(v16h v) { return (v8i)((v8u)v << 16) >> 16; }
INLINE v8i shi16(v16h v) { return (v8i)v >> 16; }
INLINE v16h join16(v8u lo, v8u hi) { return (v16h)((lo & 0xFFFFu) | (hi << 16)); }

/* OR of the 8 lanes of r, by a shuffle tree (a loop over the lanes stays scalar). */
INLINE uint32_t or8(v8u r) {
    r |= __builtin_shufflevector(r, r, 4, 5, 6, 7, 0, 1, 2, 3);
    r |= __builtin_shufflevector(r, r, 2, 3, 0, 1, 6, 7, 4, 5);
    r |= __builtin_shufflevector(r, r, 1, 0, 3, 2, 5, 4, 7, 6);
    return r[0];
}

/* The 16-bit per-lane shifts on one half (amounts >= 16: 0, 0, the sign fill). Values below
 * 2^31 compare signed here and below: one instruction, where an unsigned compare takes three. */
INLINE v8u shlv16(v8u a, v8u s) { return (a << (s & 15u)) & ~(v8u)((v8i)s > 15); }
INLINE v8u shrv16(v8u a, v8u s) { return (a >> (s & 15u)) & ~(v8u)((v8i)s > 15); }
INLINE v8u srav16(v8i a, v8u s) { return (v8u)(a >> (v8i)vsel8((v8u)((v8i)s > 15), (v8u){0} + 15, s)); }

/* The vector forms of h2f / f2h / f2b on one half (binary16 / bfloat16 bits in the low 16
 * bits of each 32-bit element). */
INLINE v8f vh2f8(v8u h) {
    const v8u em = h & 0x7FFFu, s = (h & 0x8000u) << 16;
    const v8u sub = (v8u)(__builtin_convertvector((v8i)em, v8f) * 0x1p-24f);
    const v8u big = 0x7F800000u | (em << 13);
    const v8u norm = (em << 13) + (112u << 23);
    return (v8f)(s | vsel8((v8u)((v8i)em < 0x400), sub, vsel8((v8u)((v8i)em >= 0x7C00), big, norm)));
}

INLINE v8u vf2h8(v8f r) {
    const v8u all = (v8u)r, s = (all >> 16) & 0x8000u, f = all & 0x7FFFFFFFu;
    const v8u sub = (v8u)((v8f)f + 0.5f) - 0x3F000000u;
    const v8u norm = (f - (112u << 23) + 0xFFFu + ((f >> 13) & 1u)) >> 13;
    v8u o = vsel8((v8u)((v8i)f < 0x38800000), sub, norm);
    o = s | vsel8((v8u)((v8i)f >= 0x47800000), (v8u){0} + 0x7C00u, o);
    return vsel8((v8u)((v8i)f > 0x7F800000), (v8u){0} + PIMISA_CANONICAL_NAN_F16, o);
}

INLINE v8u vf2b8(v8f r) {
    const v8u f = (v8u)r;
    const v8u o = (f + 0x7FFFu + ((f >> 16) & 1u)) >> 16;
    return vsel8((v8u)((v8i)(f & 0x7FFFFFFFu) > 0x7F800000), (v8u){0} + PIMISA_CANONICAL_NAN_BF16,
                 o);
}

/* A 16-bit float op on both halves: binary16 (H) or bfloat16 (B, whose halves widen to
 * float32 by a shift or a mask). */
#define VHALF_H(a, op, b)                                                                  \
    join16(vf2h8(vh2f8(lo16(a)) op vh2f8(lo16(b))), vf2h8(vh2f8(hi16(a)) op vh2f8(hi16(b))))
#define VHALF_B(a, op, b)                                                                  \
    join16(vf2b8((v8f)((v8u)(a) << 16) op (v8f)((v8u)(b) << 16)),                         \
           vf2b8((v8f)((v8u)(a) & 0xFFFF0000u) op (v8f)((v8u)(b) & 0xFFFF0000u)))

/* A mask instruction on units [u, u + k): mask words, the same at every lane width. */
INLINE void mask_op(const emu_machine *m, const cmd_t *c, uint32_t *restrict bits, uint32_t u,
                    uint32_t k, uint32_t all) {
    const uint64_t U = (uint64_t)m->channels * m->units_per_channel;
    uint32_t *md = m->masks + (uint64_t)c->rd * U + u;
    const uint32_t *ma = m->masks + (uint64_t)((OPINFO[c->op] & EMU_F_RA_M) ? c->ra : 0) * U + u;
    const uint32_t *mb = m->masks + (uint64_t)((OPINFO[c->op] & EMU_F_RB_M) ? c->rb : 0) * U + u;
    switch (c->op) {
#define LANE_OP(NAME, expr)
#define LANE_OP32(NAME, expr)
#define LANE_OP16(NAME, expr)
#define COND_OP(NAME, expr)
#define MASK_OP(NAME, expr)                                    \
    case OP_##NAME:                                            \
        for (uint32_t j = 0; j < k; j++) {                     \
            const uint32_t a = ma[j], b = mb[j], imm = c->imm; \
            (void)a, (void)b, (void)imm;                       \
            bits[j] = (expr);                                  \
        }                                                      \
        break;
#include "lane_ops.def"
#undef LANE_OP
#undef LANE_OP32
#undef LANE_OP16
#undef COND_OP
#undef MASK_OP
    default: break;
    }
    for (uint32_t j = 0; j < k; j++) md[j] = bits[j] & all;
}

typedef struct {
    const emu_machine *m;
    const pimisa_limit *lim;
    const pimisa_kinds *kinds;
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
            code = decode(m, j->lim, j->kinds,
                          (const unsigned char *)j->recs + idx * sizeof(pimisa_record), base,
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

#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)

#define RUN_TARGET EMU_CLONES
#define W 32
#define FN(name) CAT(name, _32)
#include "emu_width.inc"

#define W 16
#define FN(name) CAT(name, _16)
#include "emu_width.inc"

#if EMU_F16C
/* The 16-bit context once more, for x86-64 CPUs with AVX2 and F16C: binary16 ops convert with
 * vcvtph2ps (exact) and vcvtps2ph (round to nearest even, whatever MXCSR says), then take the
 * canonical NaN. Everything else is the same source as run_job_16. */
#pragma GCC push_options
#pragma GCC target("avx2,f16c")
INLINE __m256 h2f_lo(v16h a) { return _mm256_cvtph_ps(_mm256_castsi256_si128((__m256i)a)); }
INLINE __m256 h2f_hi(v16h a) { return _mm256_cvtph_ps(_mm256_extracti128_si256((__m256i)a, 1)); }
INLINE v16h f2h_join(__m256 lo, __m256 hi) {
    const int rne = _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC;
    const v16h h = (v16h)_mm256_set_m128i(_mm256_cvtps_ph(hi, rne), _mm256_cvtps_ph(lo, rne));
    return (h & ~(v16h)((v16s)(h & 0x7FFFu) > 0x7C00)) |
           ((v16h)((v16s)(h & 0x7FFFu) > 0x7C00) & PIMISA_CANONICAL_NAN_F16);
}
#undef VHALF_H
#define VHALF_H(a, op, b) f2h_join(h2f_lo(a) op h2f_lo(b), h2f_hi(a) op h2f_hi(b))
#define EMU_ISA_VARIANT
#undef RUN_TARGET
#define RUN_TARGET
#define W 16
#define FN(name) CAT(name, _16c)
#include "emu_width.inc"
#undef EMU_ISA_VARIANT
#pragma GCC pop_options
#endif

int emu_has_definition(uint32_t op, uint32_t lane_bits) {
    if (lane_bits == 32) return has_definition_32(op);
    if (lane_bits == 16) return has_definition_16(op);
    return 0;
}

int emu_hardware_fp16(void) {
#if EMU_F16C
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("f16c");
#else
    return 0;
#endif
}

static void run_job(job_t *j) {
    if (j->m->lane_bits == 32)
        run_job_32(j);
#if EMU_F16C
    else if (!j->m->soft_fp16 && emu_hardware_fp16())
        run_job_16c(j);
#endif
    else
        run_job_16(j);
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
    if (pimisa_width_index(m->lane_bits) < 0) return 0;
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
    job_t jobs[MAX_THREADS] = {{0}};
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
                  m->lanes >= 32 ? 0xFFFFFFFFll : (1ll << m->lanes) - 1, m->lane_bits);
    const pimisa_kinds *kinds = PIMISA_FIELD_LIMITS[pimisa_width_index(m->lane_bits)];
    units = m->channels * m->units_per_channel;
    nt = nthreads < 1 ? 1u : (uint32_t)nthreads;
    if (nt > MAX_THREADS) nt = MAX_THREADS;
    if (nt > units) nt = units;
    for (t = 0; t < nt; t++) {
        jobs[t] = (job_t){m, lim, kinds, recs, n, begin, end,
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
