"""Pair models: networks on an (N, ...) table indexed by pairs (i, j), losses, the
LightningModule that trains them, and the SVM classifier."""

from fmri_rdm.models.losses import make_loss, mixed, mse, pearson
from fmri_rdm.models.mlp import PairMLP
from fmri_rdm.models.module import PairRegressionModule
from fmri_rdm.models.siamese import PairHead, SiameseNet
from fmri_rdm.models.siamese_cnn import SiameseCNN
from fmri_rdm.models.svm import SVMPairClassifier

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
