import numpy as np
import pytest
import torch
from scipy.stats import pearsonr

from fmri_rdm.errors import ConfigError
from fmri_rdm.models.pair_network.losses import make_loss, mixed, mse, pearson, pearson_r


def _data() -> tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(1)
    pred = torch.randn(200, generator=gen, dtype=torch.float64)
    target = 0.5 * pred + torch.randn(200, generator=gen, dtype=torch.float64)
    return pred, target


def test_pearson_matches_scipy() -> None:
    pred, target = _data()
    r = pearsonr(pred.numpy(), target.numpy()).statistic
    assert pearson_r(pred, target).item() == pytest.approx(r, abs=1e-7)
    assert pearson(pred, target).item() == pytest.approx(1 - r, abs=1e-7)


def test_pearson_is_finite_for_constant_prediction() -> None:
    pred = torch.zeros(10, requires_grad=True)
    loss = pearson(pred, torch.arange(10.0))
    loss.backward()
    assert loss.item() == pytest.approx(1.0)
    assert pred.grad is not None and torch.isfinite(pred.grad).all()


def test_mse_and_mixed() -> None:
    pred, target = _data()
    m = np.mean((pred.numpy() - target.numpy()) ** 2)
    assert mse(pred, target).item() == pytest.approx(m)
    expected = 0.3 * m + 0.7 * pearson(pred, target).item()
    assert mixed(pred, target, alpha=0.3).item() == pytest.approx(expected)
    assert make_loss("mixed", alpha=0.3)(pred, target).item() == pytest.approx(expected)
    assert make_loss("mse") is mse and make_loss("pearson") is pearson


@pytest.mark.parametrize(("name", "alpha"), [("huber", 0.5), ("mixed", 1.5)])
def test_make_loss_rejects_bad_config(name: str, alpha: float) -> None:
    with pytest.raises(ConfigError):
        make_loss(name, alpha)
