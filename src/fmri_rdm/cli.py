"""`fmri-rdm`: the command installed with the package; one subcommand per tool.

    fmri-rdm train [-m] [overrides...]     python train.py ... (Hydra; `-m` sweeps)
    fmri-rdm predict run=<dir> images=<folder>   python predict.py ...
    fmri-rdm compare RUNS... [--across subject]  python -m fmri_rdm.compare ...
    fmri-rdm export RUN [--out DIR]              python -m fmri_rdm.export ...
    fmri-rdm data ROOT [--check]                 the dataset listing and its checks

Each subcommand is the same code as the script it names, with the same exit statuses (2 after
one line `error: ...` for a user error). The configs are the packaged ones (`paths.conf_dir`);
run directories go to ./outputs and ./multirun of the current folder.
"""

from __future__ import annotations

import difflib
import sys
from collections.abc import Callable, Sequence

from fmri_rdm import __version__

USAGE = __doc__.split("\n\n")[1] if __doc__ else ""


def _threads_first() -> None:
    # OpenMP reads its wait policy once, when torch loads: set before anything imports it
    from fmri_rdm.runtime.threads import set_passive_wait_policy

    set_passive_wait_policy()


def train(argv: Sequence[str]) -> int:
    """Hydra's command line (overrides, `-m`, `--help`, `--cfg job`), as `python train.py`."""
    _threads_first()
    from fmri_rdm.config import register_schemas
    from fmri_rdm.entry.shorthands import expand_network_shorthands
    from fmri_rdm.entry.train import hydra_app
    from fmri_rdm.entry.wrapper import hydra_main
    from fmri_rdm.paths import conf_dir

    register_schemas()
    # `model.dropout=0.5` is short for `model.net.dropout=0.5`
    sys.argv = ["fmri-rdm train", *expand_network_shorthands(argv, conf_dir() / "model")]
    hydra_main(hydra_app())
    return 0


def predict(argv: Sequence[str]) -> int:
    _threads_first()
    from fmri_rdm.entry.predict import main

    return main(argv)


def compare(argv: Sequence[str]) -> int:
    from fmri_rdm.analysis.compare import main

    return main(argv)


def export(argv: Sequence[str]) -> int:
    from fmri_rdm.entry.export_cli import main

    return main(argv)


def data(argv: Sequence[str]) -> int:
    """The dataset listing (`python -m fmri_rdm.data ROOT`)."""
    from fmri_rdm.data.listing import main

    return main(list(argv))


COMMANDS: dict[str, Callable[[Sequence[str]], int]] = {
    "train": train,
    "predict": predict,
    "compare": compare,
    "export": export,
    "data": data,
}


def main(argv: Sequence[str] | None = None) -> int:
    """`fmri-rdm COMMAND ...`: the subcommand's exit status; 2 for an unknown command."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help"):
        print(f"usage: fmri-rdm COMMAND [ARGS...]\n\n{USAGE}")
        return 0 if args else 2
    if args[0] == "--version":
        print(f"fmri-rdm {__version__}")
        return 0
    command = COMMANDS.get(args[0])
    if command is None:
        close = difflib.get_close_matches(args[0], list(COMMANDS), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        print(
            f"error: unknown command {args[0]!r}{hint}; one of {', '.join(COMMANDS)}",
            file=sys.stderr,
        )
        return 2
    return command(args[1:])


if __name__ == "__main__":
    sys.exit(main())
