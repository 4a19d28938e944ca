"""runtime.compiled: numba kernels with an on-disk cache, and without one where numba finds no
place to write it (it raises at import then)."""

from __future__ import annotations

import logging

import numba.core.caching as caching
import pytest

from fmri_rdm.runtime import compiled as compiled_module
from fmri_rdm.runtime.compiled import compiled


def _add_one(x: float) -> float:
    return x + 1.0


def test_cached_kernel_runs() -> None:
    kernel = compiled(_add_one)
    assert kernel(1.5) == 2.5
    assert kernel._cache.__class__.__name__ == "FunctionCache"  # numba's disk cache


def test_no_cache_folder_still_compiles(monkeypatch, caplog) -> None:
    """Every locator refusing (read-only install and home): numba's RuntimeError at
    decoration becomes an uncached kernel and one log line."""
    for locator in caching.CacheImpl._locator_classes:
        monkeypatch.setattr(locator, "from_function", classmethod(lambda cls, *args: None))
    with pytest.raises(RuntimeError, match="no locator"):  # what numba itself does
        caching.FunctionCache(_add_one)
    monkeypatch.setattr(compiled_module, "_SAID", [False])
    with caplog.at_level(logging.INFO, logger="fmri_rdm.runtime.compiled"):
        kernel = compiled(_add_one)
        compiled(_add_one)
    assert kernel(2.0) == 3.0
    assert kernel._cache.__class__.__name__ == "NullCache"
    assert sum("compile in every process" in r.message for r in caplog.records) == 1
