"""Reading and checking dissimilarity files of the folder format (`<roi>.rdm.npy`,
`<roi>.rdm.hdf5`): every accepted shape becomes (sessions, n(n-1)/2) float64 condensed RDMs in
the subject's stimulus order, or a DataError that names the file and the fix."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from fmri_rdm.errors import DataError

log = logging.getLogger(__name__)

MAX_NAN_FRACTION = 0.05  # NaN pairs above this share of a subject's pairs stop the run
_TOL = 1e-6


def _n_from_condensed(length: int) -> int | None:
    n = round((1 + np.sqrt(1 + 8 * length)) / 2)
    return n if n * (n - 1) // 2 == length else None


def _square_to_condensed(square: np.ndarray, path: Path) -> np.ndarray:
    """(S, n, n) -> (S, n(n-1)/2), checking symmetry and a zero diagonal."""
    n = square.shape[-1]
    diag = np.diagonal(square, axis1=1, axis2=2)
    if np.all(np.abs(diag - 1) <= _TOL):
        raise DataError(
            f"{path}: the RDM's diagonal is 1, as in a similarity or correlation matrix: save "
            "dissimilarities with a 0 diagonal (1 - S for a similarity S)"
        )
    if np.any(np.abs(np.nan_to_num(diag)) > _TOL):
        raise DataError(
            f"{path}: the RDM diagonal is not 0 (max |d(k,k)| = {np.nanmax(np.abs(diag)):.3g}): "
            "a stimulus has dissimilarity 0 to itself; save dissimilarities, not similarities "
            "or correlations (1 - r is a dissimilarity)"
        )
    both = np.isfinite(square) & np.isfinite(np.swapaxes(square, 1, 2))
    gap = np.abs(square - np.swapaxes(square, 1, 2))[both]
    scale = max(1.0, float(np.nanmax(np.abs(square)))) if square.size else 1.0
    if gap.size and gap.max() > _TOL * scale:
        raise DataError(
            f"{path}: the RDM is not symmetric (max |d(i,j) - d(j,i)| = {gap.max():.3g}): "
            "save a symmetric matrix, e.g. (D + D.T) / 2, or the condensed upper triangle"
        )
    a, b = np.triu_indices(n, 1)
    return square[:, a, b]


def condensed_sessions(values: np.ndarray, n: int, path: Path) -> np.ndarray:
    """(S, n(n-1)/2) float64 from an array of shape (n, n), (n(n-1)/2,), (S, n, n) or
    (S, n(n-1)/2): DataError when it is none of these for `n` stimuli."""
    x = np.asarray(values, dtype=np.float64)
    length = n * (n - 1) // 2
    if x.ndim == 2 and x.shape == (n, n) and n > 1:
        return _square_to_condensed(x[None], path)
    if x.ndim == 3 and x.shape[1:] == (n, n):
        return _square_to_condensed(x, path)
    if x.ndim == 1 and x.size == length:
        return x[None]
    if x.ndim == 2 and x.shape[1] == length and x.shape != (n, n):
        return x
    if x.ndim == 3 and x.shape[:2] == (n, n):
        raise DataError(
            f"{path}: shape {x.shape} is a MATLAB-ordered stack (stimuli, stimuli, sessions): "
            f"save np.moveaxis(x, -1, 0), shape ({x.shape[2]}, {n}, {n})"
        )
    if x.ndim == 2 and x.shape[0] == length:
        raise DataError(
            f"{path}: shape {x.shape} looks transposed (pairs, sessions): save x.T, shape "
            f"({x.shape[1]}, {length})"
        )
    if (
        x.ndim >= 2
        and x.shape[-1] != x.shape[-2]
        and (x.ndim == 3 or _n_from_condensed(x.shape[-1]) is None)
    ):
        raise DataError(
            f"{path}: shape {x.shape} is not square: an RDM is ({n}, {n}) for the subject's "
            f"{n} stimuli, or ({length},) condensed"
        )
    square = x.ndim >= 2 and x.shape[-1] == x.shape[-2]
    fits = x.shape[-1] if square else _n_from_condensed(x.shape[-1])
    guess = f" (an RDM of {fits} stimuli?)" if fits else ""
    raise DataError(
        f"{path}: shape {x.shape} does not fit the subject's {n} stimuli{guess}: give "
        f"({n}, {n}), ({length},) condensed, or a session stack (s, {n}, {n}) / "
        f"(s, {length}); or list the subject's stimuli in its stimuli.tsv"
    )


def check_values(sessions: np.ndarray, path: Path) -> np.ndarray:
    """The sessions with negative values refused and NaN pairs checked: a pair NaN in some
    sessions averages the others; pairs NaN in every session are dropped from the run with a
    warning when few (<= MAX_NAN_FRACTION), a DataError when many."""
    finite = np.isfinite(sessions)
    if np.any(np.isinf(sessions)):
        raise DataError(f"{path}: the RDM holds infinite values; replace them with NaN or fix them")
    if np.any(sessions[finite] < -_TOL):
        raise DataError(
            f"{path}: the RDM holds negative dissimilarities (min {sessions[finite].min():.3g}): "
            "save dissimilarities >= 0 (e.g. 1 - correlation, Euclidean distance)"
        )
    lost = ~finite.any(axis=0)
    if lost.any():
        share = lost.mean()
        if share > MAX_NAN_FRACTION:
            raise DataError(
                f"{path}: {int(lost.sum())} of {lost.size} pairs ({share:.0%}) are NaN in every "
                f"session (at most {MAX_NAN_FRACTION:.0%} are dropped): drop the stimuli "
                "without data from the subject's stimuli.tsv"
            )
        log.warning(
            "%s: %d of %d pairs are NaN in every session; they are left out of the run",
            path,
            int(lost.sum()),
            lost.size,
        )
    return sessions


def sub_rdm(sessions: np.ndarray, n: int, rows: np.ndarray) -> np.ndarray:
    """(S, m(m-1)/2) of the stimuli `rows` (m,) (positions among n), in that order."""
    from fmri_rdm.rsa.rdm import condensed_index

    rows = np.asarray(rows, dtype=np.int64)
    a, b = np.triu_indices(rows.size, 1)
    ra, rb = rows[a], rows[b]
    if np.any(ra == rb):
        raise DataError("a stimulus is selected twice")
    index = condensed_index(np.minimum(ra, rb), np.maximum(ra, rb), n)
    return sessions[:, index]


def read_rsatoolbox(path: Path, ids: np.ndarray, files: list[str]) -> np.ndarray:
    """(S, n(n-1)/2) of an rsatoolbox RDMs file, reordered to the subject's stimuli.

    A pattern descriptor `stimulus_id` (or `file`) names the stimuli; without one the file's
    order must be the subject's order. ids / files: (n,) the subject's stimulus ids / files.
    """
    from rsatoolbox.rdm import load_rdm

    try:
        rdms = load_rdm(str(path), file_type="hdf5")
    except (OSError, KeyError, ValueError) as err:
        raise DataError(
            f"{path}: not an rsatoolbox RDMs file ({err}); save with RDMs.save"
        ) from err
    values = np.asarray(rdms.get_vectors(), dtype=np.float64)
    n = len(ids)
    descriptors = rdms.pattern_descriptors
    for key, wanted in (("stimulus_id", [str(i) for i in ids]), ("file", files)):
        if key not in descriptors:
            continue
        named = [str(v) for v in descriptors[key]]
        position = {v: k for k, v in enumerate(named)}
        unknown = [w for w in wanted if w not in position]
        if len(position) != len(named) or unknown:
            problem = f"lacks {unknown[:3]}" if unknown else "repeats stimuli"
            raise DataError(
                f"{path}: pattern descriptor {key!r} {problem}: name each of the subject's "
                f"{n} stimuli once"
            )
        order = np.asarray([position[w] for w in wanted], dtype=np.int64)
        return sub_rdm(check_square(values, len(named), path), len(named), order)
    return check_square(values, n, path)


def check_square(values: np.ndarray, n: int, path: Path) -> np.ndarray:
    return condensed_sessions(values, n, path)
