"""Bench rows of the numeric kernels against the original student project's algorithms: the
RDM (vs scipy pdist, and its share of the GEMM peak), extremes/balanced pair selection, the
image-disjoint folds and the colour classification."""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from bench import baselines
from bench.table import Row, Sizes, best_of, ratio_of


def gemm_gflops(shape: tuple[int, int, int], repeats: int, seed: int = 0) -> float:
    """numpy float32 matmul throughput (m x k @ k x n), best of `repeats`, in GFLOP/s."""
    m, k, n = shape
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((m, k), dtype=np.float32)
    b = rng.standard_normal((k, n), dtype=np.float32)
    out = a @ b  # warm-up: threads, page faults
    return 2.0 * m * k * n / best_of(lambda: np.matmul(a, b, out=out), repeats) / 1e9


def bench_rdm(sizes: Sizes) -> list[Row]:
    from fmri_rdm.rsa.rdm import compute_rdm

    gemm = gemm_gflops(sizes.gemm, sizes.repeats)
    rng = np.random.default_rng(0)
    rows = []
    n, v = sizes.rdm_base
    x = rng.standard_normal((n, v), dtype=np.float32)
    compute_rdm(x[: min(n, 64)])  # warm-up
    project = best_of(lambda: compute_rdm(x), sizes.repeats)
    base = best_of(lambda: baselines.rdm_pdist(x), 1)
    ratio = ratio_of(base, project)
    rows.append(
        Row(
            "RDM correlation vs scipy pdist",
            f"N={n} V={v}",
            project,
            base,
            ratio,
            gflops=n * (n - 1) * v / project / 1e9,
            gemm_gflops=gemm,
            target=">= 10x",
            met=ratio >= 10,
        )
    )
    n, v = sizes.rdm_large
    x = rng.standard_normal((n, v), dtype=np.float32)
    # RDM and GEMM alternately, best of each: a load change on a shared machine hits both.
    project = float("inf")
    for _ in range(max(1, sizes.repeats - 1)):
        project = min(project, best_of(lambda: compute_rdm(x), 1))
        gemm = max(gemm, gemm_gflops(sizes.gemm, 1))
    gflops = n * (n - 1) * v / project / 1e9
    rows.append(
        Row(
            "RDM correlation, GEMM efficiency",
            f"N={n} V={v}",
            project,
            gflops=gflops,
            gemm_gflops=gemm,
            target=">= 60% of GEMM",
            met=gflops >= 0.6 * gemm,
        )
    )
    return rows


def _random_rdm(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.uniform(0.0, 2.0, n * (n - 1) // 2).astype(np.float32)


def bench_extremes(sizes: Sizes) -> list[Row]:
    from fmri_rdm.rsa.pairs import balanced_pairs, extremes_pairs

    k = sizes.n_per_image
    funcs: list[tuple[str, Callable[[np.ndarray, int], object], Callable[..., object]]] = [
        ("extremes pairs", lambda r, n: extremes_pairs(r, n, k), baselines.extremes_loop),
        (
            "balanced pairs",
            lambda r, n: balanced_pairs(r, n, "correlation", k, seed=0),
            baselines.balanced_loop,
        ),
    ]
    rows = []
    big, small = sizes.extremes_large, sizes.extremes_base
    rdm_big, rdm_small = _random_rdm(big), _random_rdm(small, seed=1)
    for name, project_fn, base_fn in funcs:
        project = best_of(lambda f=project_fn: f(rdm_big, big), sizes.repeats)
        rows.append(Row(name, f"N={big} k={k}", project, target="< 2 s", met=project < 2.0))
        project = best_of(lambda f=project_fn: f(rdm_small, small), sizes.repeats)
        base = best_of(lambda f=base_fn: f(rdm_small, small, k), 1)
        ratio = ratio_of(base, project)
        rows.append(
            Row(
                f"{name} vs per-image loop",
                f"N={small} k={k}",
                project,
                base,
                ratio,
                target=">= 100x",
                met=ratio >= 100,
            )
        )
    return rows


def _traced_peak_mb(fn: Callable[[], object]) -> tuple[float, float]:
    """(seconds, peak MB of numpy/Python allocations during fn) via tracemalloc."""
    import tracemalloc

    tracemalloc.start()
    try:
        start = time.perf_counter()
        fn()
        seconds = time.perf_counter() - start
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return seconds, peak / 2**20


def bench_folds(sizes: Sizes) -> list[Row]:
    from fmri_rdm.rsa.pairs import all_pairs
    from fmri_rdm.rsa.splits import image_disjoint_folds, split_pairs

    def folds(n: int, i: np.ndarray, j: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
        return [split_pairs(i, j, tr, te, n) for tr, te in image_disjoint_folds(n, 5, seed=0)]

    n = sizes.folds_images
    i, j = all_pairs(n)
    project = best_of(lambda: folds(n, i, j), sizes.repeats)
    _, peak = _traced_peak_mb(lambda: folds(n, *all_pairs(n)))
    rows = [
        Row(
            "image-disjoint 5 folds (all pairs + masks)",
            f"{n} images, {len(i):,} pairs",
            project,
            peak_mb=peak,
            target="< 2 s, < 2 GB",
            met=project < 2.0 and peak < 2048,
        )
    ]
    n = sizes.folds_base
    i, j = all_pairs(n)
    project = best_of(lambda: folds(n, i, j), sizes.repeats)
    split = image_disjoint_folds(n, 5, seed=0)
    base = best_of(lambda: baselines.folds_list_comprehension(i, j, split), 1)
    rows.append(
        Row(
            "image-disjoint 5 folds vs list comprehension",
            f"{n} images, {len(i):,} pairs",
            project,
            base,
            ratio_of(base, project),
        )
    )
    return rows


def bench_colors(sizes: Sizes) -> list[Row]:
    from fmri_rdm.data.images import dominant_colors

    count, side = sizes.colors
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (count, side, side, 3), dtype=np.uint8)
    images[::2, : side // 2] = (230, 20, 30)  # some images with a dominant colour
    dominant_colors(images[:1])
    project = best_of(lambda: dominant_colors(images), max(5, sizes.repeats))
    base = best_of(lambda: baselines.dominant_colors_loop(images), 1)
    ratio = ratio_of(base, project)
    return [
        Row(
            "colour classification vs per-pixel loop",
            f"{count} x {side}x{side} RGB",
            project,
            base,
            ratio,
            target=">= 1000x",
            met=ratio >= 1000,
        )
    ]
