"""Predict the RDM of new images with a trained run (see fmri_rdm.predict):

python predict.py run=<run dir> images=<folder>
python predict.py run=<run dir> pairs=a.png,b.png
"""

import sys

from fmri_rdm.predict import main

if __name__ == "__main__":
    sys.exit(main())
