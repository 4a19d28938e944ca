import pytest
import torch

from fmri_rdm.errors import ConfigError
from fmri_rdm.models.pair_network.nets import _common
from fmri_rdm.models.pair_network.nets.mlp import PairMLP, hidden_widths


def test_hidden_widths_halve() -> None:
    assert hidden_widths(3, 512) == [512, 256, 128]
    assert hidden_widths(0, 512) == []
    with pytest.raises(ConfigError):
        hidden_widths(4, 4)


@pytest.mark.parametrize("hidden_layers", [0, 1, 2])
@pytest.mark.parametrize("head", ["linear", "sigmoid"])
@pytest.mark.parametrize("batch", [5, 300])  # fewer / more indices than table rows
def test_factorised_equals_direct(
    emb: torch.Tensor, hidden_layers: int, head: str, batch: int
) -> None:
    torch.manual_seed(0)
    net = PairMLP(16, hidden_layers=hidden_layers, first_hidden=32, head=head).eval()
    i = torch.randint(0, 19, (batch,))
    j = torch.randint(0, 20, (batch,))
    out = net(emb, i, j)
    assert out.shape == (batch,)
    torch.testing.assert_close(out, net.forward_pairs(emb[i], emb[j]), atol=1e-5, rtol=1e-5)


def test_factorised_gradients_equal_direct(emb: torch.Tensor) -> None:
    net = PairMLP(16, first_hidden=32)
    i, j = torch.tensor([0, 0, 3]), torch.tensor([1, 5, 4])
    net(emb, i, j).sum().backward()
    fast = [p.grad.clone() for p in net.parameters() if p.grad is not None]
    net.zero_grad()
    net.forward_pairs(emb[i], emb[j]).sum().backward()
    for g_fast, p in zip(fast, net.parameters(), strict=True):
        torch.testing.assert_close(g_fast, p.grad, atol=1e-5, rtol=1e-5)


def test_linear_model_and_sigmoid_range(emb: torch.Tensor) -> None:
    lin = PairMLP(16, hidden_layers=0)
    assert sum(p.numel() for p in lin.parameters()) == 2 * 16 + 1
    sig = PairMLP(16, head="sigmoid", output_scale=2.0)
    out = sig(emb * 100, torch.arange(10), torch.arange(10, 20))
    assert ((out >= 0) & (out <= 2)).all()


def test_unknown_head() -> None:
    with pytest.raises(ConfigError):
        PairMLP(16, head="tanh")


@pytest.mark.parametrize("hidden_layers", [0, 2])
def test_chunked_training_path_equals_direct(
    emb: torch.Tensor, hidden_layers: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Batches larger than PAIR_CHUNK take the chunked CPU path: same values and gradients."""
    monkeypatch.setattr(_common, "PAIR_CHUNK", 7)
    torch.manual_seed(0)
    net = PairMLP(16, hidden_layers=hidden_layers, first_hidden=32).double()
    table = emb.double()
    i, j = torch.randint(0, 19, (40,)), torch.randint(0, 20, (40,))
    weights = torch.randn(40, dtype=torch.float64)
    results = []
    for out in (lambda: net(table, i, j), lambda: net.forward_pairs(table[i], table[j])):
        net.zero_grad()
        pred = out()
        (pred * weights).sum().backward()
        results.append((pred.detach(), [p.grad.clone() for p in net.parameters()]))
    torch.testing.assert_close(results[0][0], results[1][0])
    for fast, direct in zip(results[0][1], results[1][1], strict=True):
        torch.testing.assert_close(fast, direct)
