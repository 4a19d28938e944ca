"""ThingsvisionEmbedder: equals encode_image on 'visual', reads inner modules, and the shim."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from fmri_rdm.embeddings.clip import ClipEmbedder
from fmri_rdm.embeddings.thingsvision_backend import ThingsvisionEmbedder
from fmri_rdm.errors import ConfigError, DataError

from .conftest import SMALL_MODEL, write_images


def _tv(**kwargs: object) -> ThingsvisionEmbedder:
    args: dict = {"pretrained": None, "batch_size": 4, "num_workers": 2, "device": "cpu"}
    return ThingsvisionEmbedder(SMALL_MODEL, **{**args, **kwargs})  # type: ignore[arg-type]


def test_visual_equals_encode_image(images: list[Path]) -> None:
    clip = ClipEmbedder(SMALL_MODEL, pretrained=None, batch_size=4, device="cpu")
    tv = _tv(module_name="visual")
    out = tv.embed(images)
    assert out.shape == (len(images), 256) and out.dtype == np.float32
    np.testing.assert_allclose(out, clip.embed(images), atol=1e-5)
    raw = _tv(module_name="visual", normalize=False).embed(images[:2])
    clip_raw = ClipEmbedder(SMALL_MODEL, None, normalize=False, num_workers=0, device="cpu")
    np.testing.assert_allclose(raw, clip_raw.embed(images[:2]), rtol=1e-4, atol=1e-5)


def test_inner_module_flattened(images: list[Path]) -> None:
    out = _tv(module_name="visual.transformer.resblocks.3").embed(images[:3])
    assert out.shape == (3, 50 * 384)  # (tokens, width) of ViT-S-32 at 224 px, flattened
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1.0, rtol=1e-5)


def test_module_errors(images: list[Path]) -> None:
    with pytest.raises(ConfigError, match="did you mean"):
        _tv(module_name="visual.transformer.resblock.3").embed(images[:1])
    with pytest.raises(ConfigError, match="flatten_acts=true"):
        _tv(module_name="visual.transformer.resblocks.3", flatten_acts=False).embed(images[:1])


def test_cache_key_and_describe_name_the_module() -> None:
    tv = _tv(module_name="visual.transformer.resblocks.3", flatten_acts=True)
    key, desc = tv.cache_key(), tv.describe()
    assert key["backend"] == desc["backend"] == "thingsvision"
    assert key["module"] == desc["module"] == "visual.transformer.resblocks.3"
    assert key != _tv(module_name="visual").cache_key()
    assert desc["random_init"] is True and desc["pretrained"] is None


def test_unreadable_image(tmp_path: Path) -> None:
    paths = write_images(tmp_path, 2)
    paths[0].write_bytes(b"garbage")
    with pytest.raises(DataError, match=r"img_000\.png"):
        _tv(module_name="visual").embed(paths)


def test_no_other_module_imports_thingsvision() -> None:
    import ast

    import fmri_rdm

    allowed = {"thingsvision_backend.py", "_thingsvision_compat.py"}
    for path in Path(fmri_rdm.__file__).parent.rglob("*.py"):
        if path.name in allowed:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            bad = [n for n in names if n.split(".")[0] in ("thingsvision", "tensorflow")]
            assert not bad, f"{path} imports {bad}"


@pytest.mark.slow
def test_thingsvision_and_stub_only_imported_by_its_backend() -> None:
    code = (
        "import sys\n"
        "from fmri_rdm.embeddings import ClipEmbedder, build_embeddings\n"
        "ClipEmbedder('ViT-B-32', pretrained=None).cache_key()\n"
        "bad = [m for m in sys.modules if m.startswith(('thingsvision', 'tensorflow'))]\n"
        "assert not bad, bad\n"
        "import numpy as np\n"
        "assert not hasattr(np, 'AxisError')\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def test_compat_shim() -> None:
    import numpy as np

    from fmri_rdm.embeddings import _thingsvision_compat

    _thingsvision_compat.apply()
    _thingsvision_compat.apply()  # idempotent
    assert getattr(np, "AxisError") is np.exceptions.AxisError  # noqa: B009
    tf = sys.modules["tensorflow"]
    if getattr(tf, _thingsvision_compat.STUB_MARKER, False):
        assert tf.config.list_physical_devices("GPU") == []
        assert not hasattr(tf, "nn")
        with pytest.raises(AttributeError, match="stub"):
            _ = tf.keras.applications.ResNet50


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_bf16_inner_module_and_visual(images: list[Path]) -> None:
    out = _tv(module_name="visual", device="cuda").embed(images)
    ref = ClipEmbedder(SMALL_MODEL, pretrained=None, device="cuda").embed(images)
    np.testing.assert_allclose(out, ref, atol=1e-3)
    inner = _tv(module_name="visual.transformer.resblocks.3", device="cuda").embed(images[:2])
    assert inner.shape == (2, 50 * 384) and inner.dtype == np.float32
