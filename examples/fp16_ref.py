"""References of the bundled FP16 kernels fp16_add and fp16_gemv (numpy float16, their order).

    pimisa fuzz fp16_add --arch hbm2-pim --ref examples/fp16_ref.py:add
    pimisa fuzz fp16_gemv --arch hbm2-pim --ref examples/fp16_ref.py:gemv

Inputs arrive as raw16 tensors (one row per tile, numpy float16); outputs are returned as
binary16 bit patterns with NaN as 0x7E00, as the kernels write it, so the comparison is bit for
bit. A tensor with fewer rows than another stands for zero tiles (the launch zero-fills the
tiles no input row reaches). numpy's float16 arithmetic rounds every operation to nearest
even, as the kernels' fadd.f16 and fmac.f16 do.
"""

import numpy as np

NAN16 = np.uint16(0x7E00)


def _bits(x):
    """float16 values -> bit patterns, NaN canonical."""
    x = np.asarray(x, np.float16)
    return np.where(np.isnan(x), NAN16, x.view(np.uint16))


def _rows(x, n):
    """The first n tiles of x as float16, zero tiles past its end."""
    out = np.zeros((n, x.shape[1]), np.float16)
    k = min(n, x.shape[0])
    out[:k] = x[:k].view(np.float16)
    return out


def add(inputs):
    """C = A + B and C1 = A1 + B1 element by element (each output shaped like its A)."""
    out = {}
    for a, b, c in (("A", "B", "C"), ("A1", "B1", "C1")):
        x = inputs[a].view(np.float16)
        with np.errstate(all="ignore"):
            out[c] = _bits(x + _rows(inputs[b], x.shape[0]))
    return out


def gemv(inputs):
    """Y: per tile, the 8 accumulators' 16-lane partial sums (kernels/fp16_gemv.pimasm), each
    step acc = fp16(acc + fp16(w * x)), the even input tiles before the odd ones."""
    tiles = inputs["W"].shape[0]
    acc = np.zeros((tiles, 8, 16), np.float16)
    with np.errstate(all="ignore"):
        for w_name, x_name in (("W", "X"), ("W1", "X1")):
            w = _rows(inputs[w_name], tiles).reshape(tiles, -1, 2, 8, 4, 16)  # m, g, k, q, lane
            x = _rows(inputs[x_name], tiles).reshape(tiles, -1, 2, 4, 16)  # m, g, q, lane
            for m in range(w.shape[1]):
                for g in range(2):
                    for q in range(4):
                        acc = acc + w[:, m, g, :, q] * x[:, m, g, q][:, None]
    return {"Y": _bits(acc).reshape(tiles, 128)}


def gemv_inputs(matrix, x, units):
    """The kernel's inputs for y = matrix @ x: matrix (8 units, 128 T) and x (128 T,) float16,
    as raw16 rows W, X, W1, X1 (one per unit; docs in kernels/fp16_gemv.pimasm)."""
    m = np.asarray(matrix, np.float16).reshape(units, 8, -1, 2, 2, 4, 16)  # t,k,m,h,g,q,lane
    v = np.asarray(x, np.float16).reshape(-1, 2, 2, 4, 16)  # m, h, g, q, lane
    out = {}
    for h, (w_name, x_name) in enumerate((("W", "X"), ("W1", "X1"))):
        w = m[:, :, :, h].transpose(0, 2, 3, 1, 4, 5)  # t, m, g, k, q, lane
        out[w_name] = np.ascontiguousarray(w).reshape(units, -1)
        out[x_name] = np.broadcast_to(v[:, h].reshape(1, -1), (units, v[:, h].size)).copy()
    return out
