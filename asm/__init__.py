"""The pimisa assembler: Lark grammar and passes (installed as pimisa.asm)."""
