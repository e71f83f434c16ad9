"""GPU presets (or a user TOML file) and the paper's GEMM time model.

time(GEMM) = max(compute, memory), compute = 2MNK / peak dense throughput of the operand
format, memory = bytes of the quantized inputs and of the output / peak HBM bandwidth.
Outputs are written in BF16 (2 bytes), except weight gradients, accumulated in FP32 (4 bytes)
as mixed-precision training does (Megatron-LM's `main_grad`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from pimisa.arch import Arch, Geometry, load_arch
from pimisa.errors import InputError, UsageError
from pimisa.jitq.tomlpresets import Fields, load_entries, select
from pimisa.jitq.workloads import Gemm
from pimisa.mx.formats import get_format

BUNDLED = "gpus"
MX_FORMATS = ("mx9", "mx6", "mx4")
OPERAND_FORMATS = ("bf16", *MX_FORMATS)
OUTPUT_BYTES = 2
WGRAD_OUTPUT_BYTES = 4


@dataclass(frozen=True)
class Gpu:
    """A GPU: peak dense TFLOPS per operand format, HBM bandwidth, capacity and stacks."""

    name: str
    tflops: dict[str, float]  # keys OPERAND_FORMATS
    bandwidth_gbs: float
    memory_gb: float
    hbm_stacks: int
    dram: str  # bundled timing preset name or a .toml path
    description: str = ""
    source: str = ""
    pim: tuple[tuple[str, int], ...] = ()  # geometry overrides of the DRAM preset

    def arch(self) -> Arch:
        """The DRAM preset with this GPU's stack count (and any `pim` geometry overrides:
        PIM units, lanes, banks): the memory PIM quantizes in."""
        base = load_arch(self.dram)
        geometry = dataclasses.replace(base.geometry, stacks=self.hbm_stacks, **dict(self.pim))
        tag = "".join(f"-{k}{v}" for k, v in self.pim)
        return dataclasses.replace(base, name=f"{base.name}x{self.hbm_stacks}{tag}",
                                   geometry=geometry)


def operand_bytes(fmt: str, elements: int) -> float:
    """Bytes of `elements` values in an operand format (MX: nominal bits incl. exponents)."""
    if fmt == "bf16":
        return 2.0 * elements
    return get_format(fmt).bits_per_element * elements / 8


@dataclass(frozen=True)
class GemmTime:
    """Time of one GEMM and which bound it hit."""

    compute_s: float
    memory_s: float

    @property
    def seconds(self) -> float:
        """max(compute, memory)."""
        return max(self.compute_s, self.memory_s)

    @property
    def bound(self) -> str:
        """'compute' or 'memory'."""
        return "compute" if self.compute_s >= self.memory_s else "memory"


def gemm_time(gpu: Gpu, gemm: Gemm, fmt: str) -> GemmTime:
    """The paper's roofline time of `gemm` with both inputs in `fmt`."""
    if fmt not in gpu.tflops:
        raise UsageError(f"format {fmt!r} is not one of {', '.join(OPERAND_FORMATS)}")
    compute = gemm.flops / (gpu.tflops[fmt] * 1e12)
    out_bytes = WGRAD_OUTPUT_BYTES if gemm.kind == "wgrad" else OUTPUT_BYTES
    traffic = gemm.batch * (operand_bytes(fmt, gemm.m * gemm.k)
                            + operand_bytes(fmt, gemm.k * gemm.n) + out_bytes * gemm.m * gemm.n)
    return GemmTime(compute, traffic / (gpu.bandwidth_gbs * 1e9))


ATTENTION_FORMAT = "bf16"  # the attention GEMMs take no weights: they stay in BF16


def pass_time(gpu: Gpu, gemms: list[Gemm], fmt: str, passname: str) -> float:
    """Seconds of the GEMMs of one pass ('fwd' or 'bwd'), run one after another (weight GEMMs
    in `fmt`, attention GEMMs in BF16)."""
    return sum(gemm_time(gpu, g, ATTENTION_FORMAT if g.weight in ("qk", "av") else fmt).seconds
               for g in gemms if g.passname == passname)


PIM_FIELDS = tuple(f.name for f in dataclasses.fields(Geometry) if f.name != "stacks")


def gpu_from(fields: Fields) -> Gpu:
    """A GPU from one validated preset table (errors pile up in `fields.errors`)."""
    rates = fields.table("tflops")
    tflops = {f: rates.positive_number(f) for f in OPERAND_FORMATS}
    rates.unknown()
    pim_table = fields.table("pim")
    pim = tuple((k, pim_table.positive_int(k)) for k in PIM_FIELDS if k in pim_table.entry.table)
    pim_table.unknown()
    dram = fields.string("dram")
    gpu = Gpu(
        name=fields.entry.name,
        tflops=tflops,
        bandwidth_gbs=fields.positive_number("bandwidth_gbs"),
        memory_gb=fields.positive_number("memory_gb"),
        hbm_stacks=fields.positive_int("hbm_stacks"),
        dram=dram,
        description=fields.string("description", ""),
        source=fields.string("source", ""),
        pim=pim,
    )
    fields.unknown()
    if dram:
        try:
            load_arch(dram)
        except InputError as exc:
            fields.errors.append(f"{fields.entry.where}: dram: {exc}")
    return gpu


def load_gpus(spec: str = BUNDLED) -> dict[str, Gpu]:
    """Every GPU of a preset file (default: the bundled MI250X, MI300X, H100 SXM), by name."""
    errors: list[str] = []
    gpus = {e.name: gpu_from(Fields(e, errors)) for e in load_entries(spec, "gpus", BUNDLED)}
    if errors:
        raise InputError("\n".join(errors))
    return gpus


def select_gpus(spec: str | None) -> list[Gpu]:
    """GPUs for a `--gpu` argument: None = all bundled, a bundled name, or a .toml file."""
    return select(spec, load_gpus, "GPU")
