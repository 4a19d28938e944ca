"""Euclidean RDM: the project's dense path against scipy's pdist, in one process.

    python -m bench.rdm_euclidean [N V repeats]

Prints the best-of-`repeats` seconds of `compute_rdm(x, "euclidean")` and of
`scipy.spatial.distance.pdist(x, "euclidean")` on the same (N, V) float32 data, their ratio
(pdist / project), and the largest relative error of the project's distances against pdist in
float64. Two inputs: standard normal rows, and the same with 5 % of the rows replaced by
near-duplicate pairs far from the mean (the case the near-duplicate refinement handles).
"""

from __future__ import annotations

import sys
import time

import numpy as np
from scipy.spatial.distance import pdist

from fmri_rdm.rsa.rdm import compute_rdm


def _best(fn, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def inputs(n: int, v: int, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    plain = rng.standard_normal((n, v), dtype=np.float32)
    dup = plain.copy()
    k = max(1, n // 40)
    far = 30.0 * rng.standard_normal((k, v)).astype(np.float32)
    dup[:k] = far
    dup[k : 2 * k] = far + 1e-3 * rng.standard_normal((k, v)).astype(np.float32)
    return {"normal rows": plain, "near-duplicates far from the mean": dup}


def main(argv: list[str]) -> None:
    n, v, repeats = (int(a) for a in (argv + ["2000", "2000", "3"][len(argv) :])[:3])
    for name, x in inputs(n, v).items():
        compute_rdm(x[:64], "euclidean")  # warm-up
        project = _best(lambda x=x: compute_rdm(x, "euclidean"), repeats)
        base = _best(lambda x=x: pdist(x, "euclidean"), 1)
        ref = pdist(x.astype(np.float64), "euclidean")
        err = np.max(np.abs(compute_rdm(x, "euclidean") - ref) / np.maximum(ref, 1e-30))
        print(
            f"N={n} V={v} {name:36s} project {project:7.3f} s  pdist {base:7.3f} s  "
            f"ratio {base / project:6.1f}x  max rel error {err:.2e}"
        )


if __name__ == "__main__":
    main(sys.argv[1:])
