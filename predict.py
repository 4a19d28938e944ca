"""Predict the RDM of new images with a trained run (see fmri_rdm.entry.predict):

python predict.py run=<run dir> images=<folder>
python predict.py run=<run dir> pairs=a.png,b.png
"""

import sys

from fmri_rdm.runtime.threads import set_passive_wait_policy

set_passive_wait_policy()  # before fmri_rdm.entry.predict imports torch: OpenMP reads it at load

from fmri_rdm.entry.predict import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
