/* Generated from pimisa/isa.py, pimisa/emulator/opinfo.py and pimisa/validate.py by
 * `python -m pimisa.codegen`; do not edit. The emulator core's operand table and
 * record validator: fault codes in fault order, operand flags per opcode, the limit
 * kind of every field of every opcode, and the range of each kind on a machine. A
 * record's fault is the lowest code among its fields outside their range. */
#ifndef PIMISA_EMU_ISA_H
#define PIMISA_EMU_ISA_H
#include "pimisa_isa.h"

#define PIMISA_VALIDATOR_HASH 0x18ec1685d6134ec6ULL

/* Fault codes, in fault order. */
#define EMU_FAULT_OPCODE 1  /* unknown opcode */
#define EMU_FAULT_PRED 2  /* malformed predicate, a predicate on an unpredicable instruction, or its mask register out of range */
#define EMU_FAULT_BANK 3  /* single-bank target out of range */
#define EMU_FAULT_VREG 4  /* vector register out of range */
#define EMU_FAULT_MREG 5  /* mask register out of range */
#define EMU_FAULT_COND 6  /* unknown compare condition */
#define EMU_FAULT_IMM 7  /* immediate out of range (shift amount, lane mask) */
#define EMU_FAULT_COL 8  /* column out of range */
#define EMU_FAULT_FIELD 9  /* a field the instruction does not use is not 0 */
#define EMU_FAULT_ROW 10  /* row outside the launch's rows (checked at run time) */

/* Operand flags of PIMISA_OPINFO (bits 0-3: the SEM_ class). */
#define EMU_F_KNOWN 0x10  /* an instruction of the table */
#define EMU_F_PRED 0x20  /* predicable */
#define EMU_F_RD_V 0x40  /* rd is a vector register */
#define EMU_F_RA_V 0x80  /* ra is a vector register */
#define EMU_F_RB_V 0x100  /* rb is a vector register */
#define EMU_F_RD_M 0x200  /* rd is a mask register */
#define EMU_F_RA_M 0x400  /* ra is a mask register */
#define EMU_F_RB_M 0x800  /* rb is a mask register */
#define EMU_F_MEM 0x1000  /* row, col address memory */
#define EMU_F_CC 0x2000  /* compare condition */
#define EMU_F_IMM 0x4000  /* 32-bit immediate */
#define EMU_F_SHAMT 0x8000  /* immediate shift amount */
#define EMU_F_LANES 0x10000  /* immediate lane mask */

/* Class and operand flags of each opcode (0: no instruction). */
static const uint32_t PIMISA_OPINFO[256] = {
    [OP_NOP] = 0x00010,
    [OP_BARRIER] = 0x00010,
    [OP_LD] = 0x01071,
    [OP_ST] = 0x010B2,
    [OP_MOV] = 0x000F3,
    [OP_LI] = 0x04073,
    [OP_NOT] = 0x000F3,
    [OP_ADD] = 0x001F3,
    [OP_SUB] = 0x001F3,
    [OP_AND] = 0x001F3,
    [OP_OR] = 0x001F3,
    [OP_XOR] = 0x001F3,
    [OP_MIN] = 0x001F3,
    [OP_MAX] = 0x001F3,
    [OP_MINU] = 0x001F3,
    [OP_MAXU] = 0x001F3,
    [OP_MUL] = 0x001F3,
    [OP_ADDI] = 0x040F3,
    [OP_ANDI] = 0x040F3,
    [OP_ORI] = 0x040F3,
    [OP_XORI] = 0x040F3,
    [OP_SLLI] = 0x080F3,
    [OP_SRLI] = 0x080F3,
    [OP_SRAI] = 0x080F3,
    [OP_MINI] = 0x040F3,
    [OP_MAXI] = 0x040F3,
    [OP_MINUI] = 0x040F3,
    [OP_MAXUI] = 0x040F3,
    [OP_FADD] = 0x001F3,
    [OP_FSUB] = 0x001F3,
    [OP_FMUL] = 0x001F3,
    [OP_FMAC] = 0x001F4,
    [OP_CMP] = 0x023B5,
    [OP_CMPI] = 0x062B5,
    [OP_MAND] = 0x00E16,
    [OP_MOR] = 0x00E16,
    [OP_MXOR] = 0x00E16,
    [OP_MNOT] = 0x00616,
    [OP_MSET] = 0x10216,
    [OP_SHLV] = 0x001F3,
    [OP_SHRV] = 0x001F3,
    [OP_SRAV] = 0x001F3,
    [OP_SHRVR] = 0x001F3,
    [OP_BFX] = 0x040F3,
    [OP_BFI] = 0x040F4,
};

