"""Reference of examples/bf16.pimasm: float32 rounded to bfloat16 (ml_dtypes), back as float32.

    pimisa fuzz examples/bf16.pimasm --ref examples/bf16_ref.py:to_bf16

STRATEGIES adds what the default adversarial floats rarely hold: exact ties between two
bfloat16 values (low 16 bits 0x8000), where round-half-to-even matters.
"""

import ml_dtypes
import numpy as np
from hypothesis import strategies as st


def to_bf16(inputs):
    x = inputs["X"].view(np.float32)
    with np.errstate(invalid="ignore"):  # NaN payloads
        return x.astype(ml_dtypes.bfloat16).astype(np.float32)


def _with_ties(region, geometry):
    """Raw float32 rows (the default strategy) with a drawn share of elements made ties."""
    from pimisa.testing import raw_arrays

    width = region.rows * geometry.cols * geometry.lanes

    def tie(x, seed, share):
        rng = np.random.default_rng(seed)
        bits = x.view(np.uint32).copy()
        pick = rng.random(bits.shape) < share
        bits[pick] = (bits[pick] & 0xFFFF0000) | 0x8000
        return bits.view(np.float32)

    rows = st.integers(1, 2 * geometry.total_units)
    arrays = rows.flatmap(lambda n: raw_arrays(n, width, "float32"))
    return st.builds(tie, arrays, st.integers(0, 2**32 - 1), st.sampled_from([0.0, 0.1, 0.5]))


STRATEGIES = {"X": _with_ties}
