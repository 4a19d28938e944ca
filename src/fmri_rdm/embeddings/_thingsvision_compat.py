"""Make `import thingsvision` (2.7.3) work with numpy 2 and without TensorFlow.

thingsvision reads `np.AxisError` (moved to `np.exceptions` in numpy 2) and imports `tensorflow`,
`tensorflow.keras`, `tensorflow.keras.applications` and `tensorflow.keras.layers.Lambda` at import
time, calling `tf.config.list_physical_devices('GPU')` there, even for PyTorch models. Real
tensorflow-cpu is not an option (importing it before triton segfaults), so when it is absent we
register inert stand-ins that only answer those import-time calls. Applied only by the
thingsvision backend, right before it imports thingsvision; nothing else in the project sees it.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import logging
import sys
import types
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

STUB_MARKER = "__fmri_rdm_stub__"


class _StubModule(types.ModuleType):
    """A module whose unknown attributes raise a clear AttributeError (hasattr() stays False)."""

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        raise AttributeError(
            f"{self.__name__}.{name}: TensorFlow is not installed; fmri_rdm provides only a stub "
            "so that thingsvision imports (PyTorch models only)"
        )


def _stub(name: str, **attrs: Any) -> _StubModule:
    module = _StubModule(name)
    # A real spec keeps importlib.util.find_spec(name) from raising ValueError on a None spec.
    module.__spec__ = importlib.machinery.ModuleSpec(name, loader=None)
    setattr(module, STUB_MARKER, True)
    for key, value in attrs.items():
        setattr(module, key, value)
    return module


def _stub_tensorflow() -> None:
    class Lambda:  # `from tensorflow.keras.layers import Lambda` at import time
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            raise RuntimeError("tensorflow.keras is a stub: TensorFlow models are not supported")

    experimental = _stub("tensorflow.config.experimental", set_memory_growth=lambda *a: None)
    config = _stub(
        "tensorflow.config",
        list_physical_devices=lambda device_type=None: [],
        list_logical_devices=lambda device_type=None: [],
        experimental=experimental,
    )
    layers = _stub("tensorflow.keras.layers", Lambda=Lambda)
    applications = _stub("tensorflow.keras.applications")
    keras = _stub("tensorflow.keras", layers=layers, applications=applications)
    tensorflow = _stub("tensorflow", config=config, keras=keras, __version__="0.0.0+stub")
    for module in (tensorflow, config, experimental, keras, layers, applications):
        sys.modules.setdefault(module.__name__, module)


def tensorflow_importable() -> bool:
    """True if a real tensorflow is installed (or a stub is already registered)."""
    if "tensorflow" in sys.modules:
        return True
    return importlib.util.find_spec("tensorflow") is not None


def apply() -> None:
    """Idempotent; call right before `import thingsvision`."""
    if not hasattr(np, "AxisError"):
        # thingsvision reads the numpy-1 name; numpy 2 only has np.exceptions.AxisError.
        setattr(np, "AxisError", np.exceptions.AxisError)  # noqa: B010
    if not tensorflow_importable():
        log.debug("tensorflow not installed: registering import stubs for thingsvision")
        _stub_tensorflow()
