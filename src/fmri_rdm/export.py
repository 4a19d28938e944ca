"""`python -m fmri_rdm.export RUN [--format rsatoolbox]`: a run's RDMs for rsatoolbox
(`fmri_rdm.entry.export`)."""

import sys

from fmri_rdm.entry.export_cli import main

if __name__ == "__main__":
    sys.exit(main())
