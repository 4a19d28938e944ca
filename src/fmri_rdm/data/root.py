"""The Algonauts-layout folder a run's config names: `data.root`, or the synthetic set in the
cache (generated on first use)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fmri_rdm.errors import DataError


def data_root(cfg: Any, *, create: bool = True) -> Path:
    """The Algonauts-layout root: the configured folder, or the synthetic set (generated once;
    with create=False only its path, e.g. for reading a finished run's images)."""
    if cfg.data.source == "synthetic":
        from fmri_rdm.data.synthetic import ensure_synthetic_dataset, synthetic_dataset_path

        g = cfg.data.generate
        return (ensure_synthetic_dataset if create else synthetic_dataset_path)(
            Path(cfg.paths.cache_dir),
            # other subjects share images with this one (the inter-subject noise ceiling)
            subjects=sorted({int(cfg.subject.id), *(g.get("subjects") or [])}),
            n_shared=g.get("n_shared"),
            # `data.n_images=9841` on synthetic data asks for that many images: generate them
            n_images=max(int(g.n_images), int(cfg.data.n_images or 0)),
            n_test_images=int(g.n_test_images),
            image_size=int(g.image_size),
            seed=int(g.seed),
        )
    if cfg.data.root in (None, ""):
        raise DataError(
            "no Algonauts data folder given: set data.root=/path/to/algonauts_2023 or "
            "$ALGONAUTS_DIR, or try the synthetic demo with `python train.py experiment=demo`"
        )
    return Path(str(cfg.data.root)).expanduser()
