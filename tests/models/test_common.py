import pytest
import torch

from fmri_rdm.errors import ConfigError
from fmri_rdm.models._common import Dropout, distinct_rows


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
