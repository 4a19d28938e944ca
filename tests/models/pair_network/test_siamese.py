import numpy as np
import pytest
import torch

from fmri_rdm.errors import ConfigError
from fmri_rdm.models.pair_network.nets import _common
from fmri_rdm.models.pair_network.nets.siamese import SiameseNet


@pytest.mark.parametrize("head", ["symmetric", "concat", "correlation"])
@pytest.mark.parametrize("batch", [4, 100])  # fewer / more indices than table rows
def test_factorised_equals_direct(emb: torch.Tensor, head: str, batch: int) -> None:
    torch.manual_seed(0)
    net = SiameseNet(16, tower=(32, 16), head_hidden=8, head=head).eval()
    i = torch.randint(0, 19, (batch,))
    j = torch.randint(0, 20, (batch,))
    out = net(emb, i, j)
    assert out.shape == (batch,)
    torch.testing.assert_close(out, net.forward_pairs(emb[i], emb[j]), atol=1e-5, rtol=1e-5)


def test_symmetric_head_is_exactly_symmetric(emb: torch.Tensor) -> None:
    net = SiameseNet(16, tower=(32, 16), head_hidden=8, head="symmetric").eval()
    i, j = torch.arange(0, 10), torch.arange(10, 20)
    assert torch.equal(net(emb, i, j), net(emb, j, i))


def test_correlation_head_is_a_scaled_correlation_distance(emb: torch.Tensor) -> None:
    net = SiameseNet(16, tower=(32, 16), head="correlation").eval()
    i, j = torch.arange(0, 10), torch.arange(10, 20)
    assert torch.equal(net(emb, i, j), net(emb, j, i))
    z = net.tower(emb).detach().double().numpy()
    r = [np.corrcoef(z[a], z[b])[0, 1] for a, b in zip(i.tolist(), j.tolist(), strict=True)]
    want = torch.tensor(1.0 - np.asarray(r), dtype=torch.float32)  # scale 1, shift 0
    torch.testing.assert_close(net(emb, i, j), want, atol=1e-5, rtol=1e-5)


def test_concat_head_is_order_sensitive(emb: torch.Tensor) -> None:
    net = SiameseNet(16, tower=(32, 16), head_hidden=8, head="concat").eval()
    i, j = torch.arange(0, 10), torch.arange(10, 20)
    assert not torch.allclose(net(emb, i, j), net(emb, j, i))


def test_bad_config() -> None:
    with pytest.raises(ConfigError):
        SiameseNet(16, head="cosine")
    with pytest.raises(ConfigError):
        SiameseNet(16, tower=())


@pytest.mark.parametrize("head", ["symmetric", "concat"])
def test_chunked_training_path_equals_direct(
    emb: torch.Tensor, head: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Batches larger than PAIR_CHUNK take the chunked CPU path: same values and gradients."""
    monkeypatch.setattr(_common, "PAIR_CHUNK", 7)
    torch.manual_seed(0)
    net = SiameseNet(16, tower=(32, 16), head_hidden=8, dropout=0.0, head=head).double()
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
