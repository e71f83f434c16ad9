"""cffi builder (out-of-line API mode) of `pimisa._streamcore`, the band helpers of the streamed
quantize flow (cext/stream_core.c: hp16 layout, mx_packed readout, MX decode, CRC-32).

Run by setuptools at `pip install` through setup.py's `cffi_modules`. Compiled without
fast-math and with -ffp-contract=off: decoded floats must match numpy bit for bit.
"""

from pathlib import Path

from cffi import FFI

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

CDEF = """
void sc_place_hp16(const uint32_t *src, uint64_t rows, uint64_t cols, uint64_t src_stride,
                   uint32_t *base, uint64_t slots, uint64_t slot_words, uint32_t units,
                   uint32_t lanes, uint64_t region_words);
void sc_read_mx(const uint32_t *base, uint64_t slot_words, uint32_t units, uint32_t lanes,
                uint32_t m, uint32_t wpb, int col, uint64_t rows, uint64_t cols,
                uint8_t *codes, uint8_t *shared, uint8_t *micro);
void sc_decode_mx(const uint8_t *codes, const uint8_t *shared, const uint8_t *micro,
                  uint32_t m, int col, uint64_t cols, uint64_t r0, uint64_t r1, float *out);
int sc_init(void);
uint32_t sc_crc32(const uint8_t *buf, uint64_t len, uint32_t crc);
"""

ffibuilder = FFI()
ffibuilder.cdef(CDEF)
ffibuilder.set_source(
    "pimisa._streamcore",
    '#include "stream_core.h"',
    sources=[str((HERE / "stream_core.c").relative_to(ROOT))],
    include_dirs=[str(HERE.relative_to(ROOT))],
    depends=[str((HERE / "stream_core.h").relative_to(ROOT))],
    extra_compile_args=["-O3", "-std=c99", "-Wall", "-Wextra", "-ffp-contract=off",
                        "-fno-fast-math"],
)

if __name__ == "__main__":
    ffibuilder.compile(verbose=True)
