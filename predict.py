"""Predict the RDM of new images with a trained run:
`python predict.py run=<run dir> images=<folder>`, or one pair: `python predict.py run=<run dir> pairs=a.png,b.png` (see fmri_rdm.predict)."""

import sys

from fmri_rdm.predict import main

if __name__ == "__main__":
    sys.exit(main())
