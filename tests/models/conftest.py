"""Tiny synthetic tables and pairs for the model tests."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from fmri_rdm.models.base import FoldData
from tests.models.fold import make_fold


@pytest.fixture
def emb() -> torch.Tensor:
    """(20, 16) float32 embeddings."""
    return torch.randn(20, 16, generator=torch.Generator().manual_seed(0))


@pytest.fixture
def images() -> torch.Tensor:
    """(12, 1, 16, 16) uint8 images."""
    gen = torch.Generator().manual_seed(0)
    return torch.randint(0, 256, (12, 1, 16, 16), generator=gen, dtype=torch.uint8)


@pytest.fixture
def fold(tmp_path: Path) -> FoldData:
    return make_fold(tmp=tmp_path)
