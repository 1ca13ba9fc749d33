"""blind-watermark's DWT-DCT-SVD embedding, vectorised over all blocks at once.

The same algorithm and parameters as ``blind_watermark.bwm_core.WaterMarkCore`` (v0.4.4,
mode 'common', not fast_mode): the image's YUV planes, their Haar LL band, 4x4 blocks of it in
row-major order, block ``i`` carrying bit ``i % n_bits``; each block's 2-D DCT has its 16
coefficients permuted by ``RandomState(seed).random((blocks, 16)).argsort(1)``, and the first
two singular values of that 4x4 matrix are quantised (``s0`` to steps of d1, ``s1`` of d2) to
1/4 or 3/4 of a step for bit 0 or 1. The library does this block by block in Python (~1 s at
1024²); here every block is one row of a few array operations, and the 4x4 SVDs are a
vectorised one-sided Jacobi (numpy's batched SVD costs ~8 µs per 4x4 matrix, too slow).
Either side decodes the other's marks (tests/provenance/test_watermark_fast.py).

Only the LL band changes and the Haar transform is linear, so the embedding is returned as a
residual (what to add to the pixels) rather than a new image: the caller may scale it.
"""

from __future__ import annotations

import numpy as np

_BLOCK = 4
_SWEEPS = 3  # Jacobi sweeps: float32 singular values then agree with LAPACK to ~1e-2


def _dct_matrix(n: int = _BLOCK) -> np.ndarray:
    k = np.arange(n)[:, None]
    i = np.arange(n)[None, :]
    d = np.cos(np.pi * (2 * i + 1) * k / (2 * n)) * np.sqrt(2 / n)
    d[0] /= np.sqrt(2)
    return d


# Row-major vec(D @ B @ D.T) == K @ vec(B): the orthonormal 2-D DCT (as cv2.dct) of every
# flattened block is one matrix product. K is orthogonal, so its transpose inverts it.
_K = np.kron(_dct_matrix(), _dct_matrix()).astype(np.float32)
_KT = np.ascontiguousarray(_K.T)
# OpenBLAS multithreads a product from about 2^18 multiply-adds; with 16x16 matrices the
# threads cost more than they save, and on a busy CPU they stall (measured 0.15 ms single-
# threaded, up to 8 ms threaded, for 12288 blocks). Products in chunks below that stay on
# this thread.
_CHUNK = 1000


