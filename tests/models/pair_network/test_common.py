import pytest
import torch
from torch import nn

from fmri_rdm.errors import ConfigError
from fmri_rdm.models.pair_network.nets._common import (
    Dropout,
    PairFn,
    distinct_rows,
    pair_apply,
    pair_sum_apply,
)


def test_distinct_rows_gathers_the_same_rows() -> None:
    table = torch.arange(100.0).reshape(50, 2)
    i, j = torch.tensor([3, 3, 7]), torch.tensor([9, 40, 9])
    rows, ii, jj = distinct_rows(table, i, j)
    assert rows.shape == (4, 2)
    assert torch.equal(rows[ii], table[i]) and torch.equal(rows[jj], table[j])
    rows, ii, jj = distinct_rows(table[:5], torch.tensor([0, 1, 2]), torch.tensor([1, 2, 4]))
    assert rows.shape == (5, 2) and torch.equal(ii, torch.tensor([0, 1, 2]))


def test_dropout_semantics() -> None:
    torch.manual_seed(0)
    drop = Dropout(0.25)
    x = torch.ones(200, 500, requires_grad=True)
    y = drop(x)
    assert (y == 0).float().mean().item() == pytest.approx(0.25, abs=0.01)
    assert y.mean().item() == pytest.approx(1.0, abs=0.02)
    kept = y[y != 0]
    torch.testing.assert_close(kept, torch.full_like(kept, 4 / 3))
    y.sum().backward()
    assert x.grad is not None and torch.equal(x.grad, y.detach())
    assert drop.eval()(x) is x
    with pytest.raises(ConfigError):
        Dropout(1.0)


def _head(z_dim: int = 6) -> tuple[nn.Module, PairFn]:
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(2 * z_dim, 5), nn.ReLU(), nn.Linear(5, 1)).double()

    def fn(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return net(torch.cat([(a - b).abs(), a * b], dim=1)).squeeze(-1)

    return net, fn


@pytest.mark.parametrize("same", [True, False])
def test_pair_apply_chunked_equals_direct(same: bool) -> None:
    net, fn = _head()
    gen = torch.Generator().manual_seed(1)
    left = torch.randn(9, 6, dtype=torch.float64, generator=gen, requires_grad=True)
    right = left if same else torch.randn(9, 6, dtype=torch.float64, requires_grad=True)
    ii = torch.randint(0, 9, (23,), generator=gen)
    jj = torch.randint(0, 9, (23,), generator=gen)
    weights = torch.randn(23, dtype=torch.float64, generator=gen)
    grads = []
    for chunk in (4, 100):  # chunked (6 chunks, the last partial) / direct
        out = pair_apply(fn, left, right, ii, jj, list(net.parameters()), chunk=chunk)
        assert out.shape == (23,)
        inputs = [left] if same else [left, right]
        g = torch.autograd.grad((out * weights).sum(), [*inputs, *net.parameters()])
        grads.append((out.detach(), g))
    (out_c, g_c), (out_d, g_d) = grads
    torch.testing.assert_close(out_c, out_d)
    for a, b in zip(g_c, g_d, strict=True):
        torch.testing.assert_close(a, b)


def test_pair_apply_without_grad_and_under_bf16_autocast() -> None:
    net, fn = _head()
    net.float()
    left = torch.randn(9, 6)
    ii, jj = torch.randint(0, 9, (50,)), torch.randint(0, 9, (50,))
    with torch.no_grad():
        torch.testing.assert_close(
            pair_apply(fn, left, left, ii, jj, chunk=8), fn(left[ii], left[jj])
        )
    left.requires_grad_()
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = pair_apply(fn, left, left, ii, jj, list(net.parameters()), chunk=8)
    assert out.dtype == torch.bfloat16
    out.float().sum().backward()
    assert left.grad is not None and left.grad.dtype == torch.float32
    assert all(p.grad is not None and p.grad.dtype == torch.float32 for p in net.parameters())


def test_pair_sum_apply_chunked_equals_direct() -> None:
    torch.manual_seed(0)
    net = nn.Sequential(nn.ReLU(), nn.Linear(6, 1)).double()
    gen = torch.Generator().manual_seed(2)
    left = torch.randn(9, 6, dtype=torch.float64, generator=gen, requires_grad=True)
    right = torch.randn(9, 6, dtype=torch.float64, generator=gen, requires_grad=True)
    ii, jj = torch.randint(0, 9, (23,), generator=gen), torch.randint(0, 9, (23,), generator=gen)
    results = []
    for chunk in (4, 100):
        out = pair_sum_apply(net, left, right, ii, jj, list(net.parameters()), chunk=chunk)
        results.append(torch.autograd.grad(out.sum(), [left, right, *net.parameters()]))
    for a, b in zip(*results, strict=True):
        torch.testing.assert_close(a, b)
