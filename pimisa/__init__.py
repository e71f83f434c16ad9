"""pimisa: a processing-in-memory kernel toolchain (assembler, emulator, DRAM timing, JIT-Q)."""

__version__ = "0.1.0"


def __getattr__(name: str) -> str:
    """`pimisa.backend`: the emulator backend in use ("c" or "numpy"; see PIMISA_BACKEND)."""
    if name == "backend":
        from pimisa.emulator.backends import active_backend

        return active_backend()
    raise AttributeError(f"module 'pimisa' has no attribute {name!r}")
