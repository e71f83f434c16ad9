/* Band helpers of the streamed quantize flow; see stream_core.h. */
#include "stream_core.h"

#include <string.h>

#define SUB 16
#define PAIRS 8

/* The tiles of sc_place_hp16 (all but the zeroed ones); `lanes` is a constant in the
   specialized callers below, so the transposing loops unroll. */
static inline void place_rows(const uint32_t *src, uint64_t rows, uint64_t cols,
                              uint64_t src_stride, uint32_t *base, uint64_t slot_words,
                              uint32_t units, const uint32_t lanes) {
    const uint64_t tile_cols = (uint64_t)SUB * lanes;
    const uint64_t tr = (rows + SUB - 1) / SUB, tc = (cols + tile_cols - 1) / tile_cols;
    const uint64_t ul = (uint64_t)units * lanes;
    for (uint64_t r = 0; r < tr * SUB; r++) {
        const uint32_t *row = r < rows ? src + r * src_stride : NULL;
        const uint64_t i = r % SUB;
        for (uint64_t c = 0; c < tc; c++) {
            const uint64_t t = r / SUB * tc + c, slot = t / units, u = t % units;
            uint32_t *dst = base + slot * slot_words + (SUB * i * units + u) * lanes;
            const uint64_t c0 = c * tile_cols;
            if (row != NULL && c0 + tile_cols <= cols) {
                const uint32_t *s = row + c0;
                for (uint32_t j = 0; j < SUB; j++)
                    for (uint32_t p = 0; p < lanes; p++) dst[j * ul + p] = s[p * SUB + j];
            } else {
                for (uint32_t j = 0; j < SUB; j++)
                    for (uint32_t p = 0; p < lanes; p++) {
                        const uint64_t col = c0 + (uint64_t)p * SUB + j;
                        dst[j * ul + p] = row != NULL && col < cols ? row[col] : 0;
                    }
            }
        }
    }
}

void sc_place_hp16(const uint32_t *src, uint64_t rows, uint64_t cols, uint64_t src_stride,
                   uint32_t *base, uint64_t slots, uint64_t slot_words, uint32_t units,
                   uint32_t lanes, uint64_t region_words) {
    if (lanes == 8)
        place_rows(src, rows, cols, src_stride, base, slot_words, units, 8);
    else if (lanes == 16)
        place_rows(src, rows, cols, src_stride, base, slot_words, units, 16);
    else
        place_rows(src, rows, cols, src_stride, base, slot_words, units, lanes);
    const uint64_t tile_cols = (uint64_t)SUB * lanes, ul = (uint64_t)units * lanes;
    const uint64_t tiles = (rows + SUB - 1) / SUB * ((cols + tile_cols - 1) / tile_cols);
    for (uint64_t t = tiles; t < slots * units; t++) {
        uint32_t *dst = base + t / units * slot_words + (t % units) * lanes;
        for (uint64_t w = 0; w < region_words; w++) memset(dst + w * ul, 0, lanes * sizeof *dst);
    }
}

/* The fields of one packed block (wpb words, word k at w[k * stride]). */
static inline void unpack_block(const uint32_t *w, uint64_t stride, uint32_t m, uint32_t wpb,
                                uint8_t *exp, uint8_t *micro_bits, uint8_t code[SUB]) {
    uint32_t words[8] = {0};
    for (uint32_t k = 0; k < wpb; k++) words[k] = w[k * stride];
    *exp = (uint8_t)(words[0] & 0xFF);
    *micro_bits = (uint8_t)((words[0] >> 8) & 0xFF);
    const uint32_t bits = m + 1, mask = (1u << bits) - 1;
    for (uint32_t e = 0; e < SUB; e++) {
        const uint32_t off = SUB + e * bits, k = off / 32, sh = off % 32;
        const uint64_t pair = (uint64_t)words[k] | (uint64_t)words[k + 1] << 32;
        code[e] = (uint8_t)((pair >> sh) & mask);
    }
}

/* sc_read_mx for one format: `m` and `wpb` are constants in the callers below, so the field
   extraction unrolls into constant shifts. */
