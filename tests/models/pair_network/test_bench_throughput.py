import pytest

from bench.training_throughput import format_rows, run


@pytest.mark.slow
def test_bench_rows() -> None:
    rows = run(
        n_images=50,
        n_pairs=2000,
        dim=16,
        batch_size=256,
        heads=("symmetric",),
        large_batch=None,
        seed_batches=5,
        big_batches=2,
    )
    assert {"operation", "size", "seconds", "pairs_per_s"} <= set(rows[0])
    assert any("(b)" in r["operation"] for r in rows)
    assert all(r["pairs_per_s"] > 0 for r in rows)
    assert "vs (b)" in format_rows(rows)
