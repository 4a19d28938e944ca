"""open_clip weights: a pretrained tag, a local checkpoint, or seeded random init.

Weights for a tag are looked up in the local Hugging Face cache first (offline, instant); only if
they are missing and the hub answers a 2-s connect is the slow online download tried, so a machine
without network fails in well under a second instead of open_clip's ~45 s of retries.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import socket
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import torch

from fmri_rdm.embeddings.base import Transform
from fmri_rdm.errors import ConfigError, EmbeddingError, one_line

log = logging.getLogger(__name__)

WAYS_OUT = (
    "use a local checkpoint with embeddings.pretrained=/path/to.pt, "
    "or random weights with embeddings.pretrained=null"
)
PROBE_TIMEOUT_S = 2.0
# Random weights are drawn from this seed, so that `pretrained=null` embeddings are reproducible
# across processes (and a cache entry keyed on "random" stays truthful).
RANDOM_INIT_SEED = 0
_CHECKPOINT_SUFFIXES = (".pt", ".pth", ".bin", ".safetensors", ".ckpt")


@dataclass(frozen=True)
class WeightSource:
    """Where the weights come from: an open_clip tag, a checkpoint file, or random init."""

    kind: Literal["tag", "checkpoint", "random"]
    value: str | None  # the tag, the resolved checkpoint path, or None
    # (size, mtime_ns) of a checkpoint: a file overwritten in place is a different source.
    stamp: tuple[int, int] | None = None


def resolve_weights(model_name: str, pretrained: str | None) -> WeightSource:
    """Classify `pretrained` without touching the network; unknown names -> ConfigError."""
    import open_clip

    if model_name not in open_clip.list_models():
        raise ConfigError(f"unknown open_clip model {model_name!r} (see open_clip.list_models())")
    if pretrained is None:
        return WeightSource("random", None)
    path = Path(pretrained).expanduser()
    if path.is_file():
        stat = path.stat()
        return WeightSource("checkpoint", str(path.resolve()), (stat.st_size, stat.st_mtime_ns))
    if open_clip.get_pretrained_cfg(model_name, pretrained):
        return WeightSource("tag", pretrained)
    if os.sep in pretrained or pretrained.endswith(_CHECKPOINT_SUFFIXES):
        raise ConfigError(f"checkpoint file not found: embeddings.pretrained={pretrained}")
    tags = ", ".join(open_clip.list_pretrained_tags_by_model(model_name)) or "none"
    raise ConfigError(
        f"{pretrained!r} is neither a pretrained tag of {model_name} (available: {tags}) nor a "
        "checkpoint file; for random weights write embeddings.pretrained=null"
    )


@lru_cache(maxsize=8)
def _sha256(path: str, size: int, mtime_ns: int) -> str:
    """Content hash; (size, mtime) in the cache key so an overwritten file is re-hashed."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(8 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def checkpoint_sha256(path: str) -> str:
    """SHA-256 of a checkpoint file, memoised per process (a ViT-B-32 file takes ~1 s)."""
    stat = os.stat(path)
    return _sha256(path, stat.st_size, stat.st_mtime_ns)


def quick_gelu_for(model_name: str, source: WeightSource) -> bool:
    """OpenAI's weights were trained with QuickGELU; open_clip's plain 'ViT-B-32' config uses
    GELU and only warns about the mismatch, so force it whenever the tag says so."""
    import open_clip

    if source.kind != "tag":
        return False
    return bool(open_clip.get_pretrained_cfg(model_name, source.value).get("quick_gelu", False))


def expected_preprocess(model_name: str, source: WeightSource) -> dict[str, Any]:
    """The preprocessing open_clip will build (size, mean/std, interpolation, resize mode),
    computed without creating the model so that a cache hit never loads weights."""
    import open_clip
    from open_clip.transform import PreprocessCfg, merge_preprocess_dict

    cfg = asdict(PreprocessCfg())
    if source.kind == "tag":
        cfg = merge_preprocess_dict(cfg, open_clip.get_pretrained_cfg(model_name, source.value))
    size = (open_clip.get_model_config(model_name) or {}).get("vision_cfg", {}).get("image_size")
    if size is not None:
        cfg["size"] = size
    return {k: list(v) if isinstance(v, tuple) else v for k, v in cfg.items()}


