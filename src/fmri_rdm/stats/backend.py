"""The few array operations the fold statistics need, for numpy and for torch (CPU or CUDA).

The resampling code (`stats/rank_resamples.py`, `stats/permutation.py`) is written once against
this interface, as himalaya writes its solvers against its backend: arrays come in as numpy and
results go out as numpy, everything in between lives on the backend's device in its `dtype`
(float32 where the callers' integer-valued quantities fit it exactly, else float64; sums are
float64). numpy runs on the CPU; torch serves `evaluation.statistics_device=cuda` (and CPU torch
in the tests, to check that both give the same values).

Layout rule of the callers: a block of resamples is the LAST axis, so a row (one pair, all
resamples of the block) is contiguous and a gather of rows reads whole cache lines.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from fmri_rdm.errors import ConfigError
from fmri_rdm.runtime.threads import available_cores

log = logging.getLogger(__name__)


class NumpyBackend:
    """numpy on the CPU. A chunk's (pairs x resamples) buffers are sized to stay in a core's
    cache: `chunk_pairs` pairs of `block` resamples, laid out as (`segment`, pairs / segment,
    block) so that a cumulative sum over the pairs is one small matrix product."""

    name = "numpy"
    chunk_pairs = 2048
    block = 16
    segment = 16

    def __init__(self, exact: bool = False) -> None:
        self.dtype = np.float32 if exact else np.float64
        self._ones = np.ones(0, dtype=self.dtype)
        # numpy releases the GIL in its loops: blocks of resamples run on this process's
        # share of the cores (OMP_NUM_THREADS, as `runtime.threads.apply_threads` sets it)
        self.workers = int(os.environ.get("OMP_NUM_THREADS") or available_cores())

    def map_blocks(
        self, fn: Callable[[Any, int], Any], starts: Iterable[int], state: Callable[[], Any]
    ) -> list:
        """[fn(state, start) for start in starts] on `workers` threads, each with its own
        state() (its buffers), in order."""
        starts = list(starts)
        workers = max(1, min(self.workers, len(starts)))
        states = [state() for _ in range(workers)]
        if workers == 1:
            return [fn(states[0], s) for s in starts]
        lanes = [starts[k::workers] for k in range(workers)]
        with ThreadPoolExecutor(workers) as pool:
            done = list(pool.map(lambda k: [fn(states[k], s) for s in lanes[k]], range(workers)))
        by_start = {s: r for k in range(workers) for s, r in zip(lanes[k], done[k], strict=True)}
        return [by_start[s] for s in starts]

    def block_size(self, pairs: int) -> int:
        """Resamples per block (the chunks bound the memory, not the block)."""
        return self.block

    def asarray(self, x: Any) -> np.ndarray:
        return np.ascontiguousarray(x, dtype=self.dtype)

    def index(self, x: Any) -> np.ndarray:
        return np.ascontiguousarray(x, dtype=np.intp)

    def to_numpy(self, x: Any) -> np.ndarray:
        return np.asarray(x)

    def zeros(self, shape: tuple[int, ...], float64: bool = False) -> np.ndarray:
        return np.zeros(shape, dtype=np.float64 if float64 else self.dtype)

    def empty(self, shape: tuple[int, ...]) -> np.ndarray:
        return np.empty(shape, dtype=self.dtype)

    def take(self, x: np.ndarray, rows: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """x[rows] for a 2-D x (rows of the first axis), into `out` when given (mode clip:
        numpy buffers a raising take with `out`; the rows are in range)."""
        if out is None:
            return np.take(x, rows, axis=0)
        return np.take(x, rows, axis=0, out=out, mode="clip")

    def gather(self, flat: np.ndarray, idx: np.ndarray) -> np.ndarray:
        """flat[idx] for a 1-D flat and an integer idx of any shape."""
        return np.take(flat, idx)

    def matmul(self, left: np.ndarray, right: np.ndarray, out: np.ndarray | None) -> np.ndarray:
        return np.matmul(left, right, out=out)

    def mul(self, x: np.ndarray, y: np.ndarray, out: np.ndarray) -> np.ndarray:
        return np.multiply(x, y, out=out)

    def cumsum_short(self, x: np.ndarray) -> np.ndarray:
        """Cumulative sum along the first axis of a small x (copy)."""
        return np.cumsum(x, axis=0)

    def column_sums(self, x: np.ndarray) -> np.ndarray:
        """(r,) float64 sums over the rows of x (k, m, r): float32 (or float64) matrix-vector
        products over the k rows of one segment, float64 over the rest."""
        k = x.shape[0]
        if self._ones.size < k:
            self._ones = np.ones(k, dtype=self.dtype)
        partial = self._ones[:k] @ x.reshape(k, -1)
        return partial.reshape(-1, x.shape[-1]).sum(axis=0, dtype=np.float64)

    def permuted_sums(self, tables: np.ndarray, weights: np.ndarray, perms: np.ndarray) -> Any:
        """(R, q) sums over a < b of weights[k, a, b] * tables[k, p[a], p[b]] for each
        permutation row p of perms (R, n); tables, weights (q, n, n) float32, weights zero on
        and below the diagonal. Compiled (`stats/kernels.py`), 16 permutations per task."""
        from fmri_rdm.stats.kernels import permuted_block

        t = np.ascontiguousarray(tables, dtype=np.float32)
        w = np.ascontiguousarray(weights, dtype=np.float32)
        perms = np.ascontiguousarray(perms, dtype=np.uint32)  # unsigned: no index wrapping

        def some(_: None, start: int) -> np.ndarray:
            out = np.zeros((len(perms[start : start + 16]), t.shape[0]))
            permuted_block(t, w, perms[start : start + 16], out)
            return out

        parts = self.map_blocks(some, range(0, len(perms), 16), lambda: None)
        return np.concatenate(parts) if parts else np.zeros((0, t.shape[0]))


class TorchBackend:
    """torch on `device`; a block is as many resamples as fit `elements` (pairs x resamples)
    temporaries, and a chunk is all pairs (a GPU wants few, large kernels)."""

    name = "torch"
    segment = 1
    chunk_pairs = 1 << 62

    def __init__(self, device: str, exact: bool = False, elements: int = 1 << 25) -> None:
        import torch

        self.torch = torch
        self.device = torch.device(device)
        self.elements = elements
        self.dtype = torch.float32 if exact else torch.float64

    def map_blocks(
        self, fn: Callable[[Any, int], Any], starts: Iterable[int], state: Callable[[], Any]
    ) -> list:
        """[fn(state, start) for start in starts] (one stream of kernels)."""
        st = state()
        return [fn(st, s) for s in starts]

    def block_size(self, pairs: int) -> int:
        """Resamples per block: as many (pairs x resamples) as fit `elements`."""
        return max(1, self.elements // max(pairs, 1))

    def asarray(self, x: Any) -> Any:
        return self.torch.as_tensor(np.ascontiguousarray(x), device=self.device).to(self.dtype)

    def index(self, x: Any) -> Any:
        return self.torch.as_tensor(np.asarray(x, dtype=np.int64), device=self.device)

    def to_numpy(self, x: Any) -> np.ndarray:
        return x.detach().cpu().numpy()

    def zeros(self, shape: tuple[int, ...], float64: bool = False) -> Any:
        dtype = self.torch.float64 if float64 else self.dtype
        return self.torch.zeros(shape, dtype=dtype, device=self.device)

    def empty(self, shape: tuple[int, ...]) -> Any:
        return self.torch.empty(shape, dtype=self.dtype, device=self.device)

    def take(self, x: Any, rows: Any, out: Any = None) -> Any:
        if out is None:
            return x.index_select(0, rows)
        return self.torch.index_select(x, 0, rows, out=out)

    def gather(self, flat: Any, idx: Any) -> Any:
        return flat[idx]

    def matmul(self, left: Any, right: Any, out: Any) -> Any:
        if out is None:
            return self.torch.matmul(left, right)
        return self.torch.matmul(left, right, out=out)

    def mul(self, x: Any, y: Any, out: Any) -> Any:
        return self.torch.mul(x, y, out=out)

    def cumsum_short(self, x: Any) -> Any:
        return self.torch.cumsum(x, dim=0)

    def column_sums(self, x: Any) -> Any:
        return x.reshape(-1, x.shape[-1]).sum(dim=0, dtype=self.torch.float64)

    def permuted_sums(self, tables: np.ndarray, weights: np.ndarray, perms: np.ndarray) -> Any:
        """As `NumpyBackend.permuted_sums`, a block of permutations per step, float64."""
        q, n, _ = tables.shape
        t = self.torch.as_tensor(tables, device=self.device, dtype=self.torch.float64)
        w = self.torch.as_tensor(weights, device=self.device, dtype=self.torch.float64)
        out = []
        step = max(1, self.elements // max(q * n * n, 1))
        for s in range(0, len(perms), step):
            p = self.index(perms[s : s + step])
            y = t[:, p[:, :, None], p[:, None, :]]  # (q, r, n, n)
            out.append((y * w[:, None]).sum(dim=(2, 3)).T)
        return self.to_numpy(self.torch.cat(out))


Backend = NumpyBackend | TorchBackend


def backend_for(device: str, exact: bool = False) -> Backend:
    """`cpu` -> numpy; any other torch device string (`cuda`, `cuda:1`, `torch-cpu`) -> torch.
    exact: the caller's values are integers below 2^24 (float32 holds them exactly)."""
    if device == "cpu":
        return NumpyBackend(exact)
    return TorchBackend("cpu" if device == "torch-cpu" else device, exact)


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
