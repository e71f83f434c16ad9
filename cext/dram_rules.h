/* Generated from pimisa/dram/rules.py by `python -m pimisa.codegen`; do not edit.
 * The timing rules of the scheduler: rule r constrains a command of DRAM_RULES[r].next
 * after one of DRAM_RULES[r].prev sharing its scope by dram_params.gap[r] cycles. */
#ifndef PIMISA_DRAM_RULES_H
#define PIMISA_DRAM_RULES_H
#include <stdint.h>

#define DRAM_RULES_HASH 0x7e880827019a7184ULL
#define DRAM_NRULES 19

#define DRAM_SCOPE_BANK 0
#define DRAM_SCOPE_GROUP 1
#define DRAM_SCOPE_CHANNEL 2
#define DRAM_NSCOPES 3

#define DRAM_RULE_tRCD_RD 0  /* ACT -> RD of the row it opened */
#define DRAM_RULE_tRCD_WR 1  /* ACT -> WR of the row it opened */
#define DRAM_RULE_tRAS 2  /* ACT -> PRE: the row stays open tRAS */
#define DRAM_RULE_tRC 3  /* ACT -> next ACT of the same bank */
#define DRAM_RULE_tRC_REF 4  /* ACT -> REF or REFpb: the row cycle ends before a refresh (Ramulator 2, DRAMsim3) */
#define DRAM_RULE_tRTP 5  /* RD -> PRE of the bank read (a PRE closes only its own bank: tRTP_S never applies) */
#define DRAM_RULE_tWR 6  /* WR -> PRE: write recovery after the last data beat */
#define DRAM_RULE_tRP 7  /* PRE -> ACT, REF or REFpb of the bank */
#define DRAM_RULE_tRRD_L 8  /* ACT -> ACT in the same bank group */
#define DRAM_RULE_tRRD_S 9  /* ACT -> ACT (or REFpb, Ramulator 2's HBM3) in any bank group */
#define DRAM_RULE_tFAW 10  /* at most 4 ACTs in any tFAW cycles (an all-bank or part ACT counts as 4) */
#define DRAM_RULE_tCCD_L 11  /* column command (RD, WR, PIM OP) -> next in the same bank group; an all-bank command is in every group */
#define DRAM_RULE_tCCD_S 12  /* column command -> next in any group */
#define DRAM_RULE_tRTW 13  /* RD -> WR turnaround on the channel */
#define DRAM_RULE_tWTR_L 14  /* WR -> RD in the same bank group, after the last data beat */
#define DRAM_RULE_tWTR_S 15  /* WR -> RD in any bank group, after the last data beat */
#define DRAM_RULE_tRFC 16  /* REF -> any next command */
#define DRAM_RULE_tRFCpb 17  /* REFpb -> the next ACT or PRE of the bank refreshed (per-bank refresh) */
#define DRAM_RULE_tRREFD 18  /* REFpb -> REFpb or ACT of any bank (Ramulator 2's HBM3) */

typedef struct {
    uint8_t prev, next;  /* masks of command codes (bit DRAM_ACT ...) */
    uint8_t scope, window;
} dram_rule;

static const dram_rule DRAM_RULES[DRAM_NRULES] = {
    [DRAM_RULE_tRCD_RD] = {0x01, 0x08, DRAM_SCOPE_BANK, 0},
    [DRAM_RULE_tRCD_WR] = {0x01, 0x10, DRAM_SCOPE_BANK, 0},
    [DRAM_RULE_tRAS] = {0x01, 0x02, DRAM_SCOPE_BANK, 0},
    [DRAM_RULE_tRC] = {0x01, 0x01, DRAM_SCOPE_BANK, 0},
    [DRAM_RULE_tRC_REF] = {0x01, 0x44, DRAM_SCOPE_BANK, 0},
    [DRAM_RULE_tRTP] = {0x08, 0x02, DRAM_SCOPE_BANK, 0},
    [DRAM_RULE_tWR] = {0x10, 0x02, DRAM_SCOPE_BANK, 0},
    [DRAM_RULE_tRP] = {0x02, 0x45, DRAM_SCOPE_BANK, 0},
    [DRAM_RULE_tRRD_L] = {0x01, 0x01, DRAM_SCOPE_GROUP, 0},
    [DRAM_RULE_tRRD_S] = {0x01, 0x41, DRAM_SCOPE_CHANNEL, 0},
    [DRAM_RULE_tFAW] = {0x01, 0x01, DRAM_SCOPE_CHANNEL, 4},
    [DRAM_RULE_tCCD_L] = {0x38, 0x38, DRAM_SCOPE_GROUP, 0},
    [DRAM_RULE_tCCD_S] = {0x38, 0x38, DRAM_SCOPE_CHANNEL, 0},
    [DRAM_RULE_tRTW] = {0x08, 0x10, DRAM_SCOPE_CHANNEL, 0},
    [DRAM_RULE_tWTR_L] = {0x10, 0x08, DRAM_SCOPE_GROUP, 0},
    [DRAM_RULE_tWTR_S] = {0x10, 0x08, DRAM_SCOPE_CHANNEL, 0},
    [DRAM_RULE_tRFC] = {0x04, 0x7F, DRAM_SCOPE_CHANNEL, 0},
    [DRAM_RULE_tRFCpb] = {0x40, 0x03, DRAM_SCOPE_BANK, 0},
    [DRAM_RULE_tRREFD] = {0x40, 0x41, DRAM_SCOPE_CHANNEL, 0},
};

#endif
