/* Generated from pimisa/isa.py by `python -m pimisa.codegen`; do not edit. */
#ifndef PIMISA_ISA_H
#define PIMISA_ISA_H
#include <stdint.h>

#define PIMISA_ISA_HASH 0x8633ffe0229f2f73ULL
#define PIMISA_ALL_BANKS 0xFF
#define PIMISA_PRED_ON 0x80
#define PIMISA_PRED_INVERT 0x40
#define PIMISA_PRED_MASK_BITS 0x3F
#define PIMISA_CANONICAL_NAN 0x7FC00000u
#define PIMISA_CANONICAL_NAN_F16 0x7E00u
#define PIMISA_CANONICAL_NAN_BF16 0x7FC0u

typedef struct {
    uint8_t op;
    uint8_t pred;
    uint8_t rd;
    uint8_t ra;
    uint8_t rb;
    uint8_t cc;
    uint8_t bank;
    uint8_t col;
    uint32_t row;
    int32_t imm;
} pimisa_record; /* 16 bytes */

#define OP_NOP 0x00  /* nop */
#define OP_BARRIER 0x01  /* barrier */
#define OP_LD 0x08  /* ld vd, [row, col] */
#define OP_ST 0x09  /* st va, [row, col] */
#define OP_MOV 0x10  /* mov vd, va */
#define OP_LI 0x11  /* li vd, imm */
#define OP_NOT 0x12  /* not vd, va */
#define OP_ADD 0x13  /* add vd, va, vb */
#define OP_SUB 0x14  /* sub vd, va, vb */
#define OP_AND 0x15  /* and vd, va, vb */
#define OP_OR 0x16  /* or vd, va, vb */
#define OP_XOR 0x17  /* xor vd, va, vb */
#define OP_MIN 0x18  /* min vd, va, vb */
#define OP_MAX 0x19  /* max vd, va, vb */
#define OP_MINU 0x1A  /* minu vd, va, vb */
#define OP_MAXU 0x1B  /* maxu vd, va, vb */
#define OP_MUL 0x1C  /* mul vd, va, vb */
#define OP_ADDI 0x20  /* addi vd, va, imm */
#define OP_ANDI 0x21  /* andi vd, va, imm */
#define OP_ORI 0x22  /* ori vd, va, imm */
#define OP_XORI 0x23  /* xori vd, va, imm */
#define OP_SLLI 0x24  /* slli vd, va, sh */
#define OP_SRLI 0x25  /* srli vd, va, sh */
#define OP_SRAI 0x26  /* srai vd, va, sh */
#define OP_MINI 0x27  /* mini vd, va, imm */
#define OP_MAXI 0x28  /* maxi vd, va, imm */
#define OP_MINUI 0x29  /* minui vd, va, imm */
#define OP_MAXUI 0x2A  /* maxui vd, va, imm */
#define OP_FADD 0x30  /* fadd vd, va, vb */
#define OP_FSUB 0x31  /* fsub vd, va, vb */
#define OP_FMUL 0x32  /* fmul vd, va, vb */
#define OP_FMAC 0x33  /* fmac vd, va, vb */
#define OP_FADD_F16 0x34  /* fadd.f16 vd, va, vb */
#define OP_FSUB_F16 0x35  /* fsub.f16 vd, va, vb */
#define OP_FMUL_F16 0x36  /* fmul.f16 vd, va, vb */
#define OP_FMAC_F16 0x37  /* fmac.f16 vd, va, vb */
#define OP_FADD_BF16 0x38  /* fadd.bf16 vd, va, vb */
#define OP_FSUB_BF16 0x39  /* fsub.bf16 vd, va, vb */
#define OP_FMUL_BF16 0x3A  /* fmul.bf16 vd, va, vb */
#define OP_FMAC_BF16 0x3B  /* fmac.bf16 vd, va, vb */
#define OP_CMP 0x40  /* cmp.<cc> md, va, vb */
#define OP_CMPI 0x41  /* cmpi.<cc> md, va, imm */
#define OP_MAND 0x48  /* mand md, ma, mb */
#define OP_MOR 0x49  /* mor md, ma, mb */
#define OP_MXOR 0x4A  /* mxor md, ma, mb */
#define OP_MNOT 0x4B  /* mnot md, ma */
#define OP_MSET 0x4C  /* mset md, lanes */
#define OP_SHLV 0x50  /* shlv vd, va, vb */
#define OP_SHRV 0x51  /* shrv vd, va, vb */
#define OP_SRAV 0x52  /* srav vd, va, vb */
#define OP_SHRVR 0x53  /* shrvr vd, va, vb */
#define OP_BFX 0x54  /* bfx vd, va, field */
#define OP_BFI 0x55  /* bfi vd, va, field */

#define SEM_NONE 0
#define SEM_LOAD 1
#define SEM_STORE 2
#define SEM_LANE 3
#define SEM_LANE_ACC 4
#define SEM_COMPARE 5
#define SEM_MASK 6

#define CC_EQ 0  /* unsigned */
#define CC_NE 1  /* unsigned */
#define CC_LT 2  /* signed */
#define CC_LE 3  /* signed */
#define CC_GT 4  /* signed */
#define CC_GE 5  /* signed */
#define CC_LTU 6  /* unsigned */
#define CC_LEU 7  /* unsigned */
#define CC_GTU 8  /* unsigned */
#define CC_GEU 9  /* unsigned */

#endif