static inline void read_mx(const uint32_t *base, uint64_t slot_words, uint32_t units,
                           uint32_t lanes, const uint32_t m, const uint32_t wpb, int col,
                           uint64_t rows, uint64_t cols, uint8_t *codes, uint8_t *shared,
                           uint8_t *micro) {
    const uint64_t ul = (uint64_t)units * lanes;
    const uint64_t tile_cols = (uint64_t)SUB * lanes;
    const uint64_t tc = (cols + tile_cols - 1) / tile_cols;
    uint8_t exp, mbits, code[SUB];
    if (!col) {
        const uint64_t nb = (cols + SUB - 1) / SUB;
        for (uint64_t r = 0; r < rows; r++) {
            const uint64_t b = r % SUB;
            uint8_t *crow = codes + r * nb * SUB, *mrow = micro + r * nb * PAIRS;
            for (uint64_t j = 0; j < nb; j++) {
                const uint64_t t = r / SUB * tc + j / lanes, p = j % lanes;
                const uint32_t *w = base + t / units * slot_words
                                    + (b * wpb * units + t % units) * lanes + p;
                unpack_block(w, ul, m, wpb, &exp, &mbits, code);
                shared[r * nb + j] = exp;
                if (exp == 255) mbits = 0, memset(code, 0, sizeof code);
                memcpy(crow + j * SUB, code, SUB);
                for (uint32_t k = 0; k < PAIRS; k++) mrow[j * PAIRS + k] = (mbits >> k) & 1;
            }
        }
        return;
    }
    const uint64_t nb = (rows + SUB - 1) / SUB;
    for (uint64_t tr = 0; tr < nb; tr++)
        for (uint64_t c = 0; c < tc; c++) {
            const uint64_t t = tr * tc + c;
            const uint32_t *tile = base + t / units * slot_words + (t % units) * lanes;
            for (uint32_t p = 0; p < lanes; p++)
                for (uint32_t b = 0; b < SUB; b++) {
                    const uint64_t column = (c * lanes + p) * SUB + b;
                    if (column >= cols) break;
                    unpack_block(tile + (uint64_t)b * wpb * ul + p, ul, m, wpb, &exp, &mbits,
                                 code);
                    if (exp == 255) mbits = 0, memset(code, 0, sizeof code);
                    shared[tr * cols + column] = exp;
                    for (uint32_t e = 0; e < SUB; e++)
                        codes[(tr * SUB + e) * cols + column] = code[e];
                    for (uint32_t k = 0; k < PAIRS; k++)
                        micro[(tr * PAIRS + k) * cols + column] = (mbits >> k) & 1;
                }
        }
}

void sc_read_mx(const uint32_t *base, uint64_t slot_words, uint32_t units, uint32_t lanes,
                uint32_t m, uint32_t wpb, int col, uint64_t rows, uint64_t cols,
                uint8_t *codes, uint8_t *shared, uint8_t *micro) {
    if (m == 7 && wpb == 5)
        read_mx(base, slot_words, units, lanes, 7, 5, col, rows, cols, codes, shared, micro);
    else if (m == 4 && wpb == 3)
        read_mx(base, slot_words, units, lanes, 4, 3, col, rows, cols, codes, shared, micro);
    else if (m == 2 && wpb == 2)
        read_mx(base, slot_words, units, lanes, 2, 2, col, rows, cols, codes, shared, micro);
    else
        read_mx(base, slot_words, units, lanes, m, wpb, col, rows, cols, codes, shared, micro);
}

/* values[code] = +-M; scales[E << 1 | d] = 2 ** (E - d + 1 - m - 127) exactly (subnormal
   powers included), NaN for E = 255: the tables of pimisa.mx.formats.shared_micro. */