/* Limit kinds of a record field. */
#define PIMISA_LIM_ANY 0  /* any value */
#define PIMISA_LIM_UNKNOWN 1  /* an opcode of no instruction: never valid */
#define PIMISA_LIM_KNOWN 2  /* an opcode of the ISA table */
#define PIMISA_LIM_PRED 3  /* 0, or on (bit 7), maybe inverted (bit 6), with a mask register */
#define PIMISA_LIM_NO_PRED 4  /* 0: the instruction cannot be predicated */
#define PIMISA_LIM_BANK 5  /* a bank, or ALL_BANKS */
#define PIMISA_LIM_VREG 6  /* a vector register */
#define PIMISA_LIM_MREG 7  /* a mask register */
#define PIMISA_LIM_COND 8  /* a compare condition code */
#define PIMISA_LIM_COL 9  /* a column word of a row */
#define PIMISA_LIM_SHAMT 10  /* a shift amount 0..31 */
#define PIMISA_LIM_LANEMASK 11  /* a lane mask (bit k = lane k) */
#define PIMISA_LIM_ZERO 12  /* 0: the instruction does not use the field */
#define PIMISA_NUM_LIMITS 13
#define PIMISA_NUM_FIELDS 10

/* Valid values x: lo <= (x & keep) <= hi, or x == also; fault 0 = nothing to check. */
typedef struct {
    int64_t lo, hi, also, keep;
    int32_t fault;
} pimisa_limit;

/* Field j of a record (fields in record order). */
static inline int64_t pimisa_field(const pimisa_record *r, unsigned j) {
    switch (j) {
    case 0: return r->op;
    case 1: return r->pred;
    case 2: return r->rd;
    case 3: return r->ra;
    case 4: return r->rb;
    case 5: return r->cc;
    case 6: return r->bank;
    case 7: return r->col;
    case 8: return r->row;
    case 9: return r->imm;
    default: return 0;
    }
}

/* The range of every limit kind on a machine of these sizes. */
static inline void pimisa_limits(pimisa_limit lim[PIMISA_NUM_LIMITS], int64_t vector_registers, int64_t mask_registers, int64_t cols, int64_t banks, int64_t all_lanes) {
    (void)vector_registers;
    (void)mask_registers;
    (void)cols;
    (void)banks;
    (void)all_lanes;
    lim[PIMISA_LIM_ANY] = (pimisa_limit){(-2147483647LL - 1), 4294967295LL, 1099511627776LL, (0LL - 1), 0};
    lim[PIMISA_LIM_UNKNOWN] = (pimisa_limit){1LL, 0LL, 1099511627776LL, (0LL - 1), EMU_FAULT_OPCODE};
    lim[PIMISA_LIM_KNOWN] = (pimisa_limit){0LL, 255LL, 1099511627776LL, (0LL - 1), 0};
    lim[PIMISA_LIM_PRED] = (pimisa_limit){128LL, 127LL + mask_registers, 0LL, (-64LL - 1), EMU_FAULT_PRED};
    lim[PIMISA_LIM_NO_PRED] = (pimisa_limit){0LL, 0LL, 1099511627776LL, (0LL - 1), EMU_FAULT_PRED};
    lim[PIMISA_LIM_BANK] = (pimisa_limit){0LL, (0LL - 1) + banks, 255LL, (0LL - 1), EMU_FAULT_BANK};
    lim[PIMISA_LIM_VREG] = (pimisa_limit){0LL, (0LL - 1) + vector_registers, 1099511627776LL, (0LL - 1), EMU_FAULT_VREG};
    lim[PIMISA_LIM_MREG] = (pimisa_limit){0LL, (0LL - 1) + mask_registers, 1099511627776LL, (0LL - 1), EMU_FAULT_MREG};
    lim[PIMISA_LIM_COND] = (pimisa_limit){0LL, 9LL, 1099511627776LL, (0LL - 1), EMU_FAULT_COND};
    lim[PIMISA_LIM_COL] = (pimisa_limit){0LL, (0LL - 1) + cols, 1099511627776LL, (0LL - 1), EMU_FAULT_COL};
    lim[PIMISA_LIM_SHAMT] = (pimisa_limit){0LL, 31LL, 1099511627776LL, (0LL - 1), EMU_FAULT_IMM};
    lim[PIMISA_LIM_LANEMASK] = (pimisa_limit){0LL, 0LL + all_lanes, 1099511627776LL, (0LL - 1), EMU_FAULT_IMM};
    lim[PIMISA_LIM_ZERO] = (pimisa_limit){0LL, 0LL, 1099511627776LL, (0LL - 1), EMU_FAULT_FIELD};
}

