"""RDMs from trial-level responses: Euclidean, correlation, Mahalanobis, crossnobis, poisson_cv.

Values follow rsatoolbox's conventions (its `calc_rdm` / `calc_rdm_unbalanced`), so that a
dissimilarity means the same thing in both:

    euclidean     |m_i - m_j|^2 / V on the condition means m (all trials averaged)
    correlation   1 - Pearson r of the condition means
    mahalanobis   (m_i - m_j) P (m_i - m_j)^T / V, P the noise precision (rsa.noise)
    crossnobis    the cross-validated Mahalanobis distance: every product of two trials is
                  taken only between trials of different partitions, so the noise cancels in
                  expectation (identical conditions average to 0; values can be negative)
    poisson_cv    cross-validated symmetrised KL divergence of Poisson rates (spike counts)

crossnobis / poisson_cv with one pooled precision follow `calc_rdm_unbalanced`: with S_ij the
mean over ordered trial pairs (a of i, b of j, different partitions) of x_a P x_b^T / V, the
distance is S_ii + S_jj - 2 S_ij. Designs need not be balanced; a condition never measured in
two partitions gives NaN, as do its pairs. With one trial per (condition, partition) cell this
equals `calc_rdm`'s leave-one-partition-out crossnobis. With one precision per partition
(`per_partition`) it is `calc_rdm`'s form: the mean over partition pairs (k, l) of the
fold-mean difference in k times P_kl = ((C_k + C_l) / 2)^-1 times the difference in l, over
the conditions present in both.

Every sum over trial pairs is a product of per-partition sums (no loop over pairs or units).
"""

from __future__ import annotations

import numpy as np
import scipy.linalg as sla

from fmri_rdm.errors import ConfigError, DataError
from fmri_rdm.rsa.noise import Precision, check_noise, precisions
from fmri_rdm.rsa.trials import (
    TrialDesign,
    cell_sums,
    condition_means,
    cross_pair_counts,
    finite_trials,
    trial_design,
    upper,
)

METHODS: tuple[str, ...] = ("euclidean", "correlation", "mahalanobis", "crossnobis", "poisson_cv")
CROSS_VALIDATED = ("crossnobis", "poisson_cv")


def check_method(method: str) -> str:
    """Return `method` if it is a known distance, else ConfigError listing them."""
    if method not in METHODS:
        raise ConfigError(f"unknown distance {method!r}; valid: {', '.join(METHODS)}")
    return method


def trial_rdm(
    trials: np.ndarray,
    conditions: np.ndarray,
    partitions: np.ndarray | None = None,
    *,
    method: str = "crossnobis",
    noise: str = "identity",
    per_partition: bool = False,
    prior_lambda: float = 1.0,
    prior_weight: float = 0.1,
    dtype: type[np.floating] = np.float64,
) -> tuple[np.ndarray, np.ndarray]:
    """The RDM of the conditions from their trials (module docstring).

    trials: (T, V) responses, rows all-NaN = missing trials; conditions: (T,) labels;
    partitions: (T,) run / session / repeat labels (None: every trial its own partition).
    noise: the precision estimate (rsa.noise.NOISE) for mahalanobis / crossnobis, pooled over
    partitions or one per partition. prior_lambda / prior_weight: poisson_cv's rate prior.
    Returns the (C(C-1)/2,) float64 condensed RDM in pdist order and the (C,) sorted labels.
    """
    check_method(method)
    check_noise(noise)
    x, cond, part = finite_trials(trials, conditions, partitions, dtype)
    design = trial_design(cond, part)
    if design.n_conditions < 2:
        raise DataError(f"an RDM needs at least 2 conditions, got {design.n_conditions}")
    v = x.shape[1]
    if method in ("euclidean", "correlation"):
        return _on_means(condition_means(x, design), method), design.labels
    if method == "poisson_cv":
        return _poisson_cv(x, design, prior_lambda, prior_weight) / v, design.labels
    precs = precisions(x, design, noise, per_partition=per_partition)
    if method == "mahalanobis":
        if per_partition:
            raise ConfigError("mahalanobis takes one pooled noise estimate (per_partition=False)")
        m = condition_means(x, design)
        return _mahalanobis(m, m, precs[0]) / v, design.labels
    if design.n_partitions < 2:
        raise DataError("crossnobis needs trials from at least 2 partitions (runs / repeats)")
    if per_partition:
        return _crossnobis_folds(x, design, precs) / v, design.labels
    return _crossnobis(x, design, precs[0]) / v, design.labels


