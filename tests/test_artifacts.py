import json

import numpy as np
import pytest

from fmri_rdm.runtime.artifacts import lookup, write_json, write_npz


def test_write_json_is_plain_json_without_temp_files(tmp_path):
    path = tmp_path / "run" / "metrics.json"
    write_json(path, {"a": np.float32(0.5), "b": np.arange(3), "c": float("nan"), "p": tmp_path})
    assert json.loads(path.read_text()) == {"a": 0.5, "b": [0, 1, 2], "c": None, "p": str(tmp_path)}
    assert [p.name for p in path.parent.iterdir()] == ["metrics.json"]


def test_failed_write_keeps_the_old_file(tmp_path):
    path = tmp_path / "metrics.json"
    write_json(path, {"ok": 1})
    with pytest.raises(TypeError):
        write_json(path, {"bad": object()})
    assert json.loads(path.read_text()) == {"ok": 1}
    assert len(list(tmp_path.iterdir())) == 1


def test_write_npz_roundtrip(tmp_path):
    write_npz(tmp_path / "p.npz", {"i": np.arange(4, dtype=np.int32)})
    with np.load(tmp_path / "p.npz") as data:
        np.testing.assert_array_equal(data["i"], np.arange(4))


def test_lookup():
    assert lookup({"test": {"pearson": {"mean": 0.3}}}, "test.pearson.mean") == 0.3
    with pytest.raises(KeyError):
        lookup({"test": {}}, "test.pearson.mean")
