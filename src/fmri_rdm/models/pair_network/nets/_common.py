"""Building blocks shared by the pair networks.

`distinct_rows`: a batch of B pairs touches at most 2B images, usually far fewer distinct ones.
Running the per-image part of a network (a tower, the first layer of an MLP) once per distinct
image and gathering the results is exact and saves up to 2B/U of that work.

`pair_apply`: the per-pair part of a network (a head on two gathered rows) run in chunks of
pairs on CPU. A batch's per-pair activations are B x hundreds of values (tens of MB each at
B = 65536): glibc serves every allocation above 32 MB with a fresh mmap that the kernel must
fault in and zero, and autograd's gather backward builds a full (U, ...) gradient per use. In
chunks of a few thousand pairs the activations are small heap blocks reused step after step
(one torch thread, batch 65536, bf16: siamese step 0.50 -> 0.20 s, MLP 0.95 -> 0.32 s).

`Dropout`: same semantics as nn.Dropout, but its mask comes from `rand_like`, which is ~4x
faster on CPU than the `bernoulli_` behind nn.Dropout (≈2 vs ≈10 ms for 2000×512 floats on
this machine) — dropout was ~20% of a siamese training step.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import Tensor, nn

from fmri_rdm.errors import ConfigError


def distinct_rows_with_ids(
    table: Tensor, i: Tensor, j: Tensor
) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """`distinct_rows` plus ids (U,): the rows' indices in `table` (rows == table[ids])."""
    both = torch.cat([i, j])
    if both.numel() >= table.shape[0]:
        return table, i, j, torch.arange(table.shape[0], device=i.device)
    uniq, inverse = torch.unique(both, return_inverse=True)
    b = i.shape[0]
    return table[uniq], inverse[:b], inverse[b:], uniq


