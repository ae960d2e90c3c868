"""The experiments: `experiments/NAME.py` files, each a `get_config()` that starts from
the defaults and changes only what differs."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from gan_tf.core.config import Config, override
from gan_tf.core.errors import UserError

# experiments/ of the checkout; in an installed package (pyproject.toml) the same files
# are gan_tf/experiments/.
EXPERIMENTS_DIR = Path(__file__).resolve().parents[2] / "experiments"
if not EXPERIMENTS_DIR.is_dir():
    EXPERIMENTS_DIR = Path(__file__).resolve().parents[1] / "experiments"


def experiment_names() -> list[str]:
    return sorted(p.stem.replace("_", "-") for p in EXPERIMENTS_DIR.glob("*.py")
                  if not p.name.startswith("_"))


def load_experiment(name: str) -> Config:
    """Config of `experiments/NAME.py` (dashes or underscores), via its get_config().
    Only the names experiment_names() lists: a path is never executed."""
    path = EXPERIMENTS_DIR / (name.replace("-", "_") + ".py")
    if name.replace("_", "-") not in experiment_names():
        raise UserError(f"unknown experiment {name!r}; available: "
                        f"{', '.join(experiment_names())}")
    spec = importlib.util.spec_from_file_location(f"gan_tf_experiment_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    cfg = module.get_config()
    if not isinstance(cfg, Config):
        raise UserError(f"{path}: get_config() must return a gan_tf.core.config.Config")
    return cfg


def from_experiment(experiment: str | None, changes: dict) -> Config:
    """The config of a new run: experiments/NAME.py (or the defaults) with the flags'
    changes."""
    # None is "no --experiment"; an empty name is a mistake, never the defaults.
    return override(Config() if experiment is None else load_experiment(experiment), changes)
