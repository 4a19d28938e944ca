"""`compare`, `predict_rdm` and `export` from Python: thin layers over the command-line tools'
own functions (`reporting.compare`, `reporting.group`, `entry.predict`, `entry.export`), so a
notebook gets the same tables and files as `fmri-rdm compare / predict / export`."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from fmri_rdm.errors import ConfigError, DataError

PathLike = str | os.PathLike[str]


@dataclass
class Comparison:
    """What `compare` returns: its tables (pandas DataFrames) and the files it wrote.

    tables: ``"runs"`` (one row per run: differing overrides, status, mean ± std scores), or,
    with ``across="subject"``, ``"group"``, ``"paired"`` and ``"subjects"``.
    files: {kind: path} of the Markdown, CSV and PNG files (`figures` are the PNGs).
    """

    tables: dict[str, Any]
    files: dict[str, Path]
    notes: list[str] = field(default_factory=list)

    @property
    def figures(self) -> list[Path]:
        return [p for p in self.files.values() if p.suffix == ".png"]

    def show(self) -> None:
        """Display the figures inline in Jupyter (outside it, log their paths)."""
        from fmri_rdm.reporting.run_frames import display_images

        display_images(self.figures)


def _run_paths(runs: Any) -> list[PathLike]:
    """Run directories from paths, RunMetrics (their `run_dir`) or one sweep directory."""
    from fmri_rdm.reporting.results import RunMetrics

    items = [runs] if isinstance(runs, str | os.PathLike | RunMetrics) else list(runs)
    paths: list[PathLike] = []
    for item in items:
        if isinstance(item, RunMetrics):
            if item.run_dir is None:
                raise DataError("a RunMetrics without run_dir: load it with RunMetrics.load")
            paths.append(item.run_dir)
        else:
            paths.append(item)
    return paths


def _out_dir(paths: list[PathLike], out: PathLike | None) -> Path:
    """`compare`'s rule: --out, else the one directory given, else the current folder."""
    if out is not None:
        return Path(out)
    if len(paths) == 1:
        first = Path(paths[0])
        return first if first.is_dir() else first.parent
    return Path.cwd()


def compare(
    runs: Any,
    across: str | None = None,
    reference: str | None = None,
    metric: str | None = None,
    out: PathLike | None = None,
    n_boot: int = 1000,
) -> Comparison:
    """Compare finished runs, as `fmri-rdm compare` does, and return its tables and figures.

    Args:
        runs: a sweep directory, run directories, or `RunMetrics` returned by `run`.
        across: ``"subject"``: the group level (aggregate over subjects, paired tests).
        reference: with `across`, the level compared against, e.g. ``"model=encoding"``.
        metric: a dotted metrics.json key (default: each run's optimised metric).
        out: where the files go (default: the one directory given, else the current folder).
        n_boot: 2-factor bootstrap resamples of the group level.

    Returns:
        A `Comparison`: `.tables` (DataFrames), `.files`, `.figures`, `.show()`.

    Raises:
        DataError: a path is missing or holds no run.

    Example:
        >>> cmp = fr.compare("multirun/2026-12-04/10-00-00-000000")
        >>> cmp.tables["runs"]
    """
    from fmri_rdm.analysis.runs import load_runs

    paths = _run_paths(runs)
    runs_ = load_runs(paths)
    target = _out_dir(paths, out)
    if across is None:
        from fmri_rdm.analysis.compare import frame, write_comparison

        if reference is not None:
            raise ConfigError("reference= applies with across='subject' only")
        files = write_comparison(runs_, target, metric)
        return Comparison({"runs": frame(runs_, metric)}, dict(files))
    from fmri_rdm.analysis.group import analyse
    from fmri_rdm.analysis.group_render import write_group

    analysis = analyse(runs_, across=across, reference=reference, n_boot=n_boot)
    files = write_group(analysis, target)
    tables = {"group": analysis.table, "paired": analysis.paired, "subjects": analysis.subjects}
    return Comparison(tables, dict(files), list(analysis.notes))


def predict_rdm(
    run_dir: PathLike, images: PathLike | Sequence[PathLike], fold: int | None = None
) -> np.ndarray:
    """The RDM a trained run predicts for new images (no fMRI needed), as `fmri-rdm predict`.

    Args:
        run_dir: a finished run's directory.
        images: a folder (its images in sorted order) or a list of image files.
        fold: one fold's model instead of the mean over the run's folds.

    Returns:
        The condensed RDM, shape (N(N-1)/2,), float32, in scipy's `pdist` order.

    Raises:
        DataError: no run there, a missing image, fewer than 2 images.

    Example:
        >>> rdm = fr.predict_rdm(result.run_dir, "my_images/")
        >>> scipy.spatial.distance.squareform(rdm).shape
    """
    from fmri_rdm.entry.predict import list_images
    from fmri_rdm.entry.predict import predict_rdm as _predict

    if isinstance(images, str | os.PathLike):
        paths = list_images(Path(images))
    else:
        paths = [Path(p) for p in images]
        missing = [p for p in paths if not p.is_file()]
        if missing:
            raise DataError(f"image {missing[0]} does not exist")
        if len(paths) < 2:
            raise DataError(f"{len(paths)} image(s) given; at least 2 are needed")
    return _predict(Path(run_dir), paths, fold)


def export(
    run_dir: PathLike, out: PathLike | None = None, format: str = "rsatoolbox"
) -> list[Path]:
    """Write a run's measured and predicted RDMs for another toolbox, as `fmri-rdm export`.

    Args:
        run_dir: a finished run's directory.
        out: the output folder (default ``<run_dir>/export``).
        format: ``"rsatoolbox"``: hdf5 files of `rsatoolbox.rdm.RDMs`.

    Returns:
        The files written: ``measured_rdm.hdf5`` and ``fold<k>_rdms.hdf5``.

    Raises:
        DataError: no finished run there, or its data changed since it ran.

    Example:
        >>> files = fr.export(result.run_dir)
        >>> rsatoolbox.rdm.load_rdm(str(files[0]))
    """
    from fmri_rdm.entry.export import FORMATS, export_rsatoolbox

    if format not in FORMATS:
        raise ConfigError(f"unknown export format {format!r}; one of {', '.join(FORMATS)}")
    return export_rsatoolbox(Path(run_dir), None if out is None else Path(out))
