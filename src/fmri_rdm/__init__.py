"""fmri-rdm: predict fMRI representational dissimilarities between images.

The Python API (imported on first use, so `import fmri_rdm` loads neither torch nor Hydra):

    config(*overrides, experiment=None)   compose a run's configuration (Hydra)
    run(cfg) -> RunMetrics                train and evaluate it
    RunMetrics.load(run_dir)              a finished run's metrics
    compare(runs, across=None, ...)       tables and figures over runs
    predict_rdm(run_dir, images)          the RDM a trained run predicts for new images
    export(run_dir, out=None)             a run's RDMs as rsatoolbox files
    measured_rdm(root, subject, roi, metric=..., noise=...)
                                          a folder subject's measured RDM (pandas, by stimulus)
    ConfigError, DataError                the errors they raise

Four of these names are also subpackages or modules of the library (`fmri_rdm.run`, the run
layer; `fmri_rdm.config`, the schemas; `fmri_rdm.compare` and `fmri_rdm.export`, the
`python -m` tools). They stay modules, so dotted paths such as `fmri_rdm.pipeline.experiment` keep
working everywhere (imports, Hydra `_target_`s, monkeypatch), and calling one calls the API
function of the same name (`fmri_rdm.api`).
"""

from __future__ import annotations

import sys
from importlib import import_module
from types import ModuleType
from typing import Any

__version__ = "0.1.0"

# name -> module holding the API function or class
_API = {
    "config": "fmri_rdm.api.config",
    "run": "fmri_rdm.api.running",
    "compare": "fmri_rdm.api.analysis",
    "Comparison": "fmri_rdm.api.analysis",
    "predict_rdm": "fmri_rdm.api.analysis",
    "export": "fmri_rdm.api.analysis",
    "measured_rdm": "fmri_rdm.api.measured",
    "RunMetrics": "fmri_rdm.reporting.results",
    "ConfigError": "fmri_rdm.errors",
    "DataError": "fmri_rdm.errors",
    "FmriRdmError": "fmri_rdm.errors",
}
_CALLABLE_MODULES = ("config", "compare", "export")
__all__ = sorted(_API)


def _api(name: str) -> Any:
    if name in ("config", "run"):
        # OpenMP reads its wait policy once, when torch loads: set it first (as train.py does)
        from fmri_rdm.runtime.threads import set_passive_wait_policy

        set_passive_wait_policy()
    return getattr(import_module(_API[name]), name)


class _CallableModule(ModuleType):
    """A module of the library that, called, is the API function of its name."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return _api(self.__name__.rpartition(".")[2])(*args, **kwargs)

    @property  # type: ignore[override]
    def __doc__(self) -> str:
        """`help(fr.config)` shows the function it calls first (its signature and docstring),
        then what the module itself holds."""
        import inspect

        name = self.__name__.rpartition(".")[2]
        function = _api(name)
        own = self.__dict__.get("__doc__") or ""
        return (
            f"fmri_rdm.{name}{inspect.signature(function)}\n\n{inspect.getdoc(function)}\n\n"
            f"(Called, the module {self.__name__} is that function. The module itself:)\n\n{own}"
        )

    @__doc__.setter
    def __doc__(self, value: str | None) -> None:
        self.__dict__["__doc__"] = value


class _Package(ModuleType):
    def __setattr__(self, name: str, value: Any) -> None:
        # the import system binds each submodule here once, when it is first imported
        if name in _CALLABLE_MODULES and isinstance(value, ModuleType):
            value.__class__ = _CallableModule
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package


def __getattr__(name: str) -> Any:
    if name in _CALLABLE_MODULES:
        return import_module(f"{__name__}.{name}")  # bound (and made callable) by _Package
    if name not in _API:
        raise AttributeError(f"module 'fmri_rdm' has no attribute {name!r}")
    value = _api(name)
    globals()[name] = value
    return value