def distinct_rows(table: Tensor, i: Tensor, j: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """Rows of `table` used by the pairs (i, j), and where each pair's images sit in them.

    Args:
        table: (N, ...) per-image inputs.
        i, j: (B,) int64 indices into `table`.

    Returns:
        rows: (U, ...) the distinct images of the batch (the whole table when 2B >= N, because then
            a sort would cost more than it saves);
        ii, jj: (B,) positions of i and j in `rows`, so that rows[ii] == table[i].
    """
    rows, ii, jj, _ = distinct_rows_with_ids(table, i, j)
    return rows, ii, jj


class Dropout(nn.Module):
    """Inverted dropout: zero each element with probability p in training, scale by 1/(1−p)."""

    def __init__(self, p: float = 0.5) -> None:
        super().__init__()
        if not 0.0 <= p < 1.0:
            raise ConfigError(f"model.net.dropout must be in [0, 1), got {p}")
        self.p = p

    def forward(self, x: Tensor) -> Tensor:
        """(...) -> (...), identity in eval mode or when p == 0."""
        if not self.training or self.p == 0.0:
            return x
        mask = torch.rand_like(x).ge_(self.p).mul_(1.0 / (1.0 - self.p))
        return x * mask

    def extra_repr(self) -> str:
        return f"p={self.p}"


# Pairs per chunk in `pair_apply`: a chunk's activations (a few tensors of CHUNK x 512 bf16/float
# values, a few MB) come from the heap and are reused step after step, never mmap'd afresh.
PAIR_CHUNK = 4096

PairFn = Callable[[Tensor, Tensor], Tensor]


class _ChunkedPairs(torch.autograd.Function):
    """out = fn(left[ii], right[jj]) (or fn(left[ii] + right[jj])), chunk by chunk.

    Forward records one small autograd graph per chunk (inputs: the gathered rows, as leaves,
    and the parameters); backward runs them one by one and sums the gathered rows' gradients
    with `index_add_` into one float32 (U, ...) buffer per side, where autograd's gather
    backward would allocate a full (U, ...) zero tensor per chunk. The values and gradients are
    those of the direct call (up to float summation order).
    """

    @staticmethod
    def forward(  # type: ignore[override]
        ctx: Any,
        fn: Callable[..., Tensor],
        chunk: int,
        summed: bool,
        left: Tensor,
        right: Tensor,
        ii: Tensor,
        jj: Tensor,
        *params: Tensor,
    ) -> Tensor:
        ctx.same, ctx.chunk, ctx.summed = right is left, chunk, summed
        ctx.meta = (left.shape, right.shape, left.dtype, right.dtype)
        ctx.param_mask = [p.requires_grad for p in params]
        ctx.params = [p for p in params if p.requires_grad]
        ctx.save_for_backward(ii, jj)
        ctx.graphs = []
        outs = []
        with torch.enable_grad():  # Function.forward runs under no_grad
            for s in range(0, ii.shape[0], chunk):
                xi = left.index_select(0, ii[s : s + chunk])
                xj = right.index_select(0, jj[s : s + chunk])
                if summed:
                    xi += xj  # the sum is the leaf: one gradient serves both sides
                    leaves = [xi.requires_grad_()]
                    out = fn(xi)
                else:
                    leaves = [xi.requires_grad_(), xj.requires_grad_()]
                    out = fn(xi, xj)
                ctx.graphs.append((leaves, out))
                outs.append(out.detach())
        return torch.cat(outs)

    @staticmethod
    def backward(ctx: Any, grad_out: Tensor) -> tuple[Tensor | None, ...]:  # type: ignore[override]
        ii, jj = ctx.saved_tensors
        left_shape, right_shape, left_dtype, right_dtype = ctx.meta
        need_left, need_right = ctx.needs_input_grad[3], ctx.needs_input_grad[4]
        # float32 accumulators (float64 stays float64): each row sums many pairs' gradients.
        acc_dtype = torch.promote_types(left_dtype, torch.float32)
        g_left = torch.zeros(left_shape, dtype=acc_dtype) if need_left else None
        g_right = g_left if ctx.same else None
        if need_right and not ctx.same:
            g_right = torch.zeros(right_shape, dtype=acc_dtype)
        g_params = [torch.zeros_like(p) for p in ctx.params]
        graphs, ctx.graphs = ctx.graphs, None
        for k, (leaves, out) in enumerate(graphs):
            rows = slice(k * ctx.chunk, (k + 1) * ctx.chunk)
            grads = torch.autograd.grad(
                out, [*leaves, *ctx.params], grad_out[rows], allow_unused=True
            )
            g_i = grads[0].to(acc_dtype)
            g_j = g_i if ctx.summed else grads[1].to(acc_dtype)
            if g_left is not None:
                g_left.index_add_(0, ii[rows], g_i)
            if g_right is not None:
                g_right.index_add_(0, jj[rows], g_j)
            for acc, g in zip(g_params, grads[len(leaves) :], strict=True):
                if g is not None:
                    acc += g
            graphs[k] = None  # free this chunk's activations now
        it = iter(g_params)
        g_all = [next(it) if wanted else None for wanted in ctx.param_mask]
        g_left_out = None if g_left is None else g_left.to(left_dtype)
        g_right_out = None if g_right is None or ctx.same else g_right.to(right_dtype)
        return (None, None, None, g_left_out, g_right_out, None, None, *g_all)


def _apply(
    fn: Callable[..., Tensor],
    summed: bool,
    left: Tensor,
    right: Tensor,
    ii: Tensor,
    jj: Tensor,
    params: Sequence[Tensor],
    chunk: int | None,
) -> Tensor:
    chunk = PAIR_CHUNK if chunk is None else chunk
    if left.device.type != "cpu" or ii.shape[0] <= chunk:
        return fn(left[ii] + right[jj]) if summed else fn(left[ii], right[jj])
    if torch.is_grad_enabled() and any(t.requires_grad for t in (left, right, *params)):
        out: Tensor = _ChunkedPairs.apply(fn, chunk, summed, left, right, ii, jj, *params)
        return out
    outs = []
    for s in range(0, ii.shape[0], chunk):
        xi = left.index_select(0, ii[s : s + chunk])
        xj = right.index_select(0, jj[s : s + chunk])
        outs.append(fn(xi.add_(xj)) if summed else fn(xi, xj))
    return torch.cat(outs)


def pair_apply(
    fn: PairFn,
    left: Tensor,
    right: Tensor,
    ii: Tensor,
    jj: Tensor,
    params: Sequence[Tensor] = (),
    chunk: int | None = None,
) -> Tensor:
    """fn(left[ii], right[jj]) -> (B, ...), the same values and gradients as the direct call.

    Args:
        fn: the per-pair part of a network, (C, ...) x (C, ...) -> (C, ...), row-wise (row k of
            the output depends on row k of the inputs only).
        left, right: (U, ...) per-image tensors (may be the same tensor).
        ii, jj: (B,) int64 rows of `left` and `right`.
        params: every tensor requiring grad that `fn` uses besides its inputs (the module's
            parameters): their gradients are summed over the chunks.
        chunk: pairs per chunk (default `PAIR_CHUNK`, read at call time).

    On CPU with more than `chunk` pairs, fn runs chunk by chunk (through `_ChunkedPairs` when
    autograd records). On other devices (a GPU wants the whole batch in one kernel) or for
    small batches it is the direct call.
    """
    return _apply(fn, False, left, right, ii, jj, params, chunk)


def pair_sum_apply(
    fn: Callable[[Tensor], Tensor],
    left: Tensor,
    right: Tensor,
    ii: Tensor,
    jj: Tensor,
    params: Sequence[Tensor] = (),
    chunk: int | None = None,
) -> Tensor:
    """fn(left[ii] + right[jj]): `pair_apply` for factorised first layers (W1·e_i + W2·e_j).

    One gathered sum per pair instead of two gathered inputs, and one gradient (converted
    once) scattered to both sides.
    """
    return _apply(fn, True, left, right, ii, jj, params, chunk)
