"""The ROI catalogue and `resolve_roi`."""

import pytest

from fmri_rdm.data.rois import (
    ALL,
    ANY,
    MERGED_AREAS,
    ROI_CLASSES,
    UnknownRoiError,
    all_roi_names,
    resolve_roi,
)
from fmri_rdm.errors import ConfigError, DataError


def test_catalogue_matches_the_challenge():
    assert list(ROI_CLASSES) == [
        "prf-visualrois", "floc-bodies", "floc-faces", "floc-places", "floc-words", "streams",
    ]  # fmt: skip
    assert ROI_CLASSES["prf-visualrois"] == ("V1v", "V1d", "V2v", "V2d", "V3v", "V3d", "hV4")
    assert ROI_CLASSES["floc-faces"] == ("OFA", "FFA-1", "FFA-2", "mTL-faces", "aTL-faces")
    assert MERGED_AREAS == {"V1": ("V1v", "V1d"), "V2": ("V2v", "V2d"), "V3": ("V3v", "V3d")}
    assert sum(len(v) for v in ROI_CLASSES.values()) == 7 + 4 + 5 + 3 + 5 + 7


def test_all_roi_names_lists_every_accepted_value_once():
    names = all_roi_names()
    assert len(names) == len(set(names)) == 1 + 6 + 3 + 31
    assert {"all", "V1", "floc-faces", "FFA-1", "early", "hV4"} <= set(names)
    for name in names:  # every listed name resolves
        assert resolve_roi(name)


def test_resolve_roi_kinds():
    assert resolve_roi("FFA-1") == [("floc-faces", "FFA-1")]
    assert resolve_roi("early") == [("streams", "early")]
    assert resolve_roi("V2") == [("prf-visualrois", "V2v"), ("prf-visualrois", "V2d")]
    assert resolve_roi("floc-places") == [("floc-places", ANY)]
    assert resolve_roi(ALL) == [(ANY, ANY)]


def test_unknown_roi_lists_valid_names_in_one_line():
    with pytest.raises(ConfigError) as info:
        resolve_roi("FFA1")
    msg = str(info.value)
    assert "\n" not in msg and "'FFA1'" in msg and "FFA-1" in msg and "floc-words" in msg
    assert isinstance(info.value, DataError) and isinstance(info.value, UnknownRoiError)
