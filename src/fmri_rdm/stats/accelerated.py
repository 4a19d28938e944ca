"""The per-resample loops of the fold statistics, vectorized over blocks of resamples in torch.

At full scale (about 2,000 test images, 1.9 M test pairs per fold) the stimulus bootstrap's
Spearman and the permutation null touch every pair once per resample: 1,000 resamples x 1.9 M
random gathers, cumulative sums and dot products, minutes per fold in numpy on one core. Here a
block of resamples is one (r, P) tensor, so a GPU does a block in a few kernel launches.

The arithmetic is the numpy reference's (`bootstrap.weighted_spearman`,
`permutation.permutation_null`), with float64 accumulation throughout: integer pair weights and
cumulative sums (exact), mid-ranks from tie groups found once, then moment sums. Results agree
with the numpy path to float32 rounding (tests/stats/test_accelerated.py, on CPU torch).
"""

from __future__ import annotations

import logging
from functools import partial
from typing import TYPE_CHECKING

import numpy as np
from scipy.stats import rankdata

from fmri_rdm.stats import bootstrap as boot
from fmri_rdm.stats.bootstrap import _pearson_from_sums, _RankOrder

if TYPE_CHECKING:
    import torch

log = logging.getLogger(__name__)

_BLOCK_ELEMENTS = 1 << 25  # resamples x pairs per block: a few (r, P) temporaries of 256 MB