/* The limit kind of each field (record order) of each opcode. */
static const uint8_t PIMISA_FIELD_LIMITS[256][PIMISA_NUM_FIELDS] = {
    {2, 4, 12, 12, 12, 12, 5, 12, 12, 12},  /* 0x00 */
    {2, 4, 12, 12, 12, 12, 5, 12, 12, 12},  /* 0x01 */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0x02 */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0x03 */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0x04 */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0x05 */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0x06 */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0x07 */
    {2, 3, 6, 12, 12, 12, 5, 9, 0, 12},  /* 0x08 */
    {2, 3, 12, 6, 12, 12, 5, 9, 0, 12},  /* 0x09 */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0x0a */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0x0b */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0x0c */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0x0d */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0x0e */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0x0f */
    {2, 3, 6, 6, 12, 12, 5, 12, 12, 12},  /* 0x10 */
    {2, 3, 6, 12, 12, 12, 5, 12, 12, 0},  /* 0x11 */
    {2, 3, 6, 6, 12, 12, 5, 12, 12, 12},  /* 0x12 */
    {2, 3, 6, 6, 6, 12, 5, 12, 12, 12},  /* 0x13 */
    {2, 3, 6, 6, 6, 12, 5, 12, 12, 12},  /* 0x14 */
    {2, 3, 6, 6, 6, 12, 5, 12, 12, 12},  /* 0x15 */
    {2, 3, 6, 6, 6, 12, 5, 12, 12, 12},  /* 0x16 */
    {2, 3, 6, 6, 6, 12, 5, 12, 12, 12},  /* 0x17 */
    {2, 3, 6, 6, 6, 12, 5, 12, 12, 12},  /* 0x18 */
    {2, 3, 6, 6, 6, 12, 5, 12, 12, 12},  /* 0x19 */
    {2, 3, 6, 6, 6, 12, 5, 12, 12, 12},  /* 0x1a */
    {2, 3, 6, 6, 6, 12, 5, 12, 12, 12},  /* 0x1b */
    {2, 3, 6, 6, 6, 12, 5, 12, 12, 12},  /* 0x1c */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0x1d */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0x1e */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0x1f */
    {2, 3, 6, 6, 12, 12, 5, 12, 12, 0},  /* 0x20 */
    {2, 3, 6, 6, 12, 12, 5, 12, 12, 0},  /* 0x21 */
    {2, 3, 6, 6, 12, 12, 5, 12, 12, 0},  /* 0x22 */
    {2, 3, 6, 6, 12, 12, 5, 12, 12, 0},  /* 0x23 */
    {2, 3, 6, 6, 12, 12, 5, 12, 12, 10},  /* 0x24 */
    {2, 3, 6, 6, 12, 12, 5, 12, 12, 10},  /* 0x25 */
    {2, 3, 6, 6, 12, 12, 5, 12, 12, 10},  /* 0x26 */
    {2, 3, 6, 6, 12, 12, 5, 12, 12, 0},  /* 0x27 */
    {2, 3, 6, 6, 12, 12, 5, 12, 12, 0},  /* 0x28 */
    {2, 3, 6, 6, 12, 12, 5, 12, 12, 0},  /* 0x29 */
    {2, 3, 6, 6, 12, 12, 5, 12, 12, 0},  /* 0x2a */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0x2b */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0x2c */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0x2d */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0x2e */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0x2f */
    {2, 3, 6, 6, 6, 12, 5, 12, 12, 12},  /* 0x30 */
    {2, 3, 6, 6, 6, 12, 5, 12, 12, 12},  /* 0x31 */
    {2, 3, 6, 6, 6, 12, 5, 12, 12, 12},  /* 0x32 */
    {2, 3, 6, 6, 6, 12, 5, 12, 12, 12},  /* 0x33 */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0x34 */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0x35 */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0x36 */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0x37 */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0x38 */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0x39 */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0x3a */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0x3b */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0x3c */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0x3d */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0x3e */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0x3f */
    {2, 3, 7, 6, 6, 8, 5, 12, 12, 12},  /* 0x40 */
    {2, 3, 7, 6, 12, 8, 5, 12, 12, 0},  /* 0x41 */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0x42 */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0x43 */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0x44 */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0x45 */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0x46 */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0x47 */
    {2, 4, 7, 7, 7, 12, 5, 12, 12, 12},  /* 0x48 */
    {2, 4, 7, 7, 7, 12, 5, 12, 12, 12},  /* 0x49 */
    {2, 4, 7, 7, 7, 12, 5, 12, 12, 12},  /* 0x4a */
    {2, 4, 7, 7, 12, 12, 5, 12, 12, 12},  /* 0x4b */
    {2, 4, 7, 12, 12, 12, 5, 12, 12, 11},  /* 0x4c */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0x4d */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0x4e */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0x4f */
    {2, 3, 6, 6, 6, 12, 5, 12, 12, 12},  /* 0x50 */
    {2, 3, 6, 6, 6, 12, 5, 12, 12, 12},  /* 0x51 */
    {2, 3, 6, 6, 6, 12, 5, 12, 12, 12},  /* 0x52 */
    {2, 3, 6, 6, 6, 12, 5, 12, 12, 12},  /* 0x53 */
    {2, 3, 6, 6, 12, 12, 5, 12, 12, 0},  /* 0x54 */
    {2, 3, 6, 6, 12, 12, 5, 12, 12, 0},  /* 0x55 */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0x56 */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0x57 */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0x58 */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0x59 */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0x5a */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0x5b */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0x5c */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0x5d */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0x5e */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0x5f */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0x60 */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0x61 */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0x62 */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0x63 */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0x64 */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0x65 */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0x66 */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0x67 */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0x68 */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0x69 */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0x6a */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0x6b */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0x6c */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0x6d */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0x6e */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0x6f */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0x70 */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0x71 */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0x72 */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0x73 */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0x74 */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0x75 */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0x76 */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0x77 */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0x78 */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0x79 */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0x7a */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0x7b */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0x7c */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0x7d */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0x7e */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0x7f */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0x80 */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0x81 */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0x82 */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0x83 */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0x84 */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0x85 */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0x86 */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0x87 */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0x88 */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0x89 */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0x8a */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0x8b */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0x8c */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0x8d */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0x8e */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0x8f */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0x90 */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0x91 */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0x92 */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0x93 */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0x94 */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0x95 */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0x96 */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0x97 */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0x98 */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0x99 */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0x9a */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0x9b */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0x9c */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0x9d */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0x9e */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0x9f */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0xa0 */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0xa1 */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0xa2 */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0xa3 */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0xa4 */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0xa5 */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0xa6 */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0xa7 */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0xa8 */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0xa9 */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0xaa */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0xab */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0xac */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0xad */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0xae */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0xaf */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0xb0 */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0xb1 */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0xb2 */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0xb3 */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0xb4 */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0xb5 */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0xb6 */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0xb7 */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0xb8 */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0xb9 */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0xba */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0xbb */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0xbc */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0xbd */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0xbe */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0xbf */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0xc0 */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0xc1 */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0xc2 */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0xc3 */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0xc4 */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0xc5 */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0xc6 */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0xc7 */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0xc8 */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0xc9 */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0xca */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0xcb */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0xcc */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0xcd */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0xce */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0xcf */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0xd0 */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0xd1 */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0xd2 */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0xd3 */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0xd4 */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0xd5 */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0xd6 */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0xd7 */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0xd8 */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0xd9 */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0xda */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0xdb */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0xdc */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0xdd */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0xde */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0xdf */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0xe0 */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0xe1 */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0xe2 */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0xe3 */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0xe4 */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0xe5 */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0xe6 */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0xe7 */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0xe8 */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0xe9 */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0xea */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0xeb */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0xec */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0xed */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0xee */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0xef */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0xf0 */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0xf1 */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0xf2 */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0xf3 */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0xf4 */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0xf5 */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0xf6 */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0xf7 */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0xf8 */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0xf9 */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0xfa */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0xfb */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0xfc */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0xfd */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0xfe */
    {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},  /* 0xff */
};

#endif
