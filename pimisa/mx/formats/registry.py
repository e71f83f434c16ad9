"""Format descriptors of every microscaling format in docs/formats.md, by name."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pimisa.errors import UsageError

Family = Literal["shared_micro", "ocp"]


@dataclass(frozen=True)
class Format:
    """What every format has: a name, a family, a block size and storage costs."""

    name: str
    family: Family
    block_size: int
    element_bits: int
    bits_per_element: float


@dataclass(frozen=True)
class SharedMicroFormat(Format):
    """MX9/MX6/MX4: sign + `mag_bits`-bit magnitude, 8-bit shared exponent per block of 16,
    1-bit micro-exponent per sub-block of 2."""

    mag_bits: int
    sub_block: int = 2


@dataclass(frozen=True)
class OcpFormat(Format):
    """OCP MX v1.0: block of 32 elements and one E8M0 scale.

    MXINT8 is described as a float format with no exponent field (`emin` = 0, 6 fraction bits),
    which gives exactly its k/64 grid; its codes are two's complement (`twos_complement`)."""

    exp_bits: int
    man_bits: int
    emax_elem: int
    emin: int
    max_normal: float
    max_code: int  # magnitude code of max_normal (the saturation bound)
    twos_complement: bool = False


def _shared_micro(name: str, m: int) -> SharedMicroFormat:
    k1, k2 = 16, 2
    bits = (k1 * (1 + m) + 8 + k1 // k2) / k1
    return SharedMicroFormat(name, "shared_micro", k1, 1 + m, bits, mag_bits=m, sub_block=k2)


def _ocp(
    name: str,
    ebits: int,
    mbits: int,
    emax: int,
    emin: int,
    max_normal: float,
    max_code: int,
    twos: bool = False,
) -> OcpFormat:
    elem_bits = 1 + ebits + mbits + (1 if twos else 0)
    return OcpFormat(
        name,
        "ocp",
        32,
        elem_bits,
        elem_bits + 8 / 32,
        exp_bits=ebits,
        man_bits=mbits,
        emax_elem=emax,
        emin=emin,
        max_normal=max_normal,
        max_code=max_code,
        twos_complement=twos,
    )


FORMATS: dict[str, Format] = {
    f.name: f
    for f in (
        _shared_micro("mx9", 7),
        _shared_micro("mx6", 4),
        _shared_micro("mx4", 2),
        _ocp("mxfp8_e4m3", 4, 3, 8, -6, 448.0, 0x7E),
        _ocp("mxfp8_e5m2", 5, 2, 15, -14, 57344.0, 0x7B),
        _ocp("mxfp6_e3m2", 3, 2, 4, -2, 28.0, 0x1F),
        _ocp("mxfp6_e2m3", 2, 3, 2, 0, 7.5, 0x1F),
        _ocp("mxfp4_e2m1", 2, 1, 2, 0, 6.0, 0x7),
        _ocp("mxint8", 0, 6, 0, 0, 127 / 64, 0x7F, twos=True),
    )
}

DIRECTIONS = ("row", "col")


def get_format(fmt: str | Format) -> Format:
    """The descriptor for a format name (or the descriptor itself); UsageError if unknown."""
    if isinstance(fmt, Format):
        return fmt
    try:
        return FORMATS[fmt]
    except (KeyError, TypeError):
        raise UsageError(f"unknown format {fmt!r}; expected one of: {', '.join(FORMATS)}") from None


def check_direction(direction: str) -> str:
    """`direction` if it is 'row' or 'col'; UsageError otherwise."""
    if direction not in DIRECTIONS:
        raise UsageError(f"unknown direction {direction!r}; expected 'row' or 'col'")
    return direction
