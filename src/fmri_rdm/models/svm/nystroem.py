"""A kernel SVM on every training pair: Nyström features of the SVC's kernel + a linear SVM.

The exact `SVC` costs O(pairs²) time and stores thousands of support vectors, so it trains on a
sample. Here m landmark pairs span an approximate feature space of the same kernel:
z(x) = K(x, L) K(L, L)^(-1/2) (Williams & Seeger 2001), and a linear SVM with the squared hinge
(L2-SVM) is trained on z of every pair by Chapelle's primal Newton method (2007): each step
solves (I + 2C Z_sv' Z_sv) d = g on the pairs inside the margin, an (m+1)² system, so a fold of
100k+ pairs trains in seconds. Prediction is K(x, L) v + b, m kernel values per pair.

Pairs stay index arrays into the embedding table: a pair's kernel values against the landmarks
come from per-image projections (table @ landmarks', gathered by i and j) for `concat`
features, and from chunks of explicit pair features for `symmetric` ones.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from threadpoolctl import threadpool_limits

from fmri_rdm.errors import ConfigError

log = logging.getLogger(__name__)

KERNELS = ("poly", "rbf", "linear")
_CHUNK = 16_384  # pairs per block: 16k × 1k landmarks × 4 B = 64 MB


@dataclass
class PairKernel:
    """SVC's kernel on pair features [a, b] (concat: a = e_i, b = e_j; symmetric:
    a = |e_i − e_j|, b = e_i ⊙ e_j): poly (γ x·x' + coef0)^degree, rbf exp(−γ|x − x'|²), linear."""

    kind: str
    gamma: float
    degree: int = 2
    coef0: float = 0.0

    def __post_init__(self) -> None:
        if self.kind not in KERNELS:
            raise ConfigError(
                f"model.kernel={self.kind!r} has no Nyström map here: choose one of "
                f"{', '.join(KERNELS)} or model.method=exact"
            )

    def apply(self, dot: np.ndarray, sq_x: np.ndarray, sq_l: np.ndarray) -> np.ndarray:
        """dot (P, m) = x·l, sq_x (P,) = |x|², sq_l (m,) = |l|² -> (P, m) kernel, in place."""
        if self.kind == "linear":
            return dot
        if self.kind == "poly":
            dot *= self.gamma
            dot += self.coef0
            return np.power(dot, self.degree, out=dot)
        dot *= -2.0
        dot += sq_x[:, None]
        dot += sq_l[None, :]
        np.maximum(dot, 0.0, out=dot)
        dot *= -self.gamma
        return np.exp(dot, out=dot)


def pair_parts(table: np.ndarray, i: np.ndarray, j: np.ndarray, kind: str) -> np.ndarray:
    """(N, D) table, (P,) pairs -> (P, 2D) float32 pair features (see `PairKernel`)."""
    ei, ej = table[i], table[j]
    if kind == "concat":
        return np.concatenate([ei, ej], axis=1)
    return np.concatenate([np.abs(ei - ej), ei * ej], axis=1)


def scale_gamma(table: np.ndarray, i: np.ndarray, j: np.ndarray, kind: str) -> float:
    """SVC's gamma="scale": 1 / (n_features · Var(X)) over the training pairs' features.
    For `concat` the moments come from how often each image appears (no pair matrix)."""
    n_features = 2 * table.shape[1]
    if kind == "concat":
        n = len(table)
        counts = np.bincount(i, minlength=n) + np.bincount(j, minlength=n)  # (N,)
        weights = counts / counts.sum()
        t = table.astype(np.float64)
        mean = weights @ t.mean(axis=1)
        mean_sq = weights @ (t * t).mean(axis=1)
        var = mean_sq - mean**2
    else:
        total, total_sq, count = 0.0, 0.0, 0
        for s in range(0, len(i), _CHUNK):
            x = pair_parts(table, i[s : s + _CHUNK], j[s : s + _CHUNK], kind).astype(np.float64)
            total, total_sq, count = total + x.sum(), total_sq + (x * x).sum(), count + x.size
        var = total_sq / count - (total / count) ** 2
    return 1.0 / (n_features * var) if var > 0 else 1.0


class LandmarkMap:
    """The kernel between any pairs and m landmark pairs, from the embedding table."""

    def __init__(self, table: np.ndarray, li: np.ndarray, lj: np.ndarray, kernel: PairKernel,
                 features: str) -> None:  # fmt: skip
        self.kernel, self.features = kernel, features
        self.landmarks = pair_parts(table, li, lj, features).astype(np.float32)  # (m, 2D)
        self.sq_l = np.einsum("md,md->m", self.landmarks, self.landmarks)
        self._table_id: int | None = None

    def _projections(self, table: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """concat: per-image dot products with the landmarks' two halves, (N, m) each."""
        if self._table_id != id(table):
            d = table.shape[1]
            t = np.asarray(table, dtype=np.float32)
            self._pa = t @ self.landmarks[:, :d].T
            self._pb = t @ self.landmarks[:, d:].T
            self._sq = np.einsum("nd,nd->n", t, t)
            self._table_id = id(table)
        return self._pa, self._pb

    def blocks(self, table: np.ndarray, i: np.ndarray, j: np.ndarray) -> Iterator[np.ndarray]:
        """(chunk, m) float32 kernel blocks of the pairs, in order."""
        for s in range(0, len(i), _CHUNK):
            ci, cj = i[s : s + _CHUNK], j[s : s + _CHUNK]
            if self.features == "concat":
                pa, pb = self._projections(table)
                dot = pa[ci] + pb[cj]
                sq_x = self._sq[ci] + self._sq[cj]
            else:
                x = pair_parts(table, ci, cj, self.features).astype(np.float32)
                dot = x @ self.landmarks.T
                sq_x = np.einsum("pd,pd->p", x, x)
            yield self.kernel.apply(dot, sq_x, self.sq_l)

    def drop_table(self) -> None:
        """Forget the cached projections (before saving)."""
        self._table_id = None
        for name in ("_pa", "_pb", "_sq"):
            self.__dict__.pop(name, None)


