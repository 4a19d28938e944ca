"""fmri-rdm: predict fMRI representational dissimilarities between images."""

__version__ = "0.1.0"
