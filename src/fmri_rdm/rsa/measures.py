"""RDM comparison measures on paired dissimilarity vectors, as RSA studies use them.

Every measure takes two (P,) vectors of dissimilarities over the same P pairs and returns one
float. Rank measures (Spearman, rho-a, tau-a) suit candidate RDMs with ties (categorical RDMs);
the whitened ones (corr_cov, cosine_cov) weigh the pairs by the inverse of the covariance the
shared images induce between RDM entries (independent, equal noise on each pattern). The
whitened measures also need the pairs' image indices: an entry's covariance depends on which
images it shares with the others.

A measure that is undefined because one vector has no spread (a constant RDM) is 0.0, the value
rsatoolbox's `compare` gives, so that a constant candidate scores "no relation" rather than NaN.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from fmri_rdm.errors import ConfigError, DataError

MEASURES: tuple[str, ...] = (
    "pearson",
    "spearman",
    "cosine",
    "rho_a",
    "tau_a",
    "corr_cov",
    "cosine_cov",
)
WHITENED: frozenset[str] = frozenset({"corr_cov", "cosine_cov"})

# Incomplete pair sets solve one dense (m x m) system over their m images; beyond this it is
# slower than the run it scores.
_MAX_DENSE_IMAGES = 6000


def check_measure(name: str) -> str:
    """`name` if it is a known measure, else ConfigError listing the valid ones."""
    if name not in MEASURES:
        raise ConfigError(f"unknown RDM comparison measure {name!r}; valid: {', '.join(MEASURES)}")
    return name


def _vectors(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Both (P,) inputs as float64, with their shapes checked."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.ndim != 1 or a.shape != b.shape:
        raise DataError(f"RDM vectors must be 1-D of one length, got {a.shape} and {b.shape}")
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
        raise DataError("RDM vectors hold NaN or inf: drop those pairs before comparing")
    return a, b


def _cosine_of(a: np.ndarray, b: np.ndarray) -> float:
    """a.b / (|a| |b|), 0.0 when either vector is zero."""
    na = float(np.dot(a, a))
    nb = float(np.dot(b, b))
    if na <= 0.0 or nb <= 0.0:
        return 0.0
    return float(np.dot(a, b) / np.sqrt(na * nb))


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    """Cosine similarity of two (P,) dissimilarity vectors (no centering)."""
    a, b = _vectors(a, b)
    return _cosine_of(a, b)


def pearson(a: np.ndarray, b: np.ndarray) -> float:
    """Pearson correlation of two (P,) vectors (0.0 if either is constant)."""
    a, b = _vectors(a, b)
    return _cosine_of(a - a.mean(), b - b.mean())


def _centred_ranks(v: np.ndarray) -> np.ndarray:
    """(P,) average ranks (ties share their mean rank) minus their mean."""
    r = stats.rankdata(v)
    return r - r.mean()


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman correlation: Pearson's of the average ranks (0.0 if either is constant)."""
    a, b = _vectors(a, b)
    return _cosine_of(_centred_ranks(a), _centred_ranks(b))


