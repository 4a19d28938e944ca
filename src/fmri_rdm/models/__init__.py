"""Pair models: networks on an (N, ...) table indexed by pairs (i, j), losses, the
LightningModule that trains them, and the SVM classifier."""

import importlib
from typing import Any

# Loaded on first use (PEP 562): importing one network (`fmri_rdm.models.siamese`, e.g. to check
# a config against its constructor) must not load Lightning through `module` (5-10 s).
_WHERE = {
    "make_loss": "losses",
    "mixed": "losses",
    "mse": "losses",
    "pearson": "losses",
    "PairMLP": "mlp",
    "PairRegressionModule": "module",
    "PairHead": "siamese",
    "SiameseNet": "siamese",
    "SiameseCNN": "siamese_cnn",
    "SVMPairClassifier": "svm",
}


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_WHERE[name]}"), name)


__all__ = [
    "PairHead",
    "PairMLP",
    "PairRegressionModule",
    "SVMPairClassifier",
    "SiameseCNN",
    "SiameseNet",
    "make_loss",
    "mixed",
    "mse",
    "pearson",
]
