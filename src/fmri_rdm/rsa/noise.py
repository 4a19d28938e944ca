"""Noise covariance of the units estimated from trial residuals, and its precision.

The residuals are each trial minus its condition's mean: over all partitions (`pooled`) or
within each partition (`per_partition`, one estimate per partition). Every estimate has the
form C = diag(d) + b * X^T X, X the (n, V) centred residuals:

    identity        d = 1, b = 0
    diag            d = per-unit variance (sum of squares / dof), b = 0
    shrinkage_diag  the sample covariance with its off-diagonal shrunk towards 0 by the
                    Schafer-Strimmer (2005) factor lambda: d = lambda * var, b = (1-lambda)/dof
    shrinkage_eye   Ledoit-Wolf (2004) shrinkage towards a multiple of the identity

These are the estimators of rsatoolbox's `cov_from_unbalanced` (dof = trials - conditions),
computed without forming V x V matrices when there are fewer residuals than units: the
shrinkage factors need only traces of the Gram matrix, and the precision is applied through
the Woodbury identity (an n x n solve). With more residuals than units, the V x V precision is
formed once (Cholesky).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.linalg as sla
from scipy.linalg.blas import get_blas_funcs

from fmri_rdm.errors import ConfigError, DataError
from fmri_rdm.rsa.trials import TrialDesign, cell_sums

NOISE: tuple[str, ...] = ("identity", "diag", "shrinkage_diag", "shrinkage_eye")


def check_noise(noise: str) -> str:
    """Return `noise` if it is a known estimate, else ConfigError listing them."""
    if noise not in NOISE:
        raise ConfigError(f"unknown noise estimate {noise!r}; valid: {', '.join(NOISE)}")
    return noise


@dataclass(frozen=True)
class Precision:
    """The inverse of C = diag(d) + b X^T X over V units (module docstring).

    d: (V,) positive; x: (n, V) residuals or None (diagonal C); b: >= 0; dense: Cholesky factor
    (upper) of C when V <= n; core: Cholesky factor (upper) of I/b + X D^-1 X^T when n < V
    (Woodbury). Factors are computed in float64 and kept in the residuals' dtype.
    """

    d: np.ndarray
    x: np.ndarray | None = None
    b: float = 0.0
    dense: np.ndarray | None = None
    core: np.ndarray | None = None
    xd: np.ndarray | None = None  # X D^-1, (n, V), with `core`

    def apply(self, a: np.ndarray) -> np.ndarray:
        """a @ P for a (m, V) matrix (float32 or float64); returns (m, V) of a's dtype."""
        if self.dense is not None:
            return np.asarray(sla.cho_solve((self.dense, False), a.T).T)
        out = a / self.d.astype(a.dtype, copy=False)
        if self.xd is None or self.core is None:
            return np.asarray(out)
        xd = self.xd
        inner = sla.cho_solve((self.core, False), xd @ a.T)  # (n, m)
        out -= inner.T @ xd
        return np.asarray(out)

    def covariance(self) -> np.ndarray:
        """The (V, V) float64 covariance C this precision inverts (tests, per-partition)."""
        cov = np.diag(self.d.astype(np.float64))
        if self.x is not None:
            x = self.x.astype(np.float64)
            cov += self.b * (x.T @ x)
        return cov

    def matrix(self) -> np.ndarray:
        """The (V, V) precision matrix (tests and small V)."""
        return self.apply(np.eye(self.d.shape[0], dtype=self.d.dtype))


def residuals(x: np.ndarray, design: TrialDesign, *, per_partition: bool) -> list[np.ndarray]:
    """Trials minus their condition's mean: one (T, V) array (pooled) or one per partition.

    x: (T, V) float64 in the order of `design`. Rows are the design's trials; a per-partition
    array holds that partition's trials minus the condition's mean within the partition.
    """
    sums = cell_sums(x, design)  # (K, C, V)
    counts = design.counts.T  # (K, C)
    if not per_partition:
        means = sums.sum(axis=0) / np.maximum(counts.sum(axis=0), 1)[:, None]
        return [x - means[design.condition]]
    cell_means = sums / np.maximum(counts, 1)[..., None]
    out = []
    for k in range(design.n_partitions):  # a few partitions
        rows = design.partition == k
        out.append(x[rows] - cell_means[k, design.condition[rows]])
    return out


def _gram(z: np.ndarray) -> tuple[np.ndarray, float]:
    """The smaller Gram matrix of (n, V) z (Z Z^T if n < V, else Z^T Z), upper triangle only
    (BLAS syrk, the lower part zero), and ||Z^T Z||_F^2 in float64."""
    n, v = z.shape
    syrk = get_blas_funcs("syrk", (z,))
    g = syrk(1.0, z.T, trans=int(n < v))  # z.T is Fortran-ordered: no copy
    diag = np.diagonal(g).astype(np.float64)
    return g, 2.0 * float(np.einsum("ij,ij->", g, g, dtype=np.float64)) - float(diag @ diag)