def _on_means(m: np.ndarray, method: str) -> np.ndarray:
    """Squared Euclidean / V or 1 - r between the rows of (C, V) means."""
    if method == "correlation":
        z = m - m.mean(axis=1, keepdims=True)
        norm = np.sqrt(np.einsum("ij,ij->i", z, z))
        if not (norm > 0).all():
            raise DataError("a condition's mean pattern is constant: its correlation is undefined")
        z /= norm[:, None]
        return upper(1.0 - z @ z.T)
    return _mahalanobis(m, m, Precision(np.ones(m.shape[1]))) / m.shape[1]


def _mahalanobis(a: np.ndarray, b: np.ndarray, prec: Precision) -> np.ndarray:
    """Condensed (a_i - a_j) P (b_i - b_j)^T for (C, V) a, b (a = b: squared distances)."""
    k = prec.apply(a) @ b.T
    diag = np.diag(k)
    return upper(diag[:, None] + diag[None, :] - k - k.T)


def _cross_products(left: np.ndarray, right: np.ndarray, prec: Precision | None) -> np.ndarray:
    """(C, C) sum over partitions k != l of left_k P right_l^T; left, right: (K, C, V) sums.

    With a precision P, `right` must be `left` (P symmetric: the k > l terms are the
    transposes of the k < l ones); without one, P is the identity.
    """
    n_k, n_c, v = left.shape
    out = np.zeros((n_c, right.shape[1]))
    if prec is not None:  # one application to the K-1 blocks (fewer, larger products)
        left = prec.apply(left[: n_k - 1].reshape(-1, v)).reshape(n_k - 1, n_c, v)
    tail = right[n_k - 1].copy()  # sum of right_l over l > k
    for k in range(n_k - 2, -1, -1):  # a few partitions
        out += left[k] @ tail.T
        tail += right[k]
    if prec is not None:
        out += out.T  # numpy buffers the overlapping transpose
        return out
    head = right[0].copy()  # sum of right_l over l < k
    for k in range(1, n_k):
        out += left[k] @ head.T
        head += right[k]
    return out


def _from_similarities(sums: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Condensed S_ii + S_jj - 2 S_ij of mean similarities S = sums / weights (NaN where a
    weight is 0). Works in place on `sums` and `weights` (both (C, C), large at full scale)."""
    weights[weights <= 0] = np.nan
    sums /= weights
    diag = np.diag(sums).copy()
    sums *= -2.0
    sums += diag[:, None]
    sums += diag[None, :]
    return upper(sums)


def _crossnobis(x: np.ndarray, design: TrialDesign, prec: Precision) -> np.ndarray:
    """calc_rdm_unbalanced's crossnobis times V (module docstring)."""
    sums = cell_sums(x, design)
    products = _cross_products(sums, sums, prec)
    return _from_similarities(products, cross_pair_counts(design.counts))


def _crossnobis_folds(x: np.ndarray, design: TrialDesign, precs: list[Precision]) -> np.ndarray:
    """calc_rdm's crossnobis with one precision per partition, times V (module docstring)."""
    counts = design.counts.T  # (K, C)
    means = cell_sums(x, design) / np.maximum(counts, 1)[..., None]
    covs = [p.covariance() for p in precs]
    total = np.zeros(len(upper(np.zeros((design.n_conditions,) * 2))))
    n = np.zeros_like(total)
    for k in range(design.n_partitions):  # partition pairs: a few
        for j in range(k + 1, design.n_partitions):
            prec = Precision(np.ones(x.shape[1]), dense=sla.cholesky((covs[k] + covs[j]) / 2))
            both = (counts[k] > 0) & (counts[j] > 0)
            ok = upper(both[:, None] & both[None, :]) > 0
            d = _mahalanobis(means[k] * both[:, None], means[j] * both[:, None], prec)
            total += np.where(ok, d, 0.0)
            n += ok
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 0, total / np.where(n > 0, n, 1.0), np.nan)


def _poisson_cv(x: np.ndarray, design: TrialDesign, lam: float, weight: float) -> np.ndarray:
    """calc_rdm_unbalanced's poisson_cv times V: per trial pair of different partitions,
    similarity -(y_a - y_b).(log y_a - log y_b) / 2 of the prior-smoothed rates y."""
    y = (x + lam * weight) / (1.0 + weight)
    if not (y > 0).all():
        raise DataError("poisson_cv needs non-negative counts (rates must stay positive)")
    ly = np.log(y)
    counts = design.counts  # (C, K)
    e = cell_sums(np.einsum("ij,ij->i", y, ly)[:, None], design)[..., 0].T  # (C, K)
    n_tot, e_tot = counts.sum(axis=1), e.sum(axis=1)
    own = np.outer(e_tot, n_tot) - e @ counts.T  # sum of y_a.log y_a over the pairs
    cross = _cross_products(cell_sums(y, design), cell_sums(ly, design), None)
    sims = -0.5 * (own + own.T - cross - cross.T)
    return _from_similarities(sims, cross_pair_counts(counts))
