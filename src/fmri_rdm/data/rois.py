"""The ROI catalogue of the Algonauts 2023 challenge space.

An `roi` value names one ROI (`V1v`, `FFA-1`, ...), a merged early visual area (`V1` = `V1v` +
`V1d`), a whole ROI class (`floc-faces`: every vertex with a nonzero code in that class) or `all`
(every vertex). `resolve_roi` turns any of these into the (class, ROI) pairs to select.
"""

from __future__ import annotations

import difflib

from fmri_rdm.errors import ConfigError, DataError

# Class -> ROI names, in the order of their codes in the challenge's mapping files.
ROI_CLASSES: dict[str, tuple[str, ...]] = {
    "prf-visualrois": ("V1v", "V1d", "V2v", "V2d", "V3v", "V3d", "hV4"),
    "floc-bodies": ("EBA", "FBA-1", "FBA-2", "mTL-bodies"),
    "floc-faces": ("OFA", "FFA-1", "FFA-2", "mTL-faces", "aTL-faces"),
    "floc-places": ("OPA", "PPA", "RSC"),
    "floc-words": ("OWFA", "VWFA-1", "VWFA-2", "mfs-words", "mTL-words"),
    "streams": (
        "early",
        "midventral",
        "midlateral",
        "midparietal",
        "ventral",
        "lateral",
        "parietal",
    ),
}

# Merged early visual areas: the ventral and dorsal halves of each map.
MERGED_AREAS: dict[str, tuple[str, ...]] = {
    "V1": ("V1v", "V1d"),
    "V2": ("V2v", "V2d"),
    "V3": ("V3v", "V3d"),
}

ALL = "all"
# Marker in a (class, roi) pair meaning "every nonzero code" (roi) or "every vertex" (both).
ANY = "*"

HEMISPHERES: tuple[str, str] = ("lh", "rh")

# ROI name -> its class (names are unique across classes).
ROI_TO_CLASS: dict[str, str] = {roi: cls for cls, rois in ROI_CLASSES.items() for roi in rois}


class UnknownRoiError(ConfigError, DataError):
    """An `roi` value the catalogue lacks: a config mistake, reported where data is loaded too,
    so it is both a ConfigError and a DataError."""


def all_roi_names() -> list[str]:
    """Every accepted `roi` value: `all`, the classes, the merged areas, then each ROI."""
    return [ALL, *ROI_CLASSES, *MERGED_AREAS, *ROI_TO_CLASS]


def resolve_roi(name: str) -> list[tuple[str, str]]:
    """Turn an `roi` value into the (class, ROI name) pairs it selects.

    A single ROI gives one pair, a merged area one pair per part, a class `[(class, ANY)]`
    and `all` `[(ANY, ANY)]`. Unknown names raise ConfigError listing the valid ones.
    """
    if name == ALL:
        return [(ANY, ANY)]
    if name in ROI_CLASSES:
        return [(name, ANY)]
    if name in MERGED_AREAS:
        return [(ROI_TO_CLASS[part], part) for part in MERGED_AREAS[name]]
    if name in ROI_TO_CLASS:
        return [(ROI_TO_CLASS[name], name)]
    valid = all_roi_names()
    close = difflib.get_close_matches(str(name), valid, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    raise UnknownRoiError(f"unknown ROI {name!r}{hint}: choose one of {', '.join(valid)}")
