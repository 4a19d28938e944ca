"""The built wheel, installed into a fresh venv outside the checkout, runs from another folder:
`fmri-rdm train` (a run and a `-m` sweep), `fmri-rdm compare`, exit status 2 for a user error,
and the Python API, with the packaged configs and run directories under that folder.

The venv's dependencies: installing torch & co. afresh costs minutes and gigabytes, and the
point here is the package, not PyPI. So the venv is created empty (no `--system-site-packages`:
the test's interpreter is itself a venv, whose packages that option would not see), the
running environment's site-packages are appended to its path by a `.pth` file, and the wheel
is installed with `--no-deps --ignore-installed` (nothing in the base environment is touched).
Its site-packages come first on the path, so `fmri_rdm` is imported from the wheel, which the
test asserts; the checkout's editable install is not on that path (.pth files are only read in
site directories)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TINY = [
    "experiment=demo",
    "logger=none",
    "data.generate.n_images=48",
    "data.generate.n_test_images=6",
    "data.generate.image_size=64",
    "evaluation.k_folds=3",
    "trainer.enable_progress_bar=false",
]
_SKIP = (".venv", ".git", "outputs", "multirun", ".cache", "build", "dist", "*.egg-info",
         "__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache", "_build")  # fmt: skip


def _run(cmd: list[str | Path], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    done = subprocess.run(
        [str(c) for c in cmd], cwd=cwd, env=env, capture_output=True, text=True, timeout=900
    )
    return done


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A venv (its bin/ folder) holding the wheel built from a copy of the working tree."""
    base = tmp_path_factory.mktemp("wheel")
    tree = base / "tree"
    shutil.copytree(ROOT, tree, ignore=shutil.ignore_patterns(*_SKIP), symlinks=False)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    wheels = base / "wheels"
    cmd = [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation"]
    built = _run([*cmd, "-w", wheels, tree], base, env)
    assert built.returncode == 0, built.stderr[-3000:]
    (wheel,) = wheels.glob("fmri_rdm-*.whl")
    venv = base / "venv"
    made = _run([sys.executable, "-m", "venv", venv], base, env)
    assert made.returncode == 0, made.stderr
    python = venv / "bin" / "python"
    site = _run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                base, env).stdout.strip()  # fmt: skip
    (Path(site) / "_base_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    pip = [python, "-m", "pip", "install", "-q", "--no-deps", "--ignore-installed", "--no-index"]
    done = _run([*pip, wheel], base, env)
    assert done.returncode == 0, done.stderr[-3000:]
    return venv / "bin"


@pytest.mark.slow
def test_wheel_runs_commands_and_api_outside_the_checkout(installed, tmp_path, cache_dir):
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "FMRI_RDM_ROOT")}
    env["FMRI_RDM_CACHE"] = str(cache_dir)
    work = tmp_path / "elsewhere"
    work.mkdir()
    where = _run([installed / "python", "-c", "import fmri_rdm; print(fmri_rdm.__file__)"],
                 work, env)  # fmt: skip
    assert Path(where.stdout.strip()).is_relative_to(installed.parent), where.stdout
    assert (Path(where.stdout.strip()).parent / "conf" / "config.yaml").is_file()

    fmri_rdm = installed / "fmri-rdm"
    trained = _run([fmri_rdm, "train", *TINY, "model=rsa", "trainer.max_epochs=1"], work, env)
    assert trained.returncode == 0, trained.stderr[-3000:]
    (metrics,) = (work / "outputs" / "demo").glob("*/*/metrics.json")
    assert (metrics.parent / "train.log").is_file()  # Hydra's job is named train, as train.py's

    sweep = [fmri_rdm, "train", "-m", *TINY, "model=rsa", "evaluation.k_folds=2,3",
             "hydra.sweep.dir=multirun/rsa_folds"]  # fmt: skip
    swept = _run(sweep, work, env)
    assert swept.returncode == 0, swept.stderr[-3000:]
    assert len(list((work / "multirun" / "rsa_folds").glob("*/metrics.json"))) == 2
    compared = _run([fmri_rdm, "compare", "multirun/rsa_folds", "--bootstrap", "0"], work, env)
    assert compared.returncode == 0, compared.stderr[-3000:]
    assert (work / "multirun" / "rsa_folds" / "comparison.csv").is_file()

    typo = _run([fmri_rdm, "train", "model=siamse"], work, env)
    assert typo.returncode == 2 and "did you mean 'siamese'?" in typo.stderr

    api = (
        "import fmri_rdm as fr\n"
        f"cfg = fr.config(*{TINY!r}, 'model=rsa', 'trainer.max_epochs=1')\n"
        "result = fr.run(cfg)\n"
        "assert result.run_dir.parent.parent.resolve() == "
        "(__import__('pathlib').Path.cwd() / 'outputs' / 'demo').resolve(), result.run_dir\n"
        "assert len(result.folds_frame()) == 3 and result.plots\n"
        "print(result.test_score('pearson'))\n"
    )
    used = _run([installed / "python", "-c", api], work, env)
    assert used.returncode == 0, used.stderr[-3000:]
    assert -1 <= float(used.stdout.strip().splitlines()[-1]) <= 1
