/* pimisa emulator core: runs PIM command streams over a whole device's state.
 *
 * State layout (C order; the Python side owns the buffers; mem and vregs hold lanes of
 * lane_bits bits, uint32_t or uint16_t; masks are uint32_t words):
 *   mem   [rows][cols][units][lanes]  unit rows of every PIM unit, so one all-bank command on
 *                                     (row, col) touches one contiguous slab
 *   vregs [nv][units][lanes]
 *   masks [nm][units]                 bit k = lane k; bits >= lanes are always 0
 * units = channels x units_per_channel, channel-major.
 *
 * A run executes steps [begin, end) of a launch: step t is command t % n of slot t / n, whose
 * memory rows are offset by slot x tile_rows. Every index is checked before use; the first
 * invalid command stops the run (the state then holds the effect of every earlier step).
 * Records are checked against the generated limits table (emu_isa.h, from pimisa/validate.py),
 * so the core faults exactly where, and with the code, the Python validator does.
 */
#ifndef PIMISA_EMU_CORE_H
#define PIMISA_EMU_CORE_H

#include <stdint.h>

#include "emu_isa.h"

typedef struct {
    void *mem;            /* lanes of lane_bits bits */
    void *vregs;          /* lanes of lane_bits bits */
    uint32_t *masks;
    uint64_t mem_words;   /* sizes of the three buffers in elements, checked against the geometry */
    uint64_t vreg_words;
    uint64_t mask_words;
    uint64_t rows;        /* allocated unit rows (slots x tile_rows) */
    uint64_t tile_rows;   /* row base added per slot */
    uint32_t cols;
    uint32_t lanes;
    uint32_t nv;          /* vector registers */
    uint32_t nm;          /* mask registers */
    uint32_t channels;    /* all channels of all stacks */
    uint32_t units_per_channel;
    uint32_t banks;       /* banks per channel */
    uint32_t banks_per_unit;
    uint32_t lane_bits;   /* 32 or 16 */
    uint32_t soft_fp16;   /* 1: binary16 conversions in software even on a CPU with F16C */
} emu_machine;

typedef struct {
    int32_t code;         /* EMU_OK or a fault code */
    uint32_t reserved;
    uint64_t steps;       /* steps completed */
    uint64_t index;       /* faulting command index */
    uint64_t slot;        /* faulting slot */
    uint64_t row;         /* absolute unit row of a row fault */
} emu_status;

/* Status codes: EMU_OK, a fault code (generated in emu_isa.h, in fault order) or this. */
#define EMU_OK 0
#define EMU_BAD_MACHINE 100

/* emu_op_info(op): PIMISA_OPINFO[op] (semantics class and EMU_F_* flags, emu_isa.h). */
uint32_t emu_op_info(uint32_t op);
int emu_has_definition(uint32_t op, uint32_t lane_bits);
/* 1 when the 16-bit FP16 ops run on the CPU's F16C conversions (x86-64 with AVX2 and F16C). */
int emu_hardware_fp16(void);
int emu_run(const emu_machine *m, const pimisa_record *recs, uint64_t n, uint64_t begin,
            uint64_t end, int nthreads, emu_status *status);

#endif
