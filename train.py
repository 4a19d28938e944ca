"""Train and evaluate one model: `python train.py model=siamese roi=V1v` (Hydra entry point).

Compose the config, run the experiment, return the optimised metric for sweepers.
"""

import hydra
from omegaconf import DictConfig

from fmri_rdm.config import register_schemas

register_schemas()


@hydra.main(version_base="1.3", config_path="conf", config_name="config")
def main(cfg: DictConfig) -> float | None:
    from fmri_rdm.cli import run_training

    return run_training(cfg)


if __name__ == "__main__":
    main()
