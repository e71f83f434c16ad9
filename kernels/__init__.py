"""Bundled hand-written .pimasm kernels (installed as pimisa.kernels).

The command line accepts a bundled kernel's name wherever it takes a kernel path:
`pimisa asm example_gemv --listing`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

from pimisa.arch import Arch, load_arch
from pimisa.errors import InputError, SourceError, UsageError
from pimisa.program import Program, load_program

SUFFIX = ".pimasm"


@dataclass(frozen=True)
class IsaAddition:
    """An ISA addition beyond the paper's masked compare and conditional shift that the
    bundled MX kernels can use: the kernel parameter that turns it on and what it replaces."""

    name: str
    define: str  # the .default parameter of kernels/mx_common.inc
    mnemonic: str  # the instruction it brings into the kernels
    doc: str


# The one table of the optional ISA additions of the bundled MX9/MX6/MX4 kernels (the JIT-Q
# scenario field pim.additions and docs/jitq.md read it). Off by default: the bundled kernels
# use the paper's ALU (plus its two augmentations) unless a define turns an addition on.
ISA_ADDITIONS: tuple[IsaAddition, ...] = (
    IsaAddition("bfi", "BFI", "bfi",
                "bit-field insert: a code's magnitude in one command (else mask, shift and or) "
                "and its sign straight from the element's sign bit (else a compare and a "
                "predicated or)"),
    IsaAddition("minui", "MINUI", "minui",
                "min with an immediate: saturation needs no register for the limit, so the "
                "column kernels keep one more block's packed words in registers and visit the "
                "output row less often"),
)


def addition_defines(names: list[str] | tuple[str, ...]) -> dict[str, int]:
    """The kernel defines that turn on the named ISA additions (InputError for an unknown one)."""
    known = {a.name: a for a in ISA_ADDITIONS}
    for n in names:
        if n not in known:
            raise InputError(f"unknown ISA addition {n!r} (known: {', '.join(known)})")
    return {known[n].define: 1 for n in names}


def _directory() -> Path:
    # the package's own folder (not importlib.resources: a few milliseconds of every command)
    return Path(__file__).resolve().parent


def bundled() -> list[str]:
    """Names of the bundled kernels (file names without .pimasm), sorted."""
    return sorted(p.name[: -len(SUFFIX)] for p in _directory().iterdir()
                  if p.name.endswith(SUFFIX) and p.is_file())


def resolve(name_or_path: str | Path) -> Path:
    """A kernel source: an existing file, or a bundled kernel's name (with or without .pimasm).

    InputError when it is neither.
    """
    path = Path(name_or_path)
    try:
        if path.is_file():
            return path
    except (OSError, ValueError):
        raise InputError(f"{name_or_path!r}: not a usable path") from None
    name = str(name_or_path)
    if name.endswith(SUFFIX):
        name = name[: -len(SUFFIX)]
    if name in bundled():
        return _directory() / (name + SUFFIX)
    if path.exists():
        raise InputError(f"{name_or_path}: not a file")
    raise InputError(f"{name_or_path}: no such file, and no bundled kernel of that name "
                     f"(bundled: {', '.join(bundled()) or 'none'})")


def load(spec: str, arch: Arch | str | None = None,
         defines: dict[str, int] | None = None) -> Program:
    """A kernel as a Program: a .pimb file as stored, or a .pimasm source / bundled kernel
    name assembled (for `arch` if given, with `defines` setting its parameters).

    UsageError for defines with a .pimb (its parameters were fixed when it was assembled).
    A source assembled for a given `arch` comes from pimisa.kernelcache when it holds it."""
    path = Path(spec) if spec.endswith(".pimb") else resolve(spec)
    if path.suffix == ".pimb":
        if defines:
            raise UsageError(f"-D: {spec} is an assembled .pimb; defines apply to sources")
        return load_program(path)
    if arch is not None:
        from pimisa.kernelcache import assemble_cached

        arch = load_arch(arch) if isinstance(arch, str) else arch
        try:
            return assemble_cached(path, arch, defines)
        except SourceError:
            check_width(path, arch, defines)
            raise
    from pimisa.asm import assemble_file

    return assemble_file(path, arch, defines)


def lane_spec(arch: Arch, lane_bits: int) -> str:
    """The --arch spec of `arch` with `lane_bits`-bit lanes, e.g. hbm2-pim:lane_bits=32."""
    base, _, rest = arch.name.partition(":")
    fields = [f for f in rest.split(",") if f and not f.startswith("lane_bits=")]
    return f"{base}:{','.join([*fields, f'lane_bits={lane_bits}'])}"


def is_bundled(path: Path) -> bool:
    """Is `path` one of the bundled kernels' sources?"""
    return path.parent.resolve() == _directory().resolve() and path.name.endswith(SUFFIX)


def check_width(path: Path, arch: Arch, defines: dict[str, int] | None) -> None:
    """UsageError (one line) when a source that does not assemble for `arch` assembles for
    the other lane width: it is a kernel of that width."""
    from pimisa.asm import assemble_path

    bits = arch.geometry.lane_bits
    other = 16 if bits == 32 else 32
    geometry = dataclasses.replace(arch.geometry, lane_bits=other,
                                   lanes=arch.geometry.word_bits // other)
    if assemble_path(path, dataclasses.replace(arch, geometry=geometry), defines).ok:
        raise UsageError(f"kernel {path.name} is written for {other}-bit lanes, and {arch.name} "
                         f"has {bits}-bit lanes: pick a kernel of that width, or "
                         f"--arch {lane_spec(arch, other)}")
