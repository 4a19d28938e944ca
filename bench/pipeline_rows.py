"""Rows of the full-pipeline bench (`python -m bench.run --only pipeline`): one synthetic
subject end to end (bench/full_pipeline.py), roi=all and roi=V1v."""

from __future__ import annotations

from bench.table import Row, Sizes


def bench_pipeline(sizes: Sizes) -> list[Row]:
    """The run's total seconds and peak memory per ROI (the stage table: bench.full_pipeline)."""
    from bench.full_pipeline import FULL_EPOCHS, measure

    epochs = FULL_EPOCHS if sizes.pipeline_images > 1000 else 1
    rows = []
    for roi in ("all", "V1v"):
        res = measure(roi, sizes.pipeline_images, epochs, [])
        rows.append(
            Row(
                f"full pipeline: siamese, 5 folds x {epochs} epochs, stats, roi={roi}",
                f"{res['n_images']} images, {res['n_voxels']} voxels",
                res["stages"]["total"],
                peak_mb=res["peak_rss_mb"],
                target="< 180 s on one H200",
            )
        )
    return rows
