"""The few array operations the fold statistics need, for numpy and for torch (CPU or CUDA).

The resampling code (`stats/rank_resamples.py`, `stats/permutation.py`) is written once against
this interface, as himalaya writes its solvers against its backend: arrays come in and go out
as numpy, everything in between lives on the backend's device. numpy runs on the CPU; torch
serves `evaluation.statistics_device=cuda` (and CPU torch in the tests, to check that both give
the same values).

Layout rule of the callers: a block of resamples is the LAST axis, so a row (one pair, all
resamples of the block) is contiguous and a gather of rows reads whole cache lines.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from fmri_rdm.errors import ConfigError

log = logging.getLogger(__name__)


class NumpyBackend:
    """numpy on the CPU. `chunk_pairs` bounds the pairs held at once, so that a chunk's
    (pairs x resamples) temporaries stay in cache; `block` is the resamples per block."""

    name = "numpy"
    chunk_pairs = 1 << 15
    block = 8
    segment = 16  # rows of a chunk's (segment, pairs / segment, block) cumulative-sum layout

    def __init__(self) -> None:
        self._ones = np.ones(0)

    def asarray(self, x: Any, dtype: Any = np.float64) -> np.ndarray:
        return np.ascontiguousarray(x, dtype=dtype)

    def index(self, x: Any) -> np.ndarray:
        return np.ascontiguousarray(x, dtype=np.intp)

    def to_numpy(self, x: Any) -> np.ndarray:
        return np.asarray(x)

    def zeros(self, shape: tuple[int, ...]) -> np.ndarray:
        return np.zeros(shape)

    def empty(self, shape: tuple[int, ...], exact_below: int = 0) -> np.ndarray:
        """float64, or float32 where `exact_below` > 0 says the values are integers that
        float32 holds exactly."""
        return np.empty(shape, dtype=np.float32 if exact_below else np.float64)

    def copy_into(self, out: np.ndarray, x: np.ndarray) -> None:
        np.copyto(out, x)

    def take(self, x: np.ndarray, rows: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """x[rows] for a 2-D x (rows of the first axis), into `out` when given."""
        return np.take(x, rows, axis=0, out=out, mode="clip" if out is not None else "raise")

    def gather(self, flat: np.ndarray, idx: np.ndarray) -> np.ndarray:
        """flat[idx] for a 1-D flat and an integer idx of any shape."""
        return np.take(flat, idx)

    def permuted_sums(self, tables: np.ndarray, weights: np.ndarray, perms: np.ndarray) -> Any:
        """(R, q) sums over a < b of weights[k, a, b] * tables[k, p[a], p[b]] for each
        permutation row p of perms (R, n); tables, weights (q, n, n) float32, weights zero on
        and below the diagonal. A few rows at a time (cache), float64 between them."""
        q, n, _ = tables.shape
        t = np.ascontiguousarray(np.moveaxis(tables, 0, -1))  # (n, n, q): a gather moves q
        w = np.ascontiguousarray(np.moveaxis(weights, 0, -1))
        out = np.zeros((len(perms), q))
        step = max(1, (1 << 16) // max(n * q, 1))
        ones = np.ones(step * n, dtype=np.float32)
        for r, p in enumerate(np.asarray(perms)):
            for i in range(0, n - 1, step):
                y = np.take(np.take(t, p[i : i + step], axis=0), p[i:], axis=1)
                y *= w[i : i + step, i:]
                y = y.reshape(-1, q)  # float32 sums of one row block, float64 across blocks
                out[r] += ones[: y.shape[0]] @ y
        return out

    def cumsum(self, x: np.ndarray) -> np.ndarray:
        """Cumulative sum along the first axis of x (k, ...), in place (numpy's own
        accumulate walks a strided column at a time; row additions stream)."""
        for i in range(1, x.shape[0]):
            np.add(x[i - 1], x[i], out=x[i])
        return x

    def cumsum_short(self, x: np.ndarray) -> np.ndarray:
        """Cumulative sum along the first axis of a small x (copy)."""
        return np.cumsum(x, axis=0)

    def row_dots(self, x: np.ndarray, y: np.ndarray | None) -> np.ndarray:
        """(r,) sum over the rows of x * y (or of x), for x, y (rows, r); y is overwritten."""
        if y is not None:
            x = np.multiply(x, y, out=y)
        if self._ones.size < x.shape[0]:
            self._ones = np.ones(x.shape[0])
        return self._ones[: x.shape[0]] @ x


class TorchBackend:
    """torch on `device`; a block is as many resamples as fit `elements` (pairs x resamples)
    temporaries, and a chunk is all pairs (a GPU wants few, large kernels)."""

    name = "torch"
    segment = 1

    def __init__(self, device: str, elements: int = 1 << 25) -> None:
        import torch

        self.torch = torch
        self.device = torch.device(device)
        self.elements = elements
        self.chunk_pairs = 1 << 62
        self.block = 0  # set per call: elements // pairs

    def asarray(self, x: Any, dtype: Any = None) -> Any:
        dtype = self.torch.float64 if dtype in (None, np.float64) else dtype
        return self.torch.as_tensor(np.ascontiguousarray(x), dtype=dtype, device=self.device)

    def index(self, x: Any) -> Any:
        return self.torch.as_tensor(np.asarray(x, dtype=np.int64), device=self.device)

    def to_numpy(self, x: Any) -> np.ndarray:
        return x.detach().cpu().numpy()

    def zeros(self, shape: tuple[int, ...]) -> Any:
        return self.torch.zeros(shape, dtype=self.torch.float64, device=self.device)

    def empty(self, shape: tuple[int, ...], exact_below: int = 0) -> Any:
        dtype = self.torch.float32 if exact_below else self.torch.float64
        return self.torch.empty(shape, dtype=dtype, device=self.device)

    def copy_into(self, out: Any, x: Any) -> None:
        out.copy_(x)

    def take(self, x: Any, rows: Any, out: Any = None) -> Any:
        if out is None or out.dtype != x.dtype:
            return x.index_select(0, rows)
        return self.torch.index_select(x, 0, rows, out=out)

    def gather(self, flat: Any, idx: Any) -> Any:
        return flat[idx]

    def permuted_sums(self, tables: np.ndarray, weights: np.ndarray, perms: np.ndarray) -> Any:
        """As `NumpyBackend.permuted_sums`, a block of permutations per step, float64."""
        q, n, _ = tables.shape
        t, w = self.asarray(tables), self.asarray(weights)
        out = []
        step = max(1, self.elements // max(q * n * n, 1))
        for s in range(0, len(perms), step):
            p = self.index(perms[s : s + step])
            y = t[:, p[:, :, None], p[:, None, :]]  # (q, r, n, n)
            out.append((y * w[:, None]).sum(dim=(2, 3)).T)
        return self.to_numpy(self.torch.cat(out))

    def cumsum(self, x: Any) -> Any:
        return self.torch.cumsum(x, dim=0, out=x) if x.is_contiguous() else x.cumsum(0)

    def cumsum_short(self, x: Any) -> Any:
        return self.torch.cumsum(x, dim=0)

    def row_dots(self, x: Any, y: Any | None) -> Any:
        return x.sum(dim=0) if y is None else self.torch.linalg.vecdot(x, y, dim=0)


Backend = NumpyBackend | TorchBackend


def backend_for(device: str) -> Backend:
    """`cpu` -> numpy; any other torch device string (`cuda`, `cuda:1`, `torch-cpu`) -> torch."""
    if device == "cpu":
        return NumpyBackend()
    return TorchBackend("cpu" if device == "torch-cpu" else device)


def statistics_device(requested: str, accelerator: str) -> str:
    """Where the fold statistics run: `cpu` (numpy), or `cuda` (torch); `auto` takes the GPU
    when the run trains on one that is present (the statistics then no longer hold the GPU idle
    while the CPU loops over resamples)."""
    if requested not in ("auto", "cpu", "cuda"):
        raise ConfigError(f"evaluation.statistics_device={requested!r}: choose auto, cpu or cuda")
    if requested == "cpu" or (requested == "auto" and accelerator not in ("gpu", "cuda", "auto")):
        return "cpu"
    import torch

    if torch.cuda.is_available():
        log.info("fold statistics: bootstrap and permutation resamples on the GPU (torch)")
        return "cuda"
    if requested == "cuda":
        raise ConfigError("evaluation.statistics_device=cuda but no CUDA device is present")
    return "cpu"
