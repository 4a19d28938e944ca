import pytest
import torch

from fmri_rdm.errors import ConfigError
from fmri_rdm.models.pair_network.nets.siamese_cnn import SiameseCNN


def _net(head: str) -> SiameseCNN:
    torch.manual_seed(0)
    return SiameseCNN(1, image_size=16, channels=(4, 8), embed_dim=8, head=head, head_hidden=8)


@pytest.mark.parametrize("head", ["symmetric", "concat"])
@pytest.mark.parametrize("batch", [3, 40])
def test_factorised_equals_direct(images: torch.Tensor, head: str, batch: int) -> None:
    net = _net(head).eval()
    i = torch.randint(0, 11, (batch,))
    j = torch.randint(0, 12, (batch,))
    out = net(images, i, j)
    assert out.shape == (batch,)
    torch.testing.assert_close(out, net.forward_pairs(images[i], images[j]), atol=1e-5, rtol=1e-5)


def test_uint8_and_float_inputs_agree(images: torch.Tensor) -> None:
    net = _net("symmetric").eval()
    torch.testing.assert_close(net.embed(images), net.embed(images.float() / 255))


def test_symmetric(images: torch.Tensor) -> None:
    net = _net("symmetric").eval()
    i, j = torch.arange(0, 6), torch.arange(6, 12)
    assert torch.equal(net(images, i, j), net(images, j, i))


def test_rejects_wrong_image_shape(images: torch.Tensor) -> None:
    net = SiameseCNN(3, image_size=16, channels=(4, 8), embed_dim=8)
    with pytest.raises(ConfigError, match="in_channels"):
        net(images, torch.tensor([0]), torch.tensor([1]))
    with pytest.raises(ConfigError):
        SiameseCNN(1, image_size=2, channels=(4, 8))
