"""Reference of the bundled kernel example_gemv (y = W x per lane, float32, in the kernel's order).

    pimisa fuzz example_gemv --ref examples/gemv_ref.py:gemv

Lane j of tile 0 computes y[j] = sum over k < 256 of W[0, 8 k + j] * X[0, 8 k + j] (raw layout:
element 8 k + j is word k, lane j) with four partial sums (k % 4), each step a float32 multiply
then a float32 add (fmac rounds twice), and the sums reduced as (s0 + s1) + (s2 + s3).
"""

import numpy as np


def gemv(inputs):
    w = inputs["W"][0].view(np.float32).reshape(256, 8)
    x = inputs["X"][0].view(np.float32).reshape(256, 8)
    acc = np.zeros((4, 8), np.float32)
    with np.errstate(all="ignore"):
        for k in range(256):
            acc[k % 4] = acc[k % 4] + w[k] * x[k]
        y = (acc[0] + acc[1]) + (acc[2] + acc[3])
    return y.reshape(1, 8)


def _one_tile(region, geometry):
    """W and X are one full tile each (the kernel reads tile 0 only)."""
    from pimisa.testing import raw_arrays

    return raw_arrays(1, region.rows * geometry.cols * geometry.lanes, "float32")


STRATEGIES = {"W": _one_tile, "X": _one_tile}
