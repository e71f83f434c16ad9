"""cffi build script (out-of-line API mode) of the emulator core, module `pimisa._emucore`.

setup.py lists "cext/build_emu.py:ffibuilder" in cffi_modules, so `pip install` compiles it.
`make_builder` also serves the sanitizer build (scripts/asan_emu.sh), which compiles the same
sources under another module name with extra flags. The core is compiled with
-ffp-contract=off and never with fast-math: float results must match numpy bit for bit.
"""

from __future__ import annotations

import os
import shlex
import shutil
import sysconfig
from pathlib import Path

from cffi import FFI

HERE = Path(__file__).resolve().parent
# -fno-tree-loop-distribute-patterns: short copy loops stay vector loops instead of becoming
# memcpy calls (`rep movsq`, slow for the few hundred bytes the core copies at a time).
FLAGS = ["-O3", "-std=gnu11", "-ffp-contract=off", "-fno-fast-math", "-pthread", "-Wall",
         "-Wno-psabi", "-fno-tree-loop-distribute-patterns"]

CDEF = """
typedef struct { uint8_t op; uint8_t pred; uint8_t rd; uint8_t ra; uint8_t rb; uint8_t cc;
                 uint8_t bank; uint8_t col; uint32_t row; int32_t imm; ...; } pimisa_record;
typedef struct {
    void *mem; void *vregs; uint32_t *masks;
    uint64_t mem_words; uint64_t vreg_words; uint64_t mask_words;
    uint64_t rows; uint64_t tile_rows;
    uint32_t cols; uint32_t lanes; uint32_t nv; uint32_t nm;
    uint32_t channels; uint32_t units_per_channel; uint32_t banks; uint32_t banks_per_unit;
    uint32_t lane_bits; uint32_t soft_fp16;
    ...;
} emu_machine;
typedef struct {
    int32_t code; uint64_t steps; uint64_t index; uint64_t slot; uint64_t row; ...;
} emu_status;
#define PIMISA_ISA_HASH ...
#define PIMISA_VALIDATOR_HASH ...
#define EMU_OK ...
#define EMU_FAULT_OPCODE ...
#define EMU_FAULT_PRED ...
#define EMU_FAULT_BANK ...
#define EMU_FAULT_VREG ...
#define EMU_FAULT_MREG ...
#define EMU_FAULT_COND ...
#define EMU_FAULT_IMM ...
#define EMU_FAULT_COL ...
#define EMU_FAULT_FIELD ...
#define EMU_FAULT_ROW ...
#define EMU_BAD_MACHINE ...
#define EMU_F_KNOWN ...
#define EMU_F_PRED ...
#define EMU_F_RD_V ...
#define EMU_F_RA_V ...
#define EMU_F_RB_V ...
#define EMU_F_RD_M ...
#define EMU_F_RA_M ...
#define EMU_F_RB_M ...
#define EMU_F_MEM ...
#define EMU_F_CC ...
#define EMU_F_IMM ...
#define EMU_F_SHAMT ...
#define EMU_F_LANES ...
uint32_t emu_op_info(uint32_t op);
int emu_has_definition(uint32_t op, uint32_t lane_bits);
int emu_hardware_fp16(void);
int emu_run(const emu_machine *m, const pimisa_record *recs, uint64_t n, uint64_t begin,
            uint64_t end, int nthreads, emu_status *status);
"""


def _require_compiler() -> None:
    """Fail the install with a clear message when no C compiler is available."""
    cc = os.environ.get("CC") or sysconfig.get_config_var("CC") or "cc"
    exe = shlex.split(cc)[0]
    if shutil.which(exe) is None:
        raise SystemExit(
            f"pimisa: no C compiler found ({exe!r}): the emulator core is compiled at install "
            "time. Install one (e.g. `apt-get install build-essential` or `xcode-select "
            "--install`), or set CC, then reinstall."
        )


def make_builder(
    module: str = "pimisa._emucore", extra_flags: tuple[str, ...] = (), absolute: bool = False
) -> FFI:
    """An FFI builder for the core (source paths relative to the cwd unless `absolute`)."""
    base = HERE if absolute else Path(os.path.relpath(HERE, Path.cwd()))
    builder = FFI()
    builder.cdef(CDEF)
    builder.set_source(
        module,
        '#include "emu_core.h"',
        sources=[str(base / "emu_core.c")],
        include_dirs=[str(base)],
        depends=[str(base / name) for name in ("emu_core.h", "emu_isa.h", "pimisa_isa.h",
                                                  "lane_ops.def", "emu_width.inc")],
        extra_compile_args=FLAGS + list(extra_flags),
        extra_link_args=["-pthread"] + list(extra_flags),
    )
    return builder


if __name__ == "__cffi__":
    _require_compiler()
ffibuilder = make_builder()

if __name__ == "__main__":
    ffibuilder.compile(verbose=True)
