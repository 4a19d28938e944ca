"""Train and evaluate one model: `python train.py model=siamese roi=V1v` (Hydra entry point).

Compose the config, run the experiment, return the optimised metric for sweepers. A user error
(a typo in an override, missing or broken data, an impossible setting) ends the run with one
line on stderr and exit status 2; HYDRA_FULL_ERROR=1 shows the traceback.
"""

from fmri_rdm.runtime.threads import set_passive_wait_policy

set_passive_wait_policy()  # before anything imports torch: OpenMP reads it once, at load

import sys  # noqa: E402
from pathlib import Path  # noqa: E402

import hydra  # noqa: E402
from omegaconf import DictConfig  # noqa: E402

from fmri_rdm.config import register_schemas  # noqa: E402
from fmri_rdm.entry.shorthands import expand_network_shorthands  # noqa: E402
from fmri_rdm.entry.train import hydra_main  # noqa: E402
from fmri_rdm.runtime.console import expand_verbose_flag  # noqa: E402

register_schemas()


@hydra.main(version_base="1.3", config_path="conf", config_name="config")
def main(cfg: DictConfig) -> float | None:
    from fmri_rdm.entry.train import run_training

    return run_training(cfg)


if __name__ == "__main__":
    # `model.dropout=0.5` is short for `model.net.dropout=0.5`
    sys.argv[1:] = expand_network_shorthands(sys.argv[1:], Path(__file__).parent / "conf" / "model")
    sys.argv[1:] = expand_verbose_flag(sys.argv[1:])  # `-v` is `verbose=true`
    hydra_main(main)
