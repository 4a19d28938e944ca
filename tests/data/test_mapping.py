"""The restricted unpickler for `mapping_<class>.npy` files."""

from __future__ import annotations

import os
import pickle
import sys

import numpy as np
import pytest

from fmri_rdm.data.algonauts import read_mapping
from fmri_rdm.errors import DataError

MAPPING = {0: "Unknown", 1: "V1v", 2: "V1d", 7: "hV4"}


def _npy_with_payload(path, payload: bytes) -> None:
    """A valid object-dtype .npy header followed by an arbitrary pickle payload."""
    with path.open("wb") as fp:
        np.lib.format.write_array_header_1_0(
            fp, {"descr": "|O", "fortran_order": False, "shape": ()}
        )
        fp.write(payload)


def test_reads_what_np_save_writes(tmp_path):
    path = tmp_path / "mapping_prf-visualrois.npy"
    np.save(path, MAPPING)  # exactly how the challenge files were made
    assert read_mapping(path) == MAPPING
    # the same file through numpy's own (unsafe) path gives the same dict
    assert np.load(path, allow_pickle=True).item() == read_mapping(path)


def test_numpy_integer_keys_and_str_values(tmp_path):
    path = tmp_path / "m.npy"
    np.save(path, np.array({np.int64(0): "Unknown", np.int32(3): np.str_("FFA-1")}, dtype=object))
    got = read_mapping(path)
    assert got == {0: "Unknown", 3: "FFA-1"} and all(type(k) is int for k in got)


class _Evil:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_refuses_os_system_and_never_runs_it(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "mapping_evil.npy"
    _npy_with_payload(path, pickle.dumps(_Evil(marker), protocol=3))
    with pytest.raises(DataError) as info:
        read_mapping(path)
    assert "forbidden global" in str(info.value) and "system" in str(info.value)
    assert "\n" not in str(info.value)
    assert not marker.exists()


def test_refuses_globals_without_importing_their_module(tmp_path, monkeypatch):
    marker = tmp_path / "imported"
    (tmp_path / "evil_mapping_mod.py").write_text(
        f"open({str(marker)!r}, 'w').close()\ndef boom():\n    return {{1: 'x'}}\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    path = tmp_path / "mapping_evil.npy"
    _npy_with_payload(path, b"cevil_mapping_mod\nboom\n)R.")  # GLOBAL, empty tuple, REDUCE
    with pytest.raises(DataError):
        read_mapping(path)
    assert "evil_mapping_mod" not in sys.modules and not marker.exists()


def test_a_nested_evil_object_inside_a_dict_is_refused(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "m.npy"
    _npy_with_payload(path, pickle.dumps({0: "Unknown", 1: _Evil(marker)}, protocol=3))
    with pytest.raises(DataError):
        read_mapping(path)
    assert not marker.exists()


@pytest.mark.parametrize(
    "content",
    [
        np.array(["V1v", "V1d"], dtype=object),  # an object array, but no dict
        np.array({"V1v": 1}, dtype=object),  # keys and values swapped
        np.array({True: "V1v"}, dtype=object),  # bool keys are not codes
        np.arange(3),  # a plain numeric array
    ],
)
def test_refuses_anything_but_a_dict_of_int_to_str(tmp_path, content):
    path = tmp_path / "m.npy"
    np.save(path, content)
    with pytest.raises(DataError, match=r"m\.npy"):
        read_mapping(path)


def test_missing_truncated_and_garbage_files(tmp_path):
    with pytest.raises(DataError, match="missing"):
        read_mapping(tmp_path / "absent.npy")
    path = tmp_path / "m.npy"
    np.save(path, MAPPING)
    path.write_bytes(path.read_bytes()[:-10])
    with pytest.raises(DataError, match=r"m\.npy"):
        read_mapping(path)
    path.write_bytes(b"\x00garbage")
    with pytest.raises(DataError, match=r"m\.npy"):
        read_mapping(path)


def test_reads_files_written_by_numpy_1(tmp_path):
    """The challenge's files were pickled under numpy 1.x, whose module is `numpy.core`."""
    payload = pickle.dumps(np.array(MAPPING, dtype=object), protocol=3)  # text GLOBAL opcodes
    assert b"cnumpy._core.multiarray\n_reconstruct\n" in payload
    path = tmp_path / "m.npy"
    _npy_with_payload(path, payload.replace(b"numpy._core.multiarray", b"numpy.core.multiarray"))
    assert read_mapping(path) == MAPPING
