"""The JIT-Q analysis: can PIM quantize the next block's weights while the GPU computes?

- `workloads`: GPT-3 presets (or a user TOML file) and the weight GEMMs of a block;
- `gpu`: GPU presets and the roofline GEMM time model;
- `pim`: the DRAM scheduler's time of the real MX kernel launches, cached on disk;
- `slack`, `throughput`, `capacity`: the paper's three questions;
- `report`: the sweep over models, GPUs and formats, its tables, JSON and claim checks;
- `figures`: the slack figure (matplotlib); `docs`: generates docs/jitq.md.

Command line: `pimisa jitq` (pimisa/commands/jitq_cmd.py).
"""
