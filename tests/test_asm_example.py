"""The bundled example kernel assembles and computes y = W x (checked on the emulator)."""

from __future__ import annotations

import numpy as np
import pytest

from pimisa.arch import load_arch
from pimisa.asm import assemble_file
from pimisa.emulator.launch import launch
from pimisa.kernels import resolve


@pytest.mark.parametrize("backend", ["numpy", "c"])
def test_example_gemv_computes_w_times_x(backend):
    rng = np.random.default_rng(7)
    w = rng.standard_normal((256, 8)).astype(np.float32)
    x = rng.standard_normal(256).astype(np.float32)
    program = assemble_file(resolve("example_gemv"))
    result = launch(program, load_arch(program.meta.arch).geometry,
                    {"W": w.reshape(1, -1), "X": np.repeat(x, 8).reshape(1, -1)}, backend)
    y = result.outputs["Y"].view(np.float32)[0]
    acc = np.zeros((4, 8), np.float32)  # the kernel's order: 4 accumulators, fmac not fused
    for k in range(256):
        acc[k % 4] = acc[k % 4] + w[k] * x[k]
    assert np.array_equal(y, (acc[0] + acc[1]) + (acc[2] + acc[3]))
    assert np.allclose(y, w.T @ x, rtol=1e-4, atol=1e-4)
