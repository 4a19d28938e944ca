"""The data-source interface: what a run needs from a dataset, whatever its layout.

A data source gives the stimuli (paths, a stable stimulus id, metadata), the subjects and ROIs
it holds, which stimuli each subject saw (in the order of the subject's arrays), and for one
(subject, ROI) either per-stimulus responses (n x units) or RDMs (sessions x pairs). The run
loop, the ceilings, transfer, group comparison, export and predict read data only through it,
and match subjects by stimulus id.

Implementations: `data.algonauts_source.AlgonautsSource` (Algonauts 2023 layout, real and
synthetic; stimulus id = NSD id) and `data.folder.FolderSource` (`data=folder`, the folder
contract of docs/datasets.md). The config names the class with `data._target_` (a dotted
path, like `model.learner`); configs written before it existed fall back on `data.source`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol, runtime_checkable

import numpy as np

from fmri_rdm.errors import ConfigError

if TYPE_CHECKING:
    from fmri_rdm.data.trials import Trials

Subject = int | str  # Algonauts subjects are numbers (subj01 = 1); folder subjects are names
DataKind = Literal["responses", "rdm"]

# configs without `data._target_` (runs written before the interface)
SOURCES = {
    "algonauts": "fmri_rdm.data.algonauts_source.AlgonautsSource",
    "synthetic": "fmri_rdm.data.algonauts_source.AlgonautsSource",
    "folder": "fmri_rdm.data.folder.FolderSource",
}


@dataclass(frozen=True)
class Stimuli:
    """A subject's stimuli in the order of its arrays.

    paths: (N,) image files; ids: (N,) str stimulus ids (unique); metadata: column -> (N,) str
    values (e.g. `category`), empty when the source has none. A folder whose stimuli.tsv has
    no `file` column has no images: has_images is False and paths are ROOT/stimuli/<id>
    placeholders that name the stimuli but are never read.
    """

    paths: list[Path]
    ids: np.ndarray
    metadata: dict[str, list[str]] = field(default_factory=dict)
    has_images: bool = True  # False: conditions without image files (paths are placeholders)

    def __len__(self) -> int:
        return len(self.paths)

    def take(self, rows: np.ndarray) -> Stimuli:
        rows = np.asarray(rows, dtype=np.int64)
        return Stimuli(
            [self.paths[k] for k in rows],
            self.ids[rows],
            {k: [v[r] for r in rows] for k, v in self.metadata.items()},
            self.has_images,
        )


@dataclass
class SubjectData:
    """One (subject, ROI) on the requested stimuli.

    kept: (M,) int64 positions, among the requested rows, of the stimuli kept (a loader may
    leave out stimuli it cannot use, with a warning); responses: (M, U) float32 or None;
    sessions: (S, M(M-1)/2) float64 RDMs, one per session, or None; noise_free: (M, U) float32
    noise-free responses (synthetic data only); file: the file the data came from (messages);
    trials: the trial-level responses behind `responses` (data.trials.Trials; folder
    `.trials.npy` data only), for the cross-validated distances;
    timed: the time-resolved data (responses and sessions are then their mean over time).
    """

    kept: np.ndarray
    responses: np.ndarray | None = None
    sessions: np.ndarray | None = None
    noise_free: np.ndarray | None = None
    file: Path | None = None
    trials: Trials | None = None
    timed: Any = None  # data.timed.TimedData of time-resolved data (the rest: its time mean)

    @property
    def kind(self) -> DataKind:
        return "responses" if self.responses is not None else "rdm"


@runtime_checkable
class DataSource(Protocol):
    """What a run reads of a dataset (module docstring)."""

    name: str
    root: Path

    def subjects(self) -> list[Subject]:
        """Every subject with data, in a stable order."""
        ...

    def rois(self, subject: Subject) -> list[str]:
        """The ROIs `subject` has data for (a source may accept other names too)."""
        ...

    def kind(self, subject: Subject, roi: str) -> DataKind:
        """`responses` or `rdm`, without reading the data."""
        ...

    def stimuli(self, subject: Subject) -> Stimuli:
        """The stimuli `subject` saw, in the order of its arrays."""
        ...

    def load(
        self, subject: Subject, roi: str, *, rows: np.ndarray | None, standardize: bool
    ) -> SubjectData:
        """The data of (subject, roi) on `rows` (positions in `stimuli(subject)`; None: all)."""
        ...

    def check(self, subject: Subject, roi: str) -> None:
        """Fast checks of a run's subject and ROI (directory entries only): DataError /
        ConfigError naming what exists."""
        ...


def source_class(data_cfg: Any) -> Any:
    """The class `data._target_` names (or the one of `data.source` in older configs)."""
    from fmri_rdm.runtime.imports import import_dotted

    dotted = data_cfg.get("_target_") or SOURCES.get(str(data_cfg.get("source")))
    if not dotted:
        raise ConfigError(
            f"data.source={data_cfg.get('source')!r} names no data source: choose "
            f"{', '.join(SOURCES)} or give data._target_=<module>.<Class>"
        )
    return import_dotted(str(dotted), "data._target_")


def source_of(cfg: Any, *, create: bool = True) -> DataSource:
    """The run's data source (`create=False`: never generates synthetic data)."""
    source: DataSource = source_class(cfg.data).from_config(cfg, create=create)
    return source