def _block_rows(n_pairs: int) -> int:
    return max(1, _BLOCK_ELEMENTS // max(n_pairs, 1))


def _tensor(x: np.ndarray, device: torch.device, dtype: torch.dtype | None = None) -> torch.Tensor:
    import torch

    return torch.as_tensor(np.ascontiguousarray(x), device=device, dtype=dtype)


class _TieGroups:
    """A `_RankOrder` moved to the device: sort order and, with ties, each position's group."""

    def __init__(self, order: _RankOrder, device: torch.device) -> None:
        import torch

        self.ties = order.ties
        self.first = _tensor(order.first, device, torch.long) if order.ties else None
        self.last = _tensor(order.last, device, torch.long) if order.ties else None

    def centred_ranks(self, w: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(r, P) float64 2 x (mid-rank - mean rank) and (r,) total weight, from integer
        weights (r, P) in sorted order (as `_RankOrder.centred_ranks`, one row per resample)."""
        import torch

        cs = torch.cumsum(w, dim=1)
        total = cs[:, -1:]
        if self.ties:
            before = cs[:, self.first] - w[:, self.first]
            twice = 2 * before + (cs[:, self.last] - before) - total
        else:
            twice = 2 * cs - w - total
        return twice.to(torch.float64), total[:, 0].to(torch.float64)


def weighted_spearman(
    counts: np.ndarray,
    a: np.ndarray,
    b: np.ndarray,
    target: np.ndarray,
    predictions: np.ndarray,
    device: torch.device | str,
) -> np.ndarray:
    """(K, B) Spearman rho of each prediction row in every resample, as
    `bootstrap.weighted_spearman` (counts (B, n), a, b (P,), target (P,), predictions (K, P))."""
    import torch

    device = torch.device(device)
    preds = np.atleast_2d(np.asarray(predictions))
    t_order = _RankOrder(np.asarray(target))
    at, bt = np.asarray(a)[t_order.order], np.asarray(b)[t_order.order]
    per_prediction = []
    for p in preds:
        o = _RankOrder(np.asarray(p)[t_order.order])
        per_prediction.append(
            (
                _TieGroups(o, device),
                _tensor(at[o.order], device, torch.long),
                _tensor(bt[o.order], device, torch.long),
                _tensor(o.order, device, torch.long),
            )
        )
    t_groups = _TieGroups(t_order, device)
    at_d, bt_d = _tensor(at, device, torch.long), _tensor(bt, device, torch.long)
    c_all = _tensor(np.asarray(counts), device, torch.int64)
    out = np.empty((preds.shape[0], c_all.shape[0]))
    step = _block_rows(len(at))
    for s in range(0, c_all.shape[0], step):
        c = c_all[s : s + step]
        wt = c[:, at_d] * c[:, bt_d]
        rt, total = t_groups.centred_ranks(wt)
        wrt = wt * rt
        stt = (wrt * rt).sum(dim=1)
        for k, (groups, ap, bp, order) in enumerate(per_prediction):
            wp = c[:, ap] * c[:, bp]
            rp, _ = groups.centred_ranks(wp)
            wrp = wp * rp
            spp = (wrp * rp).sum(dim=1)
            stp = (wrp * rt[:, order]).sum(dim=1)
            sums = [x.cpu().numpy() for x in (total, stt, spp, stp)]
            zeros = np.zeros_like(sums[0])
            out[k, s : s + step] = _pearson_from_sums(sums[0], zeros, zeros, *sums[1:])
        del wt, rt, wrt
    return out


def bootstrap_scores(
    target: np.ndarray,
    predictions: np.ndarray,
    a: np.ndarray,
    b: np.ndarray,
    counts: np.ndarray,
    scores: tuple[str, ...],
    device: torch.device | str,
    raw: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """`bootstrap.bootstrap_scores` with the Spearman resamples on `device` (the moment scores
    are one GEMM on the CPU either way); raw: the uncalibrated predictions (correlations)."""
    spearman = partial(weighted_spearman, device=device)
    return boot.bootstrap_scores(target, predictions, a, b, counts, scores, spearman, raw)


def _average_ranks(y: torch.Tensor) -> torch.Tensor:
    """(r, P) float64 mid-ranks of each row (ties share their average rank), as
    `scipy.stats.rankdata(y, axis=1)`."""
    import torch

    sorted_y, order = torch.sort(y, dim=1, stable=True)
    new = torch.ones_like(sorted_y, dtype=torch.bool)
    new[:, 1:] = sorted_y[:, 1:] != sorted_y[:, :-1]
    group = torch.cumsum(new.to(torch.long), dim=1) - 1
    pos = torch.arange(y.shape[1], device=y.device, dtype=torch.float64).expand_as(sorted_y)
    first = torch.full(y.shape, float(y.shape[1]), device=y.device, dtype=torch.float64)
    last = torch.zeros(y.shape, device=y.device, dtype=torch.float64)
    first = first.scatter_reduce(1, group, pos, reduce="amin")
    last = last.scatter_reduce(1, group, pos, reduce="amax")
    mid = (torch.gather(first, 1, group) + torch.gather(last, 1, group)) / 2 + 1
    return torch.empty_like(mid).scatter_(1, order, mid)


def _null_rows(
    flat: torch.Tensor, n: int, a: torch.Tensor, b: torch.Tensor, perms: torch.Tensor
) -> torch.Tensor:
    """(r, P) float64 values square[perm[a], perm[b]] of each permutation row (r, n)."""
    import torch

    return flat[perms[:, a] * n + perms[:, b]].to(torch.float64)


def _correlate_rows(y: torch.Tensor, xc: torch.Tensor) -> torch.Tensor:
    """(r,) Pearson r of each row of y (r, P) with the centred unit vector xc (P,); NaN where a
    row is constant (the relabelled target has no variance)."""
    import torch

    count = y.shape[1]
    s1, s2, sxy = y.sum(dim=1), (y * y).sum(dim=1), y @ xc
    var = s2 - s1 * s1 / count
    ok = var > 1e-9 * torch.clamp(s2, min=1e-300)
    return torch.where(ok, sxy / torch.sqrt(torch.clamp(var, min=1e-300)), torch.nan)


def permutation_null(
    square: np.ndarray,
    a: np.ndarray,
    b: np.ndarray,
    prediction: np.ndarray,
    perms: np.ndarray,
    statistics: tuple[str, ...],
    device: torch.device | str,
) -> dict[str, np.ndarray]:
    """{statistic: (R,)} as `permutation.permutation_null`, a block of permutations at a time."""
    import torch

    device = torch.device(device)
    n = square.shape[0]
    all_pairs = len(a) == n * (n - 1) // 2
    iu = np.triu_indices(n, 1)
    a_d, b_d = (
        _tensor(np.asarray(a), device, torch.long),
        _tensor(np.asarray(b), device, torch.long),
    )
    perms_d = _tensor(np.asarray(perms), device, torch.long)
    x = np.asarray(prediction, dtype=np.float64)

    def unit(v: np.ndarray) -> torch.Tensor:
        centred = v - v.mean()
        return _tensor(centred / max(float(np.linalg.norm(centred)), 1e-300), device)

    tables: dict[str, tuple[torch.Tensor, torch.Tensor]] = {}
    if "pearson" in statistics:
        tables["pearson"] = (_tensor(square - square[iu].mean(), device).reshape(-1), unit(x))
    if "spearman" in statistics and all_pairs:
        # all pairs: relabelling only reorders the target values, so their ranks are permuted
        ranks = np.zeros_like(square)
        ranks[iu] = rankdata(square[iu])
        ranks += ranks.T
        tables["spearman"] = (
            _tensor(ranks - ranks[iu].mean(), device).reshape(-1),
            unit(rankdata(x)),
        )
    out = {s: np.empty(len(perms)) for s in statistics}
    step = _block_rows(len(a))
    general = "spearman" in statistics and not all_pairs
    rank_x = unit(rankdata(x)) if general else None
    square_d = _tensor(square, device).reshape(-1) if general else None
    for s in range(0, len(perms), step):
        block = perms_d[s : s + step]
        for name, (flat, xc) in tables.items():
            out[name][s : s + step] = (
                _correlate_rows(_null_rows(flat, n, a_d, b_d, block), xc).cpu().numpy()
            )
        if general:
            assert square_d is not None and rank_x is not None
            ranks_y = _average_ranks(_null_rows(square_d, n, a_d, b_d, block))
            out["spearman"][s : s + step] = _correlate_rows(ranks_y, rank_x).cpu().numpy()
    return out


def statistics_device(requested: str, accelerator: str) -> str:
    """Where the fold statistics run: `cpu` (numpy), or a torch device for `cuda`; `auto` takes
    the GPU when the run trains on one that is present (the statistics then no longer hold the
    GPU idle while the CPU loops over resamples)."""
    if requested not in ("auto", "cpu", "cuda"):
        from fmri_rdm.errors import ConfigError

        raise ConfigError(f"evaluation.statistics_device={requested!r}: choose auto, cpu or cuda")
    if requested == "cpu" or (requested == "auto" and accelerator not in ("gpu", "cuda", "auto")):
        return "cpu"
    import torch

    if torch.cuda.is_available():
        log.info("fold statistics: bootstrap and permutation resamples on the GPU (torch)")
        return "cuda"
    if requested == "cuda":
        from fmri_rdm.errors import ConfigError

        raise ConfigError("evaluation.statistics_device=cuda but no CUDA device is present")
    return "cpu"


__all__ = ["bootstrap_scores", "permutation_null", "statistics_device", "weighted_spearman"]