def _times(rows: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """``rows @ matrix`` for (n, 16) rows, in single-threaded chunks."""
    out = np.empty((rows.shape[0], matrix.shape[1]), np.float32)
    for i in range(0, rows.shape[0], _CHUNK):
        np.matmul(rows[i:i + _CHUNK], matrix, out=out[i:i + _CHUNK])
    return out
_shufflers: dict[tuple[int, int], np.ndarray] = {}


def _yuv_ll(bgr: np.ndarray) -> np.ndarray:
    """The Haar LL band of the YUV planes, (3, ceil(h/2), ceil(w/2)) float32, normalised as
    pywt's ``dwt2(..., 'haar')`` (half the sum of each 2x2 cell); odd edges padded with 0."""
    import cv2

    yuv = cv2.cvtColor(np.asarray(bgr, dtype=np.float32), cv2.COLOR_BGR2YUV)
    h, w = yuv.shape[:2]
    if h % 2 or w % 2:
        yuv = cv2.copyMakeBorder(yuv, 0, h % 2, 0, w % 2, cv2.BORDER_CONSTANT, value=(0, 0, 0))
    # An exact 2x area downscale is the mean of each 2x2 cell: twice it is the LL band.
    half = cv2.resize(yuv, (yuv.shape[1] // 2, yuv.shape[0] // 2), interpolation=cv2.INTER_AREA)
    return np.moveaxis(half * np.float32(2), 2, 0)


def _shuffled_dct(ll: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray, tuple[int, int]]:
    """Every whole 4x4 block's permuted DCT as (3 * blocks, 16), the flat gather index of the
    permutation, and the block grid."""
    c, h, w = ll.shape
    bh, bw = h // _BLOCK, w // _BLOCK
    n = bh * bw
    blocks = (ll[:, :bh * _BLOCK, :bw * _BLOCK]
              .reshape(c, bh, _BLOCK, bw, _BLOCK).transpose(0, 1, 3, 2, 4)
              .reshape(c * n, 16))
    gather = _gather_index(seed, n, c)
    coeffs = _times(blocks, _KT)
    return coeffs.reshape(-1)[gather], gather, (bh, bw)


def _gather_index(seed: int, blocks: int, channels: int) -> np.ndarray:
    """Flat indices into (channels * blocks, 16) that apply each block's permutation."""
    key = (seed, blocks, channels)
    idx = _shufflers.get(key)
    if idx is None:
        perm = np.random.RandomState(seed).random(size=(blocks, 16)).argsort(axis=1)
        rows = np.arange(channels * blocks)[:, None] * 16
        idx = (rows + np.tile(perm, (channels, 1))).astype(np.intp)
        if len(_shufflers) > 8:
            _shufflers.clear()
        _shufflers[key] = idx
    return idx


def _columns(coeffs: np.ndarray) -> np.ndarray:
    """(n, 16) row-major 4x4 matrices -> their columns, (column, row, n) float32."""
    return np.ascontiguousarray(coeffs.reshape(-1, _BLOCK, _BLOCK).transpose(2, 1, 0))


def _jacobi(cols: np.ndarray) -> np.ndarray:
    """One-sided Jacobi SVD of many 4x4 matrices given as columns (column, row, n): the columns
    rotated until orthogonal, M @ V. Their norms are the singular values (unsorted) and each
    normalised column the left singular vector u_k."""
    c = cols.copy()
    norms = np.einsum("krn,krn->kn", c, c)  # squared column norms, kept up to date below
    tiny = np.float32(1e-30)
    for _ in range(_SWEEPS):
        for p in range(_BLOCK - 1):
            for q in range(p + 1, _BLOCK):
                cp, cq = c[p], c[q]
                dot = np.einsum("rn,rn->n", cp, cq)
                tau = norms[q] - norms[p]
                # tan of the rotation that zeroes the columns' dot product (sign(0) = +1)
                t = np.where(tau >= 0, 2 * dot, -2 * dot)
                t /= np.abs(tau) + np.sqrt(tau * tau + 4 * dot * dot) + tiny
                cs = 1 / np.sqrt(1 + t * t)
                sn = cs * t
                c[p], c[q] = cs * cp - sn * cq, sn * cp + cs * cq
                t *= dot
                norms[p] -= t
                norms[q] += t
    return c


def _top2(c: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The two largest column norms (singular values) and which columns they are."""
    s = np.sqrt(np.einsum("krn,krn->kn", c, c))
    order = np.argsort(-s, axis=0, kind="stable")[:2]
    return np.take_along_axis(s, order, axis=0), order


def embed_residual(bgr: np.ndarray, bits: np.ndarray, seed: int, d1: float, d2: float,
                   nearest: bool = True) -> np.ndarray:
    """What to add to ``bgr`` (H x W x 3, BGR, 0..255) to carry ``bits``: float32 H x W x 3.

    ``nearest``: quantise each singular value to the nearest level carrying its bit (less
    distortion, decoded alike); False: to the level in its own step, as the library does.
    The image must have more 4x4 LL blocks than bits (the library asserts the same)."""
    import cv2

    h, w = bgr.shape[:2]
    ll = _yuv_ll(bgr)
    coeffs, gather, (bh, bw) = _shuffled_dct(ll, seed)
    n_blocks = bh * bw
    if n_blocks <= bits.size:
        raise ValueError(f"{w}x{h} has {n_blocks} blocks for {bits.size} bits")
    wm = np.tile(np.resize(np.asarray(bits, dtype=np.float32), n_blocks), 3)  # bit i % n
    m = _columns(coeffs)  # (column, row, n)
    c = _jacobi(m)
    s, order = _top2(c)
    steps = np.array([d1, d2], np.float32)[:, None]
    offset = 0.25 + 0.5 * wm  # where in its step a value carrying the bit sits
    # nearest: the nearest value carrying the bit, possibly a step down or up; the library
    # keeps the step s is in, which moves s 5/16 of a step on average instead of 1/4. Same
    # distance to the decision boundaries, so just as robust, ~2.4 dB less noise.
    k = np.maximum(np.rint(s / steps - offset), 0) if nearest else np.floor(s / steps)
    change = (k + offset) * steps - s
    # M' = M + sum_k change_k u_k v_k^T, with u_k the k-th rotated column over s_k and
    # v_k = M^T u_k / s_k; a block with s_k ~ 0 (flat) has no direction: any orthonormal one.
    delta = np.zeros_like(m)
    prev_u = prev_v = None
    floor = np.float32(1e-4) * np.maximum(s[0], 1)
    for k in range(2):
        col = np.take_along_axis(c, order[k][None, None], axis=0)[0]  # (row, n) = s_k u_k
        u = col / np.maximum(s[k], np.float32(1e-30))
        v = np.einsum("crn,rn->cn", m, u) / np.maximum(s[k], np.float32(1e-30))
        flat = np.flatnonzero(s[k] <= floor)
        if flat.size:
            u[:, flat] = _orthonormal_fill(None if prev_u is None else prev_u[:, flat], flat.size)
            v[:, flat] = _orthonormal_fill(None if prev_v is None else prev_v[:, flat], flat.size)
        delta += change[k] * v[:, None] * u[None, :]  # (column, row, n)
        prev_u, prev_v = u, v
    d_coeffs = np.empty(coeffs.size, np.float32)
    d_coeffs[gather] = delta.transpose(2, 1, 0).reshape(-1, 16)  # undo the permutation
    d_blocks = _times(d_coeffs.reshape(-1, 16), _K).reshape(3, bh, bw, _BLOCK, _BLOCK)
    # Inverse Haar with only LL changed: each 2x2 cell moves by half the LL change (in BGR
    # here already: the colour transform is linear, and a quarter of the pixels).
    cells = cv2.transform(d_blocks.transpose(1, 3, 2, 4, 0).reshape(bh * _BLOCK, bw * _BLOCK, 3),
                          _yuv_to_bgr_linear() * np.float32(0.5))
    out = cv2.resize(cells, (bw * _BLOCK * 2, bh * _BLOCK * 2), interpolation=cv2.INTER_NEAREST)
    # The strips right of and below the whole blocks (and an odd pixel's pad) are unchanged.
    out = out[:h, :w]
    return cv2.copyMakeBorder(out, 0, h - out.shape[0], 0, w - out.shape[1],
                              cv2.BORDER_CONSTANT, value=(0, 0, 0))


def _orthonormal_fill(u0: np.ndarray | None, n: int) -> np.ndarray:
    """``n`` unit vectors (4, n), each orthogonal to that column of ``u0`` (e0 when none)."""
    e = np.zeros((_BLOCK, n), np.float32)
    if u0 is None:
        e[0] = 1
        return e
    e[np.argmin(np.abs(u0), axis=0), np.arange(n)] = 1  # the axis least along u0
    e -= np.einsum("rn,rn->n", e, u0) * u0
    return e / np.sqrt(np.einsum("rn,rn->n", e, e))


_yuv2bgr: np.ndarray | None = None


def _yuv_to_bgr_linear() -> np.ndarray:
    """OpenCV's YUV->BGR as a 3x3 matrix without its offset (a residual has none)."""
    global _yuv2bgr
    if _yuv2bgr is None:
        import cv2

        basis = np.array([[[0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1]]], np.float32) * 100
        out = cv2.cvtColor(basis, cv2.COLOR_YUV2BGR)[0]
        _yuv2bgr = ((out[1:] - out[0]) / 100).T.astype(np.float32)
    return _yuv2bgr


def soft_bits(bgr: np.ndarray, n_bits: int, seed: int, d1: float, d2: float) -> np.ndarray:
    """The library's ``extract``: per bit, the mean over blocks and channels of
    ``(3 * [s0 mod d1 > d1/2] + [s1 mod d2 > d2/2]) / 4`` (float64, 0..1)."""
    ll = _yuv_ll(bgr)
    coeffs, _, (bh, bw) = _shuffled_dct(ll, seed)
    n_blocks = bh * bw
    if n_blocks <= n_bits:
        return np.full(n_bits, 0.5)
    s, _ = _top2(_jacobi(_columns(coeffs)))
    votes = (3 * (s[0] % d1 > d1 / 2) + (s[1] % d2 > d2 / 2)).reshape(3, n_blocks).sum(axis=0)
    which = np.arange(n_blocks) % n_bits
    sums = np.bincount(which, weights=votes, minlength=n_bits)
    return sums / (4 * 3 * np.bincount(which, minlength=n_bits))
