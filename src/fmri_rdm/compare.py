"""`python -m fmri_rdm.compare RUNS...`: the comparison of runs (`fmri_rdm.analysis.compare`)."""

import sys

from fmri_rdm.analysis.compare import main

if __name__ == "__main__":
    sys.exit(main())
