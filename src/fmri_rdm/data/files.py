"""Safe readers of the Algonauts files: `.npy` arrays (with clear errors for truncated or
mismatched files), ROI masks, and the pickled ROI mappings (restricted unpickling: only numpy's
object-array reconstruction is admitted, so a crafted file never runs code)."""

from __future__ import annotations

import os
import pickle
from pathlib import Path
from typing import Any

import numpy as np

from fmri_rdm.errors import DataError, one_line

PathLike = str | os.PathLike[str]

# ---------------------------------------------------------------- restricted unpickling
# np.save(dict) stores a 0-d object array; unpickling it needs only these numpy globals.
_RECONSTRUCT = np.ndarray((0,)).__reduce__()[0]
_SCALAR = np.int64(0).__reduce__()[0]
_ALLOWED_GLOBALS: dict[tuple[str, str], Any] = {
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
    **{
        (mod, "_reconstruct"): _RECONSTRUCT
        for mod in ("numpy.core.multiarray", "numpy._core.multiarray")
    },
    **{(mod, "scalar"): _SCALAR for mod in ("numpy.core.multiarray", "numpy._core.multiarray")},
}


class _RestrictedUnpickler(pickle.Unpickler):
    """Admits only numpy's object-array reconstruction globals; never imports anything."""

    def find_class(self, module: str, name: str) -> Any:
        try:
            return _ALLOWED_GLOBALS[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(f"forbidden global {module}.{name}") from None


def read_mapping(path: PathLike) -> dict[int, str]:
    """Read a `mapping_<class>.npy` (pickled dict code -> ROI name) without arbitrary code."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"missing ROI mapping file {path}: the roi_masks folder is incomplete")
    readers = {
        (1, 0): np.lib.format.read_array_header_1_0,
        (2, 0): np.lib.format.read_array_header_2_0,
    }
    try:
        with path.open("rb") as fp:
            version = np.lib.format.read_magic(fp)
            if version not in readers:
                raise ValueError(f"unsupported .npy version {version}")
            _shape, _fortran, dtype = readers[version](fp)
            if not dtype.hasobject:
                raise ValueError(f"holds a {dtype} array, not a pickled dict")
            obj = _RestrictedUnpickler(fp).load()
    except Exception as exc:  # any malformed pickle raises something; all mean "bad file"
        raise DataError(
            f"cannot read ROI mapping {path} ({one_line(exc, 200)}): expected a dict code -> "
            "ROI name; replace the file"
        ) from exc
    if isinstance(obj, np.ndarray) and obj.shape == () and obj.dtype == object:
        obj = obj.item()
    ok = isinstance(obj, dict) and all(
        isinstance(k, int | np.integer) and not isinstance(k, bool) and isinstance(v, str)
        for k, v in obj.items()
    )
    if not ok:
        raise DataError(f"ROI mapping {path} is not a dict int -> str: replace the file")
    return {int(k): str(v) for k, v in obj.items()}


# ---------------------------------------------------------------- arrays and masks
def open_npy(path: PathLike, *, ndim: int, mmap: bool = False) -> np.ndarray:
    """np.load with one-line DataErrors for a missing, truncated or corrupt file."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"missing file {path}: the dataset folder is incomplete")
    try:
        arr = np.load(path, mmap_mode="r" if mmap else None, allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise DataError(
            f"cannot read {path} ({one_line(exc, 200)}): the file is truncated or corrupt; "
            "re-download or regenerate it"
        ) from exc
    if arr.ndim != ndim:
        raise DataError(f"{path} has shape {arr.shape}, expected {ndim} dimensions: replace it")
    return arr


def read_mask(path: PathLike, n_vertices: int | None = None) -> np.ndarray:
    """ROI codes per vertex, int64 (V_hemi,); checks the length against `n_vertices`."""
    mask = open_npy(path, ndim=1)
    if n_vertices is not None and mask.shape[0] != n_vertices:
        raise DataError(
            f"mask {path} has {mask.shape[0]} vertices but the fMRI file has {n_vertices}: "
            "masks and responses come from different subjects or versions"
        )
    if not np.issubdtype(mask.dtype, np.number) or not np.all(np.isfinite(mask)):
        raise DataError(f"mask {path} holds non-numeric or non-finite codes: replace it")
    return mask.astype(np.int64)


def load_npy(path: Path) -> np.ndarray:
    """A user's .npy array (no pickles), or a DataError naming the file and the fix."""
    try:
        return np.load(path, allow_pickle=False)
    except (OSError, ValueError) as err:
        raise DataError(f"{path}: not a readable .npy array ({err}); save it with np.save") from err