def estimate_precision(res: np.ndarray, dof: float, noise: str) -> Precision:
    """Precision of the `noise` estimate from (n, V) residuals (float32 or float64) with `dof`
    degrees of freedom. `res` is centred in place (and kept by the precision)."""
    check_noise(noise)
    n, v = res.shape
    if noise == "identity":
        return Precision(np.ones(v))
    if dof <= 0:
        raise DataError(
            f"no degrees of freedom for the noise estimate ({n} residuals): each condition "
            "needs at least two trials (or use metric.noise=identity)"
        )
    x = res  # centred in place: residuals are the caller's own copy
    x -= res.mean(axis=0, dtype=np.float64).astype(x.dtype)
    sumsq = np.einsum("ij,ij->j", x, x, dtype=np.float64)
    if not (sumsq > 0).all():
        raise DataError(
            f"{int((sumsq <= 0).sum())} units have no residual variance: drop them "
            "(or use metric.noise=identity)"
        )
    var = sumsq / dof
    if noise == "diag":
        return Precision(var)
    if noise == "shrinkage_diag":
        std = np.sqrt(var)
        z = x / std.astype(x.dtype)
        gram, frob = _gram(z)
        z *= z  # squares from here on (one (n, V) temporary in all)
        rows = z.sum(axis=1, dtype=np.float64)
        fourth = float(np.einsum("ij,ij->", z, z, dtype=np.float64))
        del z
        off_s = (frob - float(np.sum((sumsq / var) ** 2))) / (n - 1) ** 2
        off_s2 = (float(rows @ rows) - fourth) / (n - 1)
        lam = n / dof**2 * (off_s2 - off_s) / off_s if off_s > 0 else 1.0
        lam = min(max(lam, 0.0), 1.0)
        d, b = lam * var, (1.0 - lam) / dof
        if n < v:  # X D^-1 X^T = Z Z^T / lambda
            gram = gram / lam if lam > 0 else gram * np.inf
        else:  # X^T X = S Z^T Z S, S = diag(std)
            gram *= std[:, None].astype(gram.dtype)
            gram *= std[None, :].astype(gram.dtype)
    else:  # shrinkage_eye
        gram, frob = _gram(x)
        s_frob = frob / n**2
        m = float(sumsq.sum()) / n / v
        d2 = s_frob - m * m * v
        sq = np.einsum("ij,ij->i", x, x, dtype=np.float64)
        b2 = min(d2, (float(sq @ sq) / n - s_frob) / n)
        d, b = np.full(v, b2 / d2 * m * n / dof), (d2 - b2) / d2 / dof
        if n < v:
            gram = gram / d[0] if d[0] > 0 else gram * np.inf
    return _factor(x, d, b, gram)


def _factor(x: np.ndarray, d: np.ndarray, b: float, gram: np.ndarray) -> Precision:
    """Precision of diag(d) + b X^T X (upper-triangular `gram`: X D^-1 X^T when n < V, used
    through the Woodbury identity; X^T X otherwise, factored densely)."""
    n, v = x.shape
    singular = DataError(
        "the noise covariance is singular (no shrinkage with fewer residuals than units): "
        "use metric.noise=shrinkage_eye or diag"
    )
    if b == 0.0:
        if not (d > 0).all():
            raise singular
        return Precision(d)
    if n < v and not (d > 0).all():
        raise singular
    mat = np.asarray(gram, dtype=np.float64)
    if n < v:
        mat[np.diag_indices(n)] += 1.0 / b
    else:
        mat *= b
        mat[np.diag_indices(v)] += d
    try:
        factor = sla.cholesky(mat, lower=False, overwrite_a=True, check_finite=False)
    except np.linalg.LinAlgError as err:
        raise singular from err
    factor = factor.astype(x.dtype, copy=False)
    if n < v:
        return Precision(d, x, b, core=factor, xd=x / d.astype(x.dtype))
    return Precision(d, x, b, dense=factor)


def precisions(
    x: np.ndarray, design: TrialDesign, noise: str, *, per_partition: bool = False
) -> list[Precision]:
    """The `noise` precision(s) of trials `x` (T, V): one pooled, or one per partition.

    dof = residual rows - conditions (per partition: its trials - its conditions), as
    rsatoolbox's `prec_from_unbalanced`.
    """
    check_noise(noise)
    if noise == "identity":
        return [Precision(np.ones(x.shape[1]))] * (design.n_partitions if per_partition else 1)
    parts = residuals(x, design, per_partition=per_partition)
    if per_partition:
        n_cond = (design.counts > 0).sum(axis=0)
        return [
            estimate_precision(r, r.shape[0] - int(c), noise)
            for r, c in zip(parts, n_cond, strict=True)
        ]
    return [estimate_precision(parts[0], parts[0].shape[0] - design.n_conditions, noise)]
