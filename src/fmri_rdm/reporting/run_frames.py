"""A run's metrics as pandas tables and its figures, for notebooks (`RunMetrics.folds_frame`,
`.summary_frame`, `.plots`, `.show`)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

# `run` below is a `reporting.results.RunMetrics` (not imported: results imports this module)
RunMetrics = Any

log = logging.getLogger(__name__)
SECTIONS = ("test", "train", "baselines", "noise_ceiling")


def folds_frame(run: RunMetrics) -> pd.DataFrame:
    """One row per fold: fold, image and pair counts, fit seconds, then every score as
    `<section>_<name>` (test_pearson, baselines_encoding_pearson, noise_ceiling_pearson...)."""
    import pandas as pd

    rows = []
    for fold in run.folds:
        data = fold.data
        row: dict[str, Any] = {"fold": fold.fold}
        row |= {k: v for k, v in data.items() if k.startswith(("n_images", "n_pairs"))}
        row["fit_seconds"] = fold.fit_seconds
        for section in SECTIONS:
            for name in data.get(section) or {}:
                row[f"{section}_{name}"] = fold.score(name, section)
        rows.append(row)
    return pd.DataFrame(rows)


def summary_frame(run: RunMetrics) -> pd.DataFrame:
    """One row per score over folds: section, name, mean, std, n, and for test scores that
    carry them, the 95 % interval and p-value (folds pooled, `stats.report`)."""
    import pandas as pd

    rows = []
    for section in SECTIONS:
        for name in getattr(run, section):
            entry = run.entry(section, name)
            row = {"section": section, "name": name}
            row |= {k: entry.get(k) for k in ("mean", "std", "n", "ci_low", "ci_high", "p_value")}
            rows.append(row)
    columns = ["section", "name", "mean", "std", "n", "ci_low", "ci_high", "p_value"]
    return pd.DataFrame(rows, columns=columns)


def plot_paths(run_dir: Path | None) -> dict[str, Path]:
    """{name: path} of the run's figures (`<run>/plots/*.png`, name = file stem)."""
    if run_dir is None:
        return {}
    return {p.stem: p for p in sorted((Path(run_dir) / "plots").glob("*.png"))}


def show(run: RunMetrics, names: list[str] | None = None) -> list[Any]:
    """Display the run's figures (all, or those in `names`) inline in Jupyter; the Image
    objects shown ([] outside IPython)."""
    paths = run.plots
    unknown = sorted(set(names or ()) - set(paths))
    if unknown:
        from fmri_rdm.errors import DataError

        raise DataError(f"no figure {unknown[0]!r} in this run; it has {', '.join(paths)}")
    return display_images([paths[n] for n in names] if names is not None else list(paths.values()))


def display_images(paths: list[Path]) -> list[Any]:
    """Display PNG files inline in Jupyter (IPython.display); outside IPython, log their
    paths. Returns the Image objects shown ([] outside IPython)."""
    try:
        from IPython import get_ipython
        from IPython.display import Image, display
    except ImportError:
        return _logged(paths)
    if get_ipython() is None:
        return _logged(paths)
    images = [Image(filename=str(p)) for p in paths]
    for image in images:
        display(image)
    return images


def _logged(paths: list[Path]) -> list[Any]:
    for path in paths:
        log.info("figure: %s", path)
    return []
