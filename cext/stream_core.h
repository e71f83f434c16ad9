/* Band helpers of the streamed quantize flow (pimisa.streamcore): one pass each over a band for
   the hp16 input layout, the mx_packed readout and the MX9/MX6/MX4 decode. The numpy versions
   (pimisa.layout.place_subtiles, pimisa.mx.layout.read_codes, pimisa.mx.formats.decode) are the
   reference; tests/test_streamcore.py checks these agree with them bit for bit.

   A region view is the words of one region in every tile of a launch: word w of the region in
   unit u, lane l of slot s is base[s * slot_words + (w * units + u) * lanes + l]. */
#ifndef PIMISA_STREAM_CORE_H
#define PIMISA_STREAM_CORE_H

#include <stdint.h>

/* Place a (rows, cols) float32 array (bits; row i at src + i * src_stride) as hp16 sub-tiles:
   the first 256 region words of tile t (row-major over the zero-padded tile grid, tiles of 16
   rows x 16 * lanes columns) hold its 16 x 16 sub-tiles, one per lane; every tile from the
   grid's end to slots * units is zeroed over all region_words. */
void sc_place_hp16(const uint32_t *src, uint64_t rows, uint64_t cols, uint64_t src_stride,
                   uint32_t *base, uint64_t slots, uint64_t slot_words, uint32_t units,
                   uint32_t lanes, uint64_t region_words);

/* Read the MX blocks (m magnitude bits, wpb words each) of a (rows, cols) tensor from an
   mx_packed region view into golden-model arrays: row blocks (col = 0) codes (rows, nb * 16),
   shared (rows, nb), micro (rows, nb * 8), nb = ceil(cols / 16); column blocks (col = 1)
   codes (nb * 16, cols), shared (nb, cols), micro (nb * 8, cols), nb = ceil(rows / 16).
   A block with E = 255 (NaN/Inf) gets zero codes and micro-exponents. */
void sc_read_mx(const uint32_t *base, uint64_t slot_words, uint32_t units, uint32_t lanes,
                uint32_t m, uint32_t wpb, int col, uint64_t rows, uint64_t cols,
                uint8_t *codes, uint8_t *shared, uint8_t *micro);

/* The float32 values of rows r0..r1-1 of golden-model arrays (the shapes of sc_read_mx) of a
   (rows, cols) tensor into out (r1 - r0, cols): code value +-M times 2 ** (E - d + 1 - m - 127),
   NaN where E = 255. */
void sc_decode_mx(const uint8_t *codes, const uint8_t *shared, const uint8_t *micro,
                  uint32_t m, int col, uint64_t cols, uint64_t r0, uint64_t r1, float *out);

/* Set up the CRC-32 table and CPU check (call once, before sc_crc32); 1 when sc_crc32 folds
   with carry-less multiplication, 0 when it runs on the table alone (slower than zlib). */
int sc_init(void);

/* zlib.crc32(buf[:len], crc): the ZIP CRC-32 of len bytes continuing from crc. */
uint32_t sc_crc32(const uint8_t *buf, uint64_t len, uint32_t crc);

#endif
