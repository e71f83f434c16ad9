"""Reference of tests/data/fuzz/axpb.pimasm: Y = 2 X + 1 in float32."""

import numpy as np


def axpb(inputs):
    x = inputs["X"]
    with np.errstate(all="ignore"):
        return (x * np.float32(2) + np.float32(1)).astype(np.float32)


def wrong(inputs):
    """A reference that disagrees with the kernel in lane 3 of word 5 only."""
    y = axpb(inputs)
    y[:, 5 * 8 + 3] += np.float32(1)
    return {"Y": y}


def few_rows(region, geometry):
    """Replace the X strategy: one row of exact small integers."""
    from hypothesis import strategies as st

    return st.integers(-4, 4).map(lambda v: np.full((1, region.rows * geometry.cols
                                                      * geometry.lanes), v, np.float32))


STRATEGIES = {"X": few_rows}