static void decode_tables(uint32_t m, float values[256], float scales[512]) {
    for (uint32_t code = 0; code < 256; code++) {
        const float mag = (float)(code & ((1u << m) - 1));
        values[code] = code < (2u << m) ? ((code >> m) ? -mag : mag) : 0.0f;
    }
    for (int32_t i = 0; i < 512; i++) {
        const int32_t e = i >> 1, d = i & 1, field = e - d + 1 - (int32_t)m;
        uint32_t bits = field > 0 ? (uint32_t)field << 23 : 0x400000u >> (-field < 31 ? -field : 31);
        if (e == 255) bits = 0x7FC00000u;
        memcpy(&scales[i], &bits, sizeof bits);
    }
}

void sc_decode_mx(const uint8_t *codes, const uint8_t *shared, const uint8_t *micro,
                  uint32_t m, int col, uint64_t cols, uint64_t r0, uint64_t r1, float *out) {
    float values[256], scales[512];
    decode_tables(m, values, scales);
    if (!col) {
        const uint64_t nb = (cols + SUB - 1) / SUB, whole = cols / SUB;
        for (uint64_t r = r0; r < r1; r++) {
            const uint8_t *c = codes + r * nb * SUB, *e = shared + r * nb;
            const uint8_t *d = micro + r * nb * PAIRS;
            float *o = out + (r - r0) * cols;
            for (uint64_t j = 0; j < whole; j++) {
                const uint32_t ex = (uint32_t)e[j] << 1;
                for (uint32_t k = 0; k < PAIRS; k++) {
                    const float sc = scales[ex | (d[j * PAIRS + k] & 1)];
                    o[j * SUB + 2 * k] = values[c[j * SUB + 2 * k]] * sc;
                    o[j * SUB + 2 * k + 1] = values[c[j * SUB + 2 * k + 1]] * sc;
                }
            }
            for (uint64_t x = whole * SUB; x < cols; x++)
                o[x] = values[c[x]] * scales[(uint32_t)e[x / SUB] << 1 | (d[x / 2] & 1)];
        }
        return;
    }
    for (uint64_t r = r0; r < r1; r++) {
        const uint8_t *c = codes + r * cols, *e = shared + r / SUB * cols;
        const uint8_t *d = micro + r / 2 * cols;
        float *o = out + (r - r0) * cols;
        for (uint64_t x = 0; x < cols; x++)
            o[x] = values[c[x]] * scales[(uint32_t)e[x] << 1 | (d[x] & 1)];
    }
}

/* CRC-32 (ZIP, zlib.crc32): carry-less multiplication folding (Intel, "Fast CRC Computation
   for Generic Polynomials Using PCLMULQDQ Instruction", 2009; the bit-reflected constants of
   its appendix) for whole 16-byte blocks of at least 64 bytes, a table for the rest. */
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define SC_HAVE_CLMUL 1