class _DropOpenClipRootLogs(logging.Filter):
    """open_clip logs on the root logger (an ERROR for every failed download try); we report
    outcomes ourselves, so its records are dropped while a model is being created."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.name == "root" and f"{os.sep}open_clip{os.sep}" in record.pathname)


@contextlib.contextmanager
def _quiet_open_clip() -> Iterator[None]:
    root, dropper = logging.getLogger(), _DropOpenClipRootLogs()
    root.addFilter(dropper)
    try:
        yield
    finally:
        root.removeFilter(dropper)


def hub_offline() -> bool:
    """Whether Hugging Face offline mode is on (env var or huggingface_hub's own flag)."""
    from huggingface_hub import constants

    env = os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in {"1", "true", "yes", "on"}
    return env or bool(constants.HF_HUB_OFFLINE)


def set_hub_offline(value: bool) -> None:
    """huggingface_hub reads HF_HUB_OFFLINE once, at import: set the env var and its copy."""
    from huggingface_hub import constants

    if value:
        os.environ["HF_HUB_OFFLINE"] = "1"
    else:
        os.environ.pop("HF_HUB_OFFLINE", None)
    constants.HF_HUB_OFFLINE = value


@contextlib.contextmanager
def _temporarily_offline() -> Iterator[None]:
    from huggingface_hub import constants

    env_before, flag_before = os.environ.get("HF_HUB_OFFLINE"), constants.HF_HUB_OFFLINE
    set_hub_offline(True)
    try:
        yield
    finally:
        constants.HF_HUB_OFFLINE = flag_before
        if env_before is None:
            os.environ.pop("HF_HUB_OFFLINE", None)
        else:
            os.environ["HF_HUB_OFFLINE"] = env_before


def hub_address() -> tuple[str, int]:
    """(host, port) a download would connect to first: the HTTPS proxy if set, else the hub."""
    from huggingface_hub import constants

    proxy = urllib.request.getproxies().get("https")
    url = urllib.parse.urlsplit(proxy or constants.ENDPOINT)
    return url.hostname or "huggingface.co", url.port or (443 if url.scheme == "https" else 80)


def network_reachable(host: str, port: int, timeout: float = PROBE_TIMEOUT_S) -> bool:
    """One TCP connect (DNS included) bounded by `timeout` seconds."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def _create(
    model_name: str, pretrained: str | None, quick_gelu: bool, device: torch.device
) -> tuple[torch.nn.Module, Transform]:
    import open_clip

    # The model is built on the CPU; a private, seeded CPU generator leaves the caller's RNG be.
    with _quiet_open_clip(), torch.random.fork_rng(devices=[]):
        torch.manual_seed(RANDOM_INIT_SEED)
        model, _, preprocess = open_clip.create_model_and_transforms(
            model_name, pretrained=pretrained, force_quick_gelu=quick_gelu, device=device
        )
    return model.eval(), preprocess


def _load_tag(
    model_name: str, tag: str, quick_gelu: bool, device: torch.device, offline: bool
) -> tuple[torch.nn.Module, Transform]:
    """Local cache first, then (if the hub answers) the online download."""
    try:
        with _temporarily_offline():
            return _create(model_name, tag, quick_gelu, device)
    except Exception as e:  # open_clip wraps every download failure in RuntimeError
        log.debug(
            "offline load of %s/%s failed: %s",
            model_name,
            tag,
            one_line(f"{type(e).__name__}: {e}", 300),
        )
    what = f"pretrained weights {model_name}/{tag} are not in the local Hugging Face cache"
    if offline or hub_offline():
        raise EmbeddingError(f"{what} and offline mode is on (HF_HUB_OFFLINE); {WAYS_OUT}")
    host, port = hub_address()
    if not network_reachable(host, port):
        raise EmbeddingError(f"{what} and {host}:{port} is unreachable (no network); {WAYS_OUT}")
    log.info("downloading pretrained weights %s/%s from %s", model_name, tag, host)
    try:
        return _create(model_name, tag, quick_gelu, device)
    except Exception as e:
        reason = one_line(f"{type(e).__name__}: {e}", 300)
        raise EmbeddingError(f"{what} and the download failed ({reason}); {WAYS_OUT}") from e


@lru_cache(maxsize=2)
def load_open_clip(
    model_name: str, source: WeightSource, device: torch.device, offline: bool = False
) -> tuple[torch.nn.Module, Transform]:
    """The open_clip model (eval mode, on `device`) and its inference preprocessing.

    Memoised (2 models) so that embedders of the same weights in one process, e.g. training
    then prediction, share one model; the model is only ever used for inference.
    """
    if offline:
        set_hub_offline(True)
    quick_gelu = quick_gelu_for(model_name, source)
    if source.kind == "tag":
        assert source.value is not None
        return _load_tag(model_name, source.value, quick_gelu, device, offline)
    if source.kind == "random":
        return _create(model_name, None, quick_gelu, device)
    try:
        return _create(model_name, source.value, quick_gelu, device)
    except Exception as e:
        raise EmbeddingError(
            f"cannot load checkpoint {source.value}: " + one_line(f"{type(e).__name__}: {e}", 300)
        ) from e
