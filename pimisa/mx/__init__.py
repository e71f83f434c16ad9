"""Microscaling (MX) formats in one place: the golden models and the kernels' packed layouts.

- `pimisa.mx.formats`: golden models of MX9/MX6/MX4 and the OCP MX v1.0 formats (encode,
  decode, quantize_dequantize; docs/formats.md);
- `pimisa.mx.pack`: the MX9/MX6/MX4 block bit streams;
- `pimisa.mx.layout`: the mx_packed layout (MX9/MX6/MX4 kernel outputs);
- `pimisa.mx.ocplayout`: the hp32 and ocp_packed layouts (OCP kernel inputs and outputs);
- `pimisa.mx.quantize`: the `pimisa quantize` flow for one tensor (per-format dispatch);
- `pimisa.mx.fuzzing`: `pimisa fuzz` (any kernel against a golden format or a reference).
"""