def _named(cfg: Any, key: str) -> Any:
    """`data.<key>` (None when the data config has no such key)."""
    data = cfg.data
    return data.get(key) if hasattr(data, "get") and key in data else None


def _required_data_key(cfg: Any, key: str, hint: str) -> str | None:
    """`data.<key>` as a string where the data config has that key (then it must be set:
    ConfigError naming `hint`), else None (the Algonauts configs: `subject` / `roi` groups)."""
    if not (hasattr(cfg.data, "get") and key in cfg.data):
        return None
    named = _named(cfg, key)
    if named in (None, ""):
        raise ConfigError(
            f"data={cfg.data.get('source')} needs data.{key}={hint}"
            "`python -m fmri_rdm.data ROOT` lists them)"
        )
    return str(named)


def run_subject(cfg: Any) -> Subject:
    """The run's subject: `data.subject` where the data config has that key (required then),
    else `subject.id` (Algonauts numbers)."""
    named = _required_data_key(cfg, "subject", "<subject folder> (")
    return int(cfg.subject.id) if named is None else named


def run_roi(cfg: Any) -> str:
    """The run's ROI: `data.roi` where the data config has that key (required then), else
    `roi.name`."""
    named = _required_data_key(cfg, "roi", "<roi> (a <roi>.npy or <roi>.rdm.npy of the subject; ")
    return str(cfg.roi.name) if named is None else named


def recorded_config(cfg: Any) -> str:
    """The run's config as `run_config.yaml` holds it (resolved YAML). Where the data config
    names the subject and ROI itself (`data.subject`, `data.roi`: folder data), the Algonauts
    `subject` and `roi` groups are left out: they play no part in such a run."""
    from omegaconf import OmegaConf

    tree = OmegaConf.to_container(cfg, resolve=True)
    assert isinstance(tree, dict)
    data = tree.get("data") or {}
    if isinstance(data, dict):
        for key in ("subject", "roi"):
            if key in data:
                tree.pop(key, None)
    return OmegaConf.to_yaml(tree)


def subject_key(subject: Subject) -> str:
    """A subject's name in metrics.json sections and tables: `subj02`, or the folder name."""
    if isinstance(subject, str) and not subject.isdigit():
        return subject
    return f"subj{int(subject):02d}"


def select_rows(n_total: int, n_images: int | None, *, random_subset: bool, seed: int) -> Any:
    """Sorted int64 positions: all, the first `n_images`, or a seeded random subset."""
    from fmri_rdm.data.algonauts import select_images

    return select_images(n_total, n_images, random_subset=random_subset, seed=seed)


__all__ = [
    "SOURCES",
    "DataKind",
    "DataSource",
    "Stimuli",
    "Subject",
    "SubjectData",
    "run_roi",
    "run_subject",
    "select_rows",
    "source_class",
    "source_of",
    "subject_key",
]
