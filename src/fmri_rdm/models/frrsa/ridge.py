"""The numerics of feature-reweighted RSA as published (Kaniuth & Hebart 2022, NeuroImage).

Per-dimension pair features F[p, k] of images a, b (rows of the embeddings x, (N, D)):

    correlation targets: F = −x̃_ak · x̃_bk   (x̃: each image's pattern z-scored over its D
                                              dimensions, when `normalize`)
    euclidean targets:   F = (x̃_ak − x̃_bk)²  (x̃: each image's pattern scaled to unit L2 norm)

The reference package uses the plain products (a similarity) for correlation-type targets; the
sign is flipped here so that each dimension's feature is a dissimilarity like the target: with
z-scored predictors that changes nothing in an unconstrained ridge (β flips with F), and it makes
the non-negative ("positive") variant mean "every dimension adds dissimilarity".

The predictors are z-scored over the training pairs, the target is centred, and a ridge without
intercept is fitted: fractional ridge (Rokem & Kay 2020; hyperparameter = the fraction of the OLS
coefficient norm) or ridge with β >= 0 (hyperparameter = alpha, sklearn's ||y − Xβ||² + α||β||²).
Everything is computed from moments of F (the D × D Gram matrix, F'y, ΣF, accumulated in chunks
of pairs): F (pairs × D) is never stored, one eigendecomposition of the z-scored Gram matrix
gives every alpha at once, and predictions are clipped to the metric's range ([0, 2] for
1 − Pearson r, [0, ∞) for Euclidean distances).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import nnls
from threadpoolctl import threadpool_limits

from fmri_rdm.errors import ConfigError, DataError

_CHUNK = 16_384  # pairs per block of features (16k × 512 float64 = 64 MB)
# the reference package's default grids
DEFAULT_FRACTIONS = tuple(float(f) for f in np.linspace(0.05, 1.0, 20))
DEFAULT_ALPHAS = (1e-1, 1e0, 1e1, 5e1, 1e2, 5e2, 1e3, 4e3, 7e3, 1e4, 3e4, 5e4, 7e4, 1e5)
_EIG_TOL = 1e-20  # eigenvalues of the z-scored Gram below this (relative) count as 0 (OLS norm)


def normalize_patterns(x: np.ndarray, metric: str) -> np.ndarray:
    """(N, D) -> float64 (N, D): each row z-scored over its D values (correlation) or scaled to
    unit L2 norm (euclidean); a constant / zero row stays zero."""
    x = np.asarray(x, dtype=np.float64)
    if metric == "correlation":
        centred = x - x.mean(axis=1, keepdims=True)
        std = centred.std(axis=1, keepdims=True)
        return centred / np.where(std > 0, std, 1.0)
    norm = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.where(norm > 0, norm, 1.0)


def pair_features(x: np.ndarray, i: np.ndarray, j: np.ndarray, metric: str) -> np.ndarray:
    """(P, D) float64 features of pairs (i, j) of rows of x (see the module docstring)."""
    a, b = x[i].astype(np.float64, copy=False), x[j].astype(np.float64, copy=False)
    if metric == "correlation":
        return -(a * b)
    return np.square(a - b)


@dataclass
class Moments:
    """Sums over a set of pairs: gram = F'F (D, D), fy = F'y (D,), fsum = ΣF (D,), ysum, n."""

    gram: np.ndarray
    fy: np.ndarray
    fsum: np.ndarray
    ysum: float
    n: int

    @classmethod
    def zeros(cls, d: int) -> Moments:
        return cls(np.zeros((d, d)), np.zeros(d), np.zeros(d), 0.0, 0)

    def __add__(self, other: Moments) -> Moments:
        return Moments(
            self.gram + other.gram,
            self.fy + other.fy,
            self.fsum + other.fsum,
            self.ysum + other.ysum,
            self.n + other.n,
        )


def moments(x: np.ndarray, i: np.ndarray, j: np.ndarray, y: np.ndarray, metric: str) -> Moments:
    """Moments of the pair features of (i, j) against targets y, in chunks of pairs."""
    total = Moments.zeros(x.shape[1])
    for s in range(0, len(i), _CHUNK):
        f = pair_features(x, i[s : s + _CHUNK], j[s : s + _CHUNK], metric)
        yc = np.asarray(y[s : s + _CHUNK], dtype=np.float64)
        total.gram += f.T @ f
        total.fy += f.T @ yc
        total.fsum += f.sum(axis=0)
        total.ysum += float(yc.sum())
    total.n = len(i)
    return total


def _standardised(m: Moments) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, float]:
    """(Gz, cz, mean_f, std_f, mean_y): the Gram matrix and F'y of the z-scored features and
    centred target (ddof = 0 as sklearn's StandardScaler); a constant feature gets std 1."""
    if m.n < 2:
        raise DataError(f"frrsa needs at least 2 training pairs, got {m.n}")
    mean_f, mean_y = m.fsum / m.n, m.ysum / m.n
    centred = m.gram - m.n * np.outer(mean_f, mean_f)
    std = np.sqrt(np.clip(np.diag(centred) / m.n, 0.0, None))
    std = np.where(std > 1e-12 * max(float(std.max()), 1e-300), std, 1.0)
    cz = (m.fy - m.n * mean_f * mean_y) / std
    return centred / np.outer(std, std), cz, mean_f, std, mean_y


def _fraction_alphas(lam: np.ndarray, u: np.ndarray, fractions: np.ndarray) -> np.ndarray:
    """Alphas whose ridge solution has `fractions` of the OLS coefficient norm (bisection on
    log alpha, all fractions at once). lam, u: eigenvalues and rotated c of the good modes."""
    ols = np.sum((u / lam) ** 2)
    lo = np.full(len(fractions), np.log(lam.min() * 1e-12))
    hi = np.full(len(fractions), np.log(lam.max() * 1e12))
    for _ in range(200):  # the norm decreases monotonically in alpha
        mid = 0.5 * (lo + hi)
        norm = np.sum((u[None, :] / (lam[None, :] + np.exp(mid)[:, None])) ** 2, axis=1)
        too_big = norm > (fractions**2) * ols
        lo, hi = np.where(too_big, mid, lo), np.where(too_big, hi, mid)
    alphas = np.exp(0.5 * (lo + hi))
    return np.where(fractions >= 1.0, 0.0, alphas)


def ridge_path(gz: np.ndarray, cz: np.ndarray, h: np.ndarray, *, fractions: bool) -> np.ndarray:
    """(D, H) ridge coefficients (Gz + αI)⁻¹ cz from one eigendecomposition, for H alphas, or
    for the alphas that give H fractions of the OLS norm. Rank-deficient modes get 0."""
    with threadpool_limits(1):  # a D x D solve: threads only contend (10x slower under load)
        lam, vec = np.linalg.eigh(gz)
    good = lam > _EIG_TOL * max(float(lam.max()), 1e-300)
    lam, vec = lam[good], vec[:, good]
    u = vec.T @ cz
    alphas = _fraction_alphas(lam, u, h) if fractions else h
    return np.asarray(vec @ (u[:, None] / (lam[:, None] + alphas[None, :])))


def ridge_weights(
    m: Moments, hyperparams: np.ndarray, variant: str
) -> tuple[np.ndarray, np.ndarray]:
    """Weights on the raw features (D, H) and intercepts (H,), one per hyperparameter.

    variant "fractional": hyperparams are fractions of the OLS norm in (0, 1]; "positive":
    alphas > 0 with β >= 0. Prediction = intercept + F @ weights.
    """
    gz, cz, mean_f, std, mean_y = _standardised(m)
    h = np.asarray(hyperparams, dtype=np.float64)
    if variant == "fractional":
        if np.any((h <= 0) | (h > 1)):
            raise ConfigError(f"frrsa fractions must lie in (0, 1], got {list(h)}")
        beta = ridge_path(gz, cz, h, fractions=True)
    elif variant == "alphas":  # plain ridge at given alphas (tests against the reference)
        beta = ridge_path(gz, cz, h, fractions=False)
    elif variant == "positive":
        if np.any(h <= 0):
            raise ConfigError(f"frrsa positive-ridge alphas must be > 0, got {list(h)}")
        beta = np.empty((len(cz), len(h)))
        for k, alpha in enumerate(h):  # one small D-row NNLS per alpha
            with threadpool_limits(1):
                lower = np.linalg.cholesky(gz + alpha * np.eye(len(gz)))
                rhs = np.linalg.solve(lower, cz)
            beta[:, k], _ = nnls(lower.T, rhs, maxiter=50 * len(gz))
    else:
        raise ConfigError(f"frrsa variant {variant!r}: use fractional, positive or nnls")
    weights = beta / std[:, None]
    return weights, mean_y - mean_f @ weights


def predict(
    x: np.ndarray,
    i: np.ndarray,
    j: np.ndarray,
    weights: np.ndarray,
    intercept: np.ndarray,
    metric: str,
) -> np.ndarray:
    """(P, H) float64 predictions of pairs (i, j) for H weight vectors, clipped to the metric's
    range. weights: (D, H); intercept: (H,)."""
    out = np.empty((len(i), weights.shape[1]))
    for s in range(0, len(i), _CHUNK):
        f = pair_features(x, i[s : s + _CHUNK], j[s : s + _CHUNK], metric)
        out[s : s + len(f)] = f @ weights + intercept
    return np.clip(out, 0.0, 2.0 if metric == "correlation" else None)


def pearson_columns(y: np.ndarray, pred: np.ndarray) -> np.ndarray:
    """(H,) Pearson r between y (P,) and each column of pred (P, H); NaN where undefined."""
    yc = y - y.mean()
    pc = pred - pred.mean(axis=0)
    denom = np.sqrt((yc @ yc) * np.einsum("ph,ph->h", pc, pc))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denom > 0, (yc @ pc) / denom, np.nan)


