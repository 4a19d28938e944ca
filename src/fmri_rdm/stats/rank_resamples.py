"""Spearman rho of every stimulus-bootstrap resample, linear in the pairs: compiled kernels on the
CPU (`stats/kernels.py`, `_compiled`), and the array form below for torch (`stats/backend.py`;
the GPU) and for numpy where the permutation null of a pair subset reuses it.

A resample with image counts c weights pair p = (a, b) by w_p = c_a * c_b (`stats/bootstrap.py`),
and its Spearman rho is the weighted Pearson r of the mid-ranks the duplicated pairs would get.
The order of the pairs never changes between resamples, only their weights, so each vector is
sorted once and a resample's mid-ranks are cumulative sums of its weights in that order:

    v_p = 2 * (weight strictly before p's tie group) + (weight of p's tie group)
        = 2 * cs_p - w_p                       (p not tied; cs: inclusive cumulative sum)

is twice the mid-rank plus a constant, and with W = sum_p w_p (as `sum w v = W^2` exactly)

    sum w (v_t - W)(v_x - W) = sum w v_t v_x - W^3,  likewise for (t, t) and (x, x),

so neither pass needs W beforehand; where an order has no ties, sum w (v - W)^2 = (W^3 -
sum w^3) / 3 (only the copies of one pair tie), and sum w^3 = sum c_a^3 c_b^3 is one matrix
product for all resamples (`stats/pair_sums.py`). Per block of resamples: one pass in the
target's order stores v_t per pair; one pass per prediction in its own order gathers v_t back
(rows of one pair's resamples: whole cache lines) and sums w v_x v_t. Weights, cumulative sums
and v are integers below n^2, exact in float32 below 4,096 images (float64 above); the sums
are float64.

Pairs are processed in chunks that end where a tie group ends (ties stay inside a chunk; a
group larger than a chunk makes a larger chunk). Inside a chunk the pairs are laid out as
(segment, chunk / segment, resamples), so the cumulative sum is one small matrix product per
chunk (2 * lower triangle - identity, giving v directly) plus a short cumulative sum over the
segment totals; the chunk's buffers stay in a core's cache. The CPU runs blocks on its share of
the cores (threads; numpy releases the GIL). Cost per resample: linear in the pairs, as the
per-resample loop it replaced (`bench/statistics_reference.py`), with fewer and cheaper passes.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np

from fmri_rdm.stats.backend import Backend, NumpyBackend, backend_for
from fmri_rdm.stats.pair_sums import pair_totals, weighted_sums

PREFIX_PRODUCT_MAX = 512  # segments per chunk up to which their prefix sums are one product


@dataclass
class Chunk:
    """One chunk of an order: per slot (segment-major layout, segment x width) the pair images
    a, b (n = padding, count 0), where slot s of the stored u rows (`store`) or which stored row
    to read (`read`), and the tie fix (tied slots, first and last slot of each one's group)."""

    width: int
    a: Any
    b: Any
    rows: Any
    tied: Any = None
    first: Any = None
    last: Any = None


def _chunk_bounds(new: np.ndarray, chunk: int) -> list[tuple[int, int]]:
    """[(start, end)) of consecutive sorted positions, each ending where a tie group ends."""
    starts = np.append(np.flatnonzero(new), new.size)
    bounds, s = [], 0
    while s < new.size:
        e = int(starts[min(int(np.searchsorted(starts, s + chunk)), starts.size - 1)])
        bounds.append((s, e))
        s = e
    return bounds


def layout(
    order: np.ndarray, values: np.ndarray, a: np.ndarray, b: np.ndarray, n: int, xb: Backend
) -> list[tuple[Any, ...]]:
    """Chunks of one sort order (`order`: pair index per sorted position, `values` the sorted
    values) as numpy arrays (width, a, b, pair, tied, first, last): slot i * width + k holds
    sorted position start + k * segment + i, pair -1 and image n where it pads the chunk."""
    segment = xb.segment
    new = np.concatenate([[True], values[1:] != values[:-1]])
    group = np.cumsum(new) - 1
    group_start = np.flatnonzero(new)
    group_end = np.append(group_start[1:], values.size) - 1
    out = []
    for s, e in _chunk_bounds(new, xb.chunk_pairs):
        width = -(-(e - s) // segment)
        pos = (s + np.arange(width)[None, :] * segment + np.arange(segment)[:, None]).ravel()
        valid = pos < e
        pair = np.where(valid, order[np.minimum(pos, e - 1)], -1)
        fix: tuple[np.ndarray, ...] = (None, None, None)  # type: ignore[assignment]
        g = group[s:e]
        local = np.flatnonzero(group_end[g] > group_start[g])  # tied, as positions - s
        if local.size:

            def slot(p: np.ndarray, width: int = width) -> np.ndarray:
                return (p % segment) * width + p // segment

            fix = (slot(local), slot(group_start[g[local]] - s), slot(group_end[g[local]] - s))
        ca, cb = np.where(valid, a[pair], n), np.where(valid, b[pair], n)
        out.append((width, ca, cb, pair, *fix))
    return out


def to_chunk(xb: Backend, raw: tuple[Any, ...], rows: np.ndarray | slice) -> Chunk:
    width, ca, cb, _, tied, first, last = raw
    fix = (xb.index(tied), xb.index(first), xb.index(last)) if tied is not None else ()
    rows = rows if isinstance(rows, slice) else xb.index(rows)
    return Chunk(width, xb.index(ca), xb.index(cb), rows, *fix)


def _orders(
    xb: Backend, a: np.ndarray, b: np.ndarray, n: int, target: np.ndarray, preds: np.ndarray
) -> tuple[list[Chunk], list[list[Chunk]], int]:
    """The target's chunks (storing u in rows 0.. of their slots) and each prediction's chunks
    (reading each pair's row back; padding reads the zero row), and the number of rows."""
    order = np.argsort(target, kind="stable")
    raw_t = layout(order, target[order], a, b, n, xb)
    row_of_pair = np.empty(a.size, dtype=np.intp)
    target_chunks, rows = [], 0
    for raw in raw_t:
        pair = raw[3]
        row_of_pair[pair[pair >= 0]] = rows + np.flatnonzero(pair >= 0)
        target_chunks.append(to_chunk(xb, raw, slice(rows, rows + pair.size)))
        rows += pair.size
    pred_chunks = []
    for p in preds:
        order = np.argsort(p, kind="stable")
        pred_chunks.append(
            [
                to_chunk(xb, raw, np.where(raw[3] >= 0, row_of_pair[raw[3]], rows))
                for raw in layout(order, p[order], a, b, n, xb)
            ]
        )
    return target_chunks, pred_chunks, rows


class Workspace:
    """(slots, r) buffers that every chunk of a call reuses (a fresh large array per chunk
    costs page faults and cache), the stored v of the target's pairs and the segment's
    cumulative-sum matrix."""

    def __init__(self, xb: Backend, slots: int, r: int, stored_rows: int = 0) -> None:
        self.w, self.tmp, self.v, self.gathered = (xb.empty((slots, r)) for _ in range(4))
        self.stored = xb.empty((stored_rows + 1, r))
        self.stored[stored_rows] = 0  # the row that padding slots read
        m = xb.segment  # v of a segment = (2 * lower triangle of ones - identity) @ its w
        self.tri = xb.asarray(2 * np.tril(np.ones((m, m))) - np.eye(m))
        # the segments' exclusive prefix sums, also one product where a chunk is not wider
        k = min(slots // m, PREFIX_PRODUCT_MAX)
        self.strict = xb.asarray(np.tril(np.ones((k, k)), -1))


def pair_weights(xb: Backend, c: Any, chunk: Chunk, ws: Workspace) -> Any:
    """(slots, r) bootstrap weights c[a] * c[b] of a chunk's pairs; c: (n + 1, r) counts."""
    m = chunk.a.shape[0]
    w = xb.take(c, chunk.a, out=ws.w[:m])
    w *= xb.take(c, chunk.b, out=ws.tmp[:m])
    return w


def ranks(xb: Backend, w: Any, chunk: Chunk, carry: Any, ws: Workspace) -> tuple[Any, Any]:
    """(v, carry + chunk weight): v = 2 * cs - w (cs: inclusive cumulative sum in sorted order;
    for a tied pair, the before-group and through-group sums instead) of a chunk's weights w
    (slots, r), given carry (r,), the weight of earlier chunks; v lives in ws.v."""
    slots, r = w.shape
    v = ws.v[:slots]
    seg = v.reshape(xb.segment, chunk.width, r)
    xb.matmul(ws.tri, w.reshape(xb.segment, -1), out=v.reshape(xb.segment, -1))
    twice = seg[-1] + w.reshape(xb.segment, chunk.width, r)[-1]  # twice each segment's sum
    if chunk.width <= ws.strict.shape[0]:
        offsets = xb.matmul(ws.strict[: chunk.width, : chunk.width], twice, out=None)
    else:  # a wide chunk (a large tie group, or one chunk of all pairs on a GPU)
        offsets = xb.cumsum_short(twice)
        offsets -= twice
    after = carry + (offsets[-1] + twice[-1]) * 0.5
    offsets += 2 * carry
    seg += offsets  # every segment row: 2 * (weight before the segment)
    if chunk.tied is not None:  # cs = (v + w) / 2
        first, last = chunk.first, chunk.last
        fixed = xb.take(v, first) - xb.take(w, first) + xb.take(v, last) + xb.take(w, last)
        fixed *= 0.5
        v[chunk.tied] = fixed
    return v, after


def weighted_spearman(
    counts: np.ndarray,
    a: np.ndarray,
    b: np.ndarray,
    target: np.ndarray,
    predictions: np.ndarray,
    device: str = "cpu",
) -> np.ndarray:
    """(K, B) Spearman rho of each prediction row (K, P) against target (P,) in each resample
    (counts (B, n), pair image positions a, b (P,)); NaN where a resample's target or
    prediction has no spread (or no pair). device: `cpu` (numpy) or a torch device."""
    counts = np.asarray(counts)
    n_boot, n = counts.shape
    # weights, cumulative sums and v are integers below 2 W <= n^2: float32 is exact below 2^24
    xb = backend_for(device, exact=n * n < 1 << 24)
    preds = np.atleast_2d(np.asarray(predictions, dtype=np.float64))
    target = np.asarray(target, dtype=np.float64)
    a, b = np.asarray(a, dtype=np.intp), np.asarray(b, dtype=np.intp)
    if a.size == 0 or n_boot == 0:
        return np.full((preds.shape[0], n_boot), np.nan)
    if isinstance(xb, NumpyBackend):
        return _compiled(xb, counts, a, b, target, preds)
    t_chunks, p_chunks, rows = _orders(xb, a, b, n, target, preds)
    # without ties, sum w (v - W)^2 = (W^3 - sum w^3) / 3 (the ties of duplicated pairs only):
    # one product with the cubed counts for all resamples instead of a pass per resample
    cubes = weighted_sums(counts.astype(np.float64) ** 3, a, b, np.ones(a.size))[:, 0]
    untied = [all(ch.tied is None for ch in chunks) for chunks in [t_chunks, *p_chunks]]
    block = min(n_boot, xb.block_size(a.size))
    slots = max(ch.a.shape[0] for chunks in [t_chunks, *p_chunks] for ch in chunks)
    orders = [cubes if u else None for u in untied]

    def one_block(ws: Workspace, s: int) -> np.ndarray:
        c = np.zeros((n + 1, block))  # a last, short block: resamples without images
        part = counts[s : s + block]
        c[:n, : len(part)] = part.T
        closed = [None if x is None else np.resize(x[s : s + block], block) for x in orders]
        return _block(xb, xb.asarray(c), t_chunks, p_chunks, ws, closed)[:, : len(part)]

    blocks = xb.map_blocks(
        one_block, range(0, n_boot, block), lambda: Workspace(xb, slots, block, rows)
    )
    return np.concatenate(blocks, axis=1)


COMPILED_BLOCK = 32  # resamples per pass of the compiled kernels (a pair's row: two cache lines)
BUCKET_BYTES = 1 << 19  # the target's v - W of one join bucket (half a core's L2 cache)
BUFFER_BYTES = 4 << 30  # the compiled kernels' buffers, all threads together


def stored_dtype(n: int) -> type[np.number]:
    """The smallest exact type of the target's v - W among n images: whole numbers of
    magnitude below W <= n^2 / 2, exact in float32 below 2^24 and in int32 below 2^31."""
    return np.float32 if n * n < 1 << 24 else np.int32 if n * n < 1 << 31 else np.float64


def _compiled(
    xb: NumpyBackend,
    counts: np.ndarray,
    a: np.ndarray,
    b: np.ndarray,
    target: np.ndarray,
    preds: np.ndarray,
) -> np.ndarray:
    """(K, B) as `weighted_spearman`, on the CPU: one fused walk per sort order and block of
    resamples (`stats/kernels.py`), blocks on the process's threads."""
    from fmri_rdm.stats import kernels

    n_boot, n = counts.shape
    # 32-bit positions halve the index traffic of a pass (all pairs of 9,841 images: 48 M);
    # unsigned, so the compiled code need not wrap negative indices
    idx = np.uint32 if a.size < 2**32 else np.uintp
    # the order inside a tie group never matters (its pairs share a mid-rank): no stable sort;
    # numpy sorts without the GIL, so the orders are sorted side by side
    with ThreadPoolExecutor(max(1, min(xb.workers, 1 + len(preds)))) as pool:
        order, *pred_orders = pool.map(np.argsort, [target, *preds])
    at, bt = a[order].astype(idx), b[order].astype(idx)
    t_starts = kernels.group_starts(target[order]).astype(idx)
    position = np.empty(a.size, dtype=idx)
    position[order] = np.arange(a.size, dtype=idx)
    del order
    stored_type = stored_dtype(n)
    # each thread's (predictions x pairs x block) float32 rows within its share of BUFFER_BYTES
    # (all pairs of a full subject, 48 M, get blocks of 11 resamples on 2 threads)
    per_resample = a.size * 4 * len(preds) * max(xb.workers, 1)
    block = max(1, min(n_boot, COMPILED_BLOCK, BUFFER_BYTES // per_resample))
    rows = max(1, BUCKET_BYTES // (block * np.dtype(stored_type).itemsize))
    bucket_groups = kernels.bucket_layout(t_starts, rows).astype(idx)
    bucket_first = t_starts[bucket_groups]
    walks, joins = [], []
    for p, o in zip(preds, pred_orders, strict=True):
        walks.append((a[o].astype(idx), b[o].astype(idx), kernels.group_starts(p[o]).astype(idx)))
        joins.append(kernels.join_layout(position[o], bucket_first))
    slot_k, local_k, bounds_k = (np.stack([j[i] for j in joins]) for i in range(3))
    del joins, position, pred_orders
    widest = int(np.diff(bucket_first).max())  # a tie group wider than a bucket widens it
    totals = pair_totals(counts, a, b)  # W per resample: the kernels centre v on it

    def one_block(buffers: tuple[np.ndarray, np.ndarray], s: int) -> np.ndarray:
        products, bucket = buffers
        part = counts[s : s + block]
        # float32 counts (small whole numbers): half the cache of float64 for the same rows
        c = np.zeros((n, block), dtype=np.float32)  # a last, short block: no images (NaN)
        c[:, : len(part)] = part.T
        total = np.zeros(block)
        total[: len(part)] = totals[s : s + block]
        spp = np.stack(
            [
                kernels.prediction_walk(c, *w, total, slot_k[k], products[k])
                for k, w in enumerate(walks)
            ]
        )
        stt, stp = kernels.target_join(
            c, at, bt, t_starts, total, bucket_groups, products, local_k, bounds_k, bucket
        )
        cube = total**3
        return rho_from_sums(stp, stt, spp, cube)[:, : len(part)]

    def buffers() -> tuple[np.ndarray, np.ndarray]:
        return (
            np.empty((len(preds), a.size, block), dtype=np.float32),
            np.empty((widest, block), dtype=stored_type),
        )

    blocks = xb.map_blocks(one_block, range(0, n_boot, block), buffers)
    return np.concatenate(blocks, axis=1)


def _block(
    xb: Backend, c: Any, t_chunks: list, p_chunks: list, ws: Workspace, cubes: list
) -> np.ndarray:
    """(K, r) rho of one block of resamples (c: (n + 1, r) counts, last row 0). cubes: per
    order (target, then each prediction), (r,) sum of w^3 where it has no ties (its spread in
    closed form), None where it has (a sum per chunk)."""
    r = c.shape[1]
    carry, stt = xb.zeros((r,)), xb.zeros((r,), float64=True)
    for ch in t_chunks:
        w = pair_weights(xb, c, ch, ws)
        v, carry = ranks(xb, w, ch, carry, ws)
        ws.stored[ch.rows] = v
        if cubes[0] is None:
            u = xb.mul(w, v, out=ws.tmp[: w.shape[0]])
            u *= v
            stt += xb.column_sums(u.reshape(xb.segment, -1, r))
    total = xb.to_numpy(carry).astype(np.float64)
    cube = total**3
    stt_c = xb.to_numpy(stt) - cube if cubes[0] is None else (cube - cubes[0]) / 3
    out = []
    for chunks, closed in zip(p_chunks, cubes[1:], strict=True):
        carry = xb.zeros((r,))
        spp, stp = xb.zeros((r,), float64=True), xb.zeros((r,), float64=True)
        for ch in chunks:
            w = pair_weights(xb, c, ch, ws)
            v, carry = ranks(xb, w, ch, carry, ws)
            u = xb.mul(w, v, out=ws.tmp[: w.shape[0]])  # w v_x
            g = xb.take(ws.stored, ch.rows, out=ws.gathered[: w.shape[0]])
            g *= u  # w v_x v_t
            stp += xb.column_sums(g.reshape(xb.segment, -1, r))
            if closed is None:
                u *= v
                spp += xb.column_sums(u.reshape(xb.segment, -1, r))
        spp_c = xb.to_numpy(spp) - cube if closed is None else (cube - closed) / 3
        out.append(rho_from_sums(xb.to_numpy(stp) - cube, stt_c, spp_c, cube))
    return np.stack(out)


def rho_from_sums(stp: Any, stt: Any, spp: Any, cube: Any) -> np.ndarray:
    """Pearson r of centred mid-ranks from their weighted sums (cross, target, prediction);
    NaN where either side has no spread (below the rounding of the W^3 that the sums were
    taken against) or no weight."""
    tiny = 1e-12 * np.asarray(cube)
    ok = (cube > 0) & (stt > tiny) & (spp > tiny)
    with np.errstate(invalid="ignore", divide="ignore"):
        rho = stp / np.sqrt(stt * spp)
    return np.where(ok, np.clip(rho, -1.0, 1.0), np.nan)
