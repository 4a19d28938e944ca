"""`python -m fmri_rdm.export` / `fmri-rdm export`: the command line over `entry.export` (one run)
and `entry.export_study` (a sweep, `--across subject`)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from fmri_rdm.entry.export import FORMATS, export_rsatoolbox
from fmri_rdm.entry.export_study import export_study
from fmri_rdm.errors import FmriRdmError, one_line


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m fmri_rdm.export",
        description="Write a run's measured RDM and each fold's predicted test RDM as "
        "rsatoolbox RDMs (hdf5; read with rsatoolbox.rdm.load_rdm).",
    )
    parser.add_argument(
        "run", type=Path, help="a run directory (holding metrics.json); a sweep with --across"
    )
    parser.add_argument(
        "--across",
        choices=["subject"],
        help="one file per study: every subject's measured RDMs of each ROI of the runs under "
        "RUN (a sweep folder), over the stimuli they share",
    )
    parser.add_argument("--format", choices=FORMATS, default="rsatoolbox", help="file format")
    parser.add_argument("--out", type=Path, help="output folder (default: RUN/export)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.across == "subject":
            written = export_study(args.run, args.out)
        else:
            written = export_rsatoolbox(args.run, args.out)
    except FmriRdmError as err:
        print(f"error: {one_line(err)}", file=sys.stderr)
        return 2
    for path in written:
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