def block_moments(
    x: np.ndarray,
    i: np.ndarray,
    j: np.ndarray,
    y: np.ndarray,
    groups: np.ndarray,
    metric: str,
) -> dict[tuple[int, int], Moments]:
    """Moments per block of pairs (g, h), g <= h, of image groups: one pass over the pairs
    gives every inner fold's training moments (the blocks without its group) and the total.
    groups: (N,) int group of each image (>= 0 for every image the pairs touch)."""
    k = int(groups.max()) + 1
    gi, gj = groups[i], groups[j]
    block = np.minimum(gi, gj) * k + np.maximum(gi, gj)
    order = np.argsort(block, kind="stable")
    bounds = np.searchsorted(block[order], np.arange(k * k + 1))
    out: dict[tuple[int, int], Moments] = {}
    for b in range(k * k):  # k² blocks, each in chunks of pairs
        sel = order[bounds[b] : bounds[b + 1]]
        if len(sel):
            out[(b // k, b % k)] = moments(x, i[sel], j[sel], y[sel], metric)
    return out


def inner_cv_scores(
    x: np.ndarray,
    i: np.ndarray,
    j: np.ndarray,
    y: np.ndarray,
    images: np.ndarray,
    *,
    metric: str,
    variant: str,
    hyperparams: np.ndarray,
    n_folds: int,
    n_repeats: int,
    seed: int,
) -> tuple[np.ndarray, Moments]:
    """(mean inner-test Pearson r per hyperparameter (H,), moments of all pairs).

    Inner folds are image-disjoint: `n_repeats` times, the training `images` are shuffled into
    `n_folds` groups; a fold fits on the pairs among the other groups and scores the clipped
    predictions of the pairs within its group (as the reference scores its inner splits).
    """
    rng = np.random.default_rng(seed)
    groups = np.full(x.shape[0], -1, dtype=np.int64)
    scores, total = [], Moments.zeros(x.shape[1])
    for _ in range(n_repeats):
        groups[rng.permutation(images)] = np.arange(len(images)) % n_folds
        blocks = block_moments(x, i, j, y, groups, metric)
        total = sum(blocks.values(), Moments.zeros(x.shape[1]))
        for g in range(n_folds):
            train = sum(
                (m for (a, b), m in blocks.items() if g not in (a, b)), Moments.zeros(x.shape[1])
            )
            test = (groups[i] == g) & (groups[j] == g)
            if train.n < 2 or test.sum() < 3:
                continue
            w, b0 = ridge_weights(train, hyperparams, variant)
            scores.append(pearson_columns(y[test], predict(x, i[test], j[test], w, b0, metric)))
    if not scores:
        raise DataError(
            f"frrsa's inner cross-validation has no fold with 3 test pairs among "
            f"{len(images)} training images: use more images or model.inner_folds"
        )
    with np.errstate(all="ignore"):
        mean = np.nanmean(np.asarray(scores), axis=0)
    return mean, total