def whitening(k_ll: np.ndarray, rtol: float = 1e-7) -> np.ndarray:
    """K(L, L) (m, m) -> (m, r) map M with M' K M = I on the kernel's numerical range: features
    z = K(x, L) M (Nyström). Directions below rtol · the largest eigenvalue are dropped."""
    with threadpool_limits(
        1, user_api="blas"
    ):  # see models/encoding/ridge_eigh.py: threads hurt here
        s, u = np.linalg.eigh(k_ll.astype(np.float64))
    keep = s > rtol * max(float(s[-1]), 0.0)
    if not keep.any():
        raise ConfigError("the Nyström landmarks' kernel matrix is zero: constant embeddings?")
    return (u[:, keep] / np.sqrt(s[keep])).astype(np.float32)


def _gram(z: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """Z_rows' Z_rows (r, r), Z_rows' 1 (r,), |rows|, accumulated in float64 by chunks."""
    r = z.shape[1]
    gram, total = np.zeros((r, r)), np.zeros(r)
    for s in range(0, len(rows), _CHUNK):
        block = z[rows[s : s + _CHUNK]]
        gram += block.T @ block
        total += block.sum(axis=0, dtype=np.float64)
    return gram, total, len(rows)


def l2svm_newton(z: np.ndarray, y: np.ndarray, c: float, max_iter: int = 50,
                 tol: float = 1e-6) -> tuple[np.ndarray, float, int]:  # fmt: skip
    """Linear SVM with the squared hinge, unpenalised intercept, by primal Newton steps:
    min_w,b 0.5|w|² + C Σ max(0, 1 − y (z·w + b))². z (P, r) float32, y (P,) in {−1, +1}.
    Returns (w (r,), b, Newton iterations)."""
    n, r = z.shape
    w, b = np.zeros(r), 0.0
    out = np.ones(n)  # 1 − y f: every pair is inside the margin at w = 0
    objective = float(c * n)  # at w = 0
    full: tuple[np.ndarray, np.ndarray, int] | None = None
    for it in range(1, max_iter + 1):
        inside = out > 0
        sv = np.flatnonzero(inside)
        if 2 * len(sv) <= n:
            gram, total, count = _gram(z, sv)
        else:  # most pairs are inside the margin: all pairs' Gram (once) − the others'
            full = full or _gram(z, np.arange(n))
            g_out, t_out, c_out = _gram(z, np.flatnonzero(~inside))
            gram, total, count = full[0] - g_out, full[1] - t_out, full[2] - c_out
        resid = y[sv] * out[sv]  # = y − f on the margin pairs
        zr = np.zeros(r)
        for s in range(0, len(sv), _CHUNK):
            zr += z[sv[s : s + _CHUNK]].T @ resid[s : s + _CHUNK]
        # gradient and Hessian of the objective in (w, b)
        grad = np.append(w - 2 * c * zr, -2 * c * resid.sum())
        hess = np.empty((r + 1, r + 1))
        hess[:r, :r] = 2 * c * gram + np.eye(r)
        hess[:r, r] = hess[r, :r] = 2 * c * total
        hess[r, r] = 2 * c * count
        step = np.linalg.solve(hess, grad)
        zd = np.concatenate([z[s : s + _CHUNK] @ step[:r].astype(np.float32)
                             for s in range(0, n, _CHUNK)]) + step[r]  # fmt: skip
        t = _line_search(w, step[:r], out, y * zd, c)
        w, b = w - t * step[:r], b - t * float(step[r])
        out = out + t * y * zd
        new = float(0.5 * w @ w + c * np.sum(np.maximum(out, 0) ** 2))
        done = objective - new <= tol * abs(objective)
        log.debug("Newton %d: %d in margin, step %.3g, objective %.6g", it, len(sv), t, new)
        objective = new
        if done:
            return w, b, it
    log.warning("SVM (Nyström): Newton did not converge in %d iterations", max_iter)
    return w, b, max_iter


def _line_search(w: np.ndarray, d: np.ndarray, out: np.ndarray, q: np.ndarray,
                 c: float) -> float:  # fmt: skip
    """argmin_t≥0 of 0.5|w − t d|² + C Σ max(0, out + t q)², a convex piecewise quadratic,
    by 1-D Newton steps from t = 0 (exact once the active set stops changing)."""
    t = 0.0
    wd, dd = float(w @ d), float(d @ d)
    for _ in range(50):
        o = out + t * q
        act = o > 0
        g = -wd + t * dd + 2 * c * float(o[act] @ q[act])
        h = dd + 2 * c * float(q[act] @ q[act])
        if h <= 0:
            break
        new = t - g / h
        if abs(new - t) <= 1e-10 * max(1.0, abs(t)):
            t = new
            break
        t = new
    return max(t, 0.0)