def rho_a(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman's rho-a: the expected rank correlation under random tie breaking.

    12 * sum(ra * rb) / (P^3 - P) for centred average ranks ra, rb: the covariance of the ranks
    over the variance of untied ranks, so ties shrink it instead of being corrected away.
    """
    a, b = _vectors(a, b)
    p = a.size
    if p < 2:
        return 0.0
    return float(12.0 * np.dot(_centred_ranks(a), _centred_ranks(b)) / (p**3 - p))


def _tied_pairs(v: np.ndarray) -> int:
    """Number of pairs of entries of (P,) `v` with equal values."""
    _, counts = np.unique(v, return_counts=True)
    counts = counts.astype(np.int64)
    return int(np.sum(counts * (counts - 1) // 2))


def tau_a(a: np.ndarray, b: np.ndarray) -> float:
    """Kendall's tau-a: (concordant - discordant pairs of entries) / all P(P-1)/2 pairs.

    Obtained from scipy's O(P log P) tau-b, whose denominator sqrt((n0 - t_a)(n0 - t_b)) only
    removes the pairs tied in a (t_a) or in b (t_b); a constant vector gives 0.
    """
    a, b = _vectors(a, b)
    total = a.size * (a.size - 1) // 2
    if total == 0:
        return 0.0
    untied_a = total - _tied_pairs(a)
    untied_b = total - _tied_pairs(b)
    if untied_a == 0 or untied_b == 0:
        return 0.0
    tau_b = stats.kendalltau(a, b, variant="b").statistic
    value = float(tau_b) * np.sqrt(float(untied_a) * float(untied_b)) / total
    return float(min(1.0, max(-1.0, value)))


def _compact(i: np.ndarray, j: np.ndarray, p: int) -> tuple[np.ndarray, np.ndarray, int]:
    """Pair indices relabelled 0..m-1 over the m images they touch, and m."""
    i = np.asarray(i, dtype=np.int64)
    j = np.asarray(j, dtype=np.int64)
    if i.shape != (p,) or j.shape != (p,):
        raise DataError(
            f"pair indices must be ({p},) like the RDM vectors, got {i.shape}, {j.shape}"
        )
    if p and np.any(i == j):
        raise DataError("a pair joins an image to itself; RDM pairs need two images")
    images, inverse = np.unique(np.concatenate([i, j]), return_inverse=True)
    return inverse[:p], inverse[p:], int(images.size)


def _whitened(
    v: np.ndarray, i: np.ndarray, j: np.ndarray, m: int, complete: bool
) -> tuple[np.ndarray, np.ndarray]:
    """The whitened form of one RDM: (P,) pair terms and (m,) diagonal terms.

    The RDM is read as the second-moment matrix G = -D/2 (diagonal 0), from which the row and
    column effects are removed by the weighted projection whose normal matrix M (m, m) has
    M[k, k] = 1 + deg(k)/2 and M[k, l] = 1/2 for each present pair (k, l): on a complete set of
    pairs this is exact double centering, with M = (J + m I)/2 inverted in closed form.
    Off-diagonal terms are scaled by sqrt(2) because each stands for two entries of G.
    """
    w = -0.5 * v
    s = np.bincount(i, weights=w, minlength=m) + np.bincount(j, weights=w, minlength=m)
    if complete:
        beta = (2.0 / m) * (s - s.sum() / (2.0 * m))
    else:
        if m > _MAX_DENSE_IMAGES:
            raise DataError(
                f"whitened measures on an incomplete pair set need m <= {_MAX_DENSE_IMAGES} "
                f"images, got {m}; score all pairs of the test images instead"
            )
        deg = np.bincount(i, minlength=m) + np.bincount(j, minlength=m)
        normal = np.diag(1.0 + 0.5 * deg)
        np.add.at(normal, (i, j), 0.5)
        np.add.at(normal, (j, i), 0.5)
        beta = np.linalg.solve(normal, s)
    pair_terms = (w - 0.5 * (beta[i] + beta[j])) * np.sqrt(2.0)
    return pair_terms, -beta


def whitened_similarity(
    a: np.ndarray, b: np.ndarray, i: np.ndarray, j: np.ndarray, *, centre: bool
) -> float:
    """corr_cov (centre=True) or cosine_cov (centre=False) of two (P,) RDM vectors.

    i, j: (P,) image indices of the pairs (any labels; only which pairs share images matters).
    """
    a, b = _vectors(a, b)
    ci, cj, m = _compact(i, j, a.size)
    if a.size == 0:
        return 0.0
    complete = a.size == m * (m - 1) // 2 and np.unique(ci * m + cj).size == a.size
    if centre:
        a = a - a.mean()
        b = b - b.mean()
    pa, da = _whitened(a, ci, cj, m, complete)
    pb, db = _whitened(b, ci, cj, m, complete)
    return _cosine_of(np.concatenate([pa, da]), np.concatenate([pb, db]))


def compare_vectors(
    a: np.ndarray,
    b: np.ndarray,
    measure: str,
    i: np.ndarray | None = None,
    j: np.ndarray | None = None,
) -> float:
    """One measure of two (P,) dissimilarity vectors; whitened measures need pairs i, j (P,)."""
    check_measure(measure)
    if measure in WHITENED:
        if i is None or j is None:
            raise ConfigError(f"measure {measure!r} needs the image indices of the pairs")
        return whitened_similarity(a, b, i, j, centre=measure == "corr_cov")
    simple = {
        "pearson": pearson,
        "spearman": spearman,
        "cosine": cosine,
        "rho_a": rho_a,
        "tau_a": tau_a,
    }
    return simple[measure](a, b)


def measure_scores(
    names: tuple[str, ...] | list[str],
    target: np.ndarray,
    prediction: np.ndarray,
    i: np.ndarray,
    j: np.ndarray,
) -> dict[str, float | None]:
    """{measure: value} of predictions (P,) against targets (P,) over pairs (i, j); None where
    fewer than 2 pairs (the fold has no test pairs to compare)."""
    if len(target) < 2:
        return dict.fromkeys(names)
    return {name: compare_vectors(target, prediction, name, i, j) for name in names}
