"""`python -m fmri_rdm.data ROOT`: list a dataset folder (`fmri_rdm.data.listing`)."""

import sys

from fmri_rdm.data.listing import main

sys.exit(main())