__attribute__((target("pclmul,sse4.1")))
static uint32_t crc32_clmul(const uint8_t *buf, uint64_t len, uint32_t crc) {
    /* len >= 64, a multiple of 16; crc is the inverted running value */
    const __m128i k1k2 = _mm_set_epi64x(0x01c6e41596LL, 0x0154442bd4LL);
    const __m128i k3k4 = _mm_set_epi64x(0x00ccaa009eLL, 0x01751997d0LL);
    const __m128i k5k0 = _mm_set_epi64x(0, 0x0163cd6124LL);
    const __m128i poly = _mm_set_epi64x(0x01f7011641LL, 0x01db710641LL);
    __m128i x0, x1, x2, x3, x4, x5, x6, x7, x8;
    x1 = _mm_loadu_si128((const __m128i *)(buf + 0x00));
    x2 = _mm_loadu_si128((const __m128i *)(buf + 0x10));
    x3 = _mm_loadu_si128((const __m128i *)(buf + 0x20));
    x4 = _mm_loadu_si128((const __m128i *)(buf + 0x30));
    x1 = _mm_xor_si128(x1, _mm_cvtsi32_si128((int)crc));
    x0 = k1k2;
    buf += 64;
    len -= 64;
    while (len >= 64) {
        x5 = _mm_clmulepi64_si128(x1, x0, 0x00);
        x6 = _mm_clmulepi64_si128(x2, x0, 0x00);
        x7 = _mm_clmulepi64_si128(x3, x0, 0x00);
        x8 = _mm_clmulepi64_si128(x4, x0, 0x00);
        x1 = _mm_clmulepi64_si128(x1, x0, 0x11);
        x2 = _mm_clmulepi64_si128(x2, x0, 0x11);
        x3 = _mm_clmulepi64_si128(x3, x0, 0x11);
        x4 = _mm_clmulepi64_si128(x4, x0, 0x11);
        x1 = _mm_xor_si128(_mm_xor_si128(x1, x5),
                           _mm_loadu_si128((const __m128i *)(buf + 0x00)));
        x2 = _mm_xor_si128(_mm_xor_si128(x2, x6),
                           _mm_loadu_si128((const __m128i *)(buf + 0x10)));
        x3 = _mm_xor_si128(_mm_xor_si128(x3, x7),
                           _mm_loadu_si128((const __m128i *)(buf + 0x20)));
        x4 = _mm_xor_si128(_mm_xor_si128(x4, x8),
                           _mm_loadu_si128((const __m128i *)(buf + 0x30)));
        buf += 64;
        len -= 64;
    }
    x0 = k3k4;
    x5 = _mm_clmulepi64_si128(x1, x0, 0x00);
    x1 = _mm_xor_si128(_mm_xor_si128(_mm_clmulepi64_si128(x1, x0, 0x11), x2), x5);
    x5 = _mm_clmulepi64_si128(x1, x0, 0x00);
    x1 = _mm_xor_si128(_mm_xor_si128(_mm_clmulepi64_si128(x1, x0, 0x11), x3), x5);
    x5 = _mm_clmulepi64_si128(x1, x0, 0x00);
    x1 = _mm_xor_si128(_mm_xor_si128(_mm_clmulepi64_si128(x1, x0, 0x11), x4), x5);
    while (len >= 16) {
        x2 = _mm_loadu_si128((const __m128i *)buf);
        x5 = _mm_clmulepi64_si128(x1, x0, 0x00);
        x1 = _mm_xor_si128(_mm_xor_si128(_mm_clmulepi64_si128(x1, x0, 0x11), x2), x5);
        buf += 16;
        len -= 16;
    }
    /* 128 -> 64 bits */
    x2 = _mm_clmulepi64_si128(x1, x0, 0x10);
    x3 = _mm_setr_epi32(~0, 0, ~0, 0);
    x1 = _mm_xor_si128(_mm_srli_si128(x1, 8), x2);
    x0 = k5k0;
    x2 = _mm_srli_si128(x1, 4);
    x1 = _mm_and_si128(x1, x3);
    x1 = _mm_xor_si128(_mm_clmulepi64_si128(x1, x0, 0x00), x2);
    /* Barrett reduction to 32 bits */
    x0 = poly;
    x2 = _mm_and_si128(x1, x3);
    x2 = _mm_clmulepi64_si128(x2, x0, 0x10);
    x2 = _mm_and_si128(x2, x3);
    x2 = _mm_clmulepi64_si128(x2, x0, 0x00);
    x1 = _mm_xor_si128(x1, x2);
    return (uint32_t)_mm_extract_epi32(x1, 1);
}
#endif

static uint32_t crc_table[256];
static int crc_clmul;

int sc_init(void) {
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        crc_table[i] = c;
    }
#ifdef SC_HAVE_CLMUL
    __builtin_cpu_init();
    crc_clmul = __builtin_cpu_supports("pclmul") && __builtin_cpu_supports("sse4.1");
#endif
    return crc_clmul;
}

uint32_t sc_crc32(const uint8_t *buf, uint64_t len, uint32_t crc) {
    crc = ~crc;
#ifdef SC_HAVE_CLMUL
    if (len >= 64 && crc_clmul) {
        const uint64_t whole = len & ~(uint64_t)15;
        crc = crc32_clmul(buf, whole, crc);
        buf += whole;
        len -= whole;
    }
#endif
    while (len--) crc = crc_table[(crc ^ *buf++) & 0xFF] ^ (crc >> 8);
    return ~crc;
}
