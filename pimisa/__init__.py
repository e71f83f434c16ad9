"""pimisa: a processing-in-memory kernel toolchain (assembler, emulator, DRAM timing, JIT-Q)."""

__version__ = "0.1.0"
