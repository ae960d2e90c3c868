"""The sweep folder: where a seed sweep keeps its seeds' run folders, and its record.

    NAME-seeds/                the sweep folder
        sweep.json             the base config, the seeds, how they were trained,
                               its status and the seeds that diverged
        seed-0/ ... seed-4/    one run folder per seed, exactly a single run's

Training a sweep is training/sweep.py's; evaluation and the results tables find a
sweep's seeds here, without importing the trainer.
"""

from __future__ import annotations

import json
from pathlib import Path

from gan_tf.core.config import Config
from gan_tf.core.errors import UserError
from gan_tf.runs.files import atomic_write_text
from gan_tf.runs.folder import RunFolder

SWEEP = "sweep.json"


def seed_folder(sweep_dir, seed: int) -> RunFolder:
    return RunFolder(Path(sweep_dir) / f"seed-{seed}")


def is_sweep(path) -> bool:
    return (Path(path) / SWEEP).is_file()


def read_sweep(sweep_dir) -> dict:
    """sweep.json: {'config': Config, 'seeds': [...], 'mode': ...}; one-line errors."""
    path = Path(sweep_dir) / SWEEP
    try:
        info = json.loads(path.read_bytes().decode("utf-8"))
        info["config"] = Config.from_dict(info["config"])
        seeds = info["seeds"]
        if not (isinstance(seeds, list) and seeds and all(type(s) is int for s in seeds)):
            raise ValueError("'seeds' must be a list of integers")
        diverged = info.setdefault("diverged", {})
        if not (isinstance(diverged, dict) and all(
                k in map(str, seeds) and type(v) is int for k, v in diverged.items())):
            raise ValueError("'diverged' must map some of the seeds to iterations")
        return info
    except FileNotFoundError:
        raise UserError(f"{Path(sweep_dir)} holds no seed sweep ({SWEEP} is missing); "
                        f"start one with --seeds N") from None
    except (ValueError, TypeError, KeyError, AttributeError) as e:
        raise UserError(f"{path} is damaged ({type(e).__name__}: {str(e)[:80]}); restore "
                        f"it, or start the sweep again with --overwrite") from None
    except UserError as e:
        raise UserError(f"{path}: {e}") from None


def sweep_folders(sweep_dir) -> list[RunFolder]:
    """The run folders of a sweep's seeds, in seed order."""
    return [seed_folder(sweep_dir, s) for s in read_sweep(sweep_dir)["seeds"]]


def write_sweep(sweep_dir, info: dict) -> None:
    """sweep.json, atomically."""
    atomic_write_text(Path(sweep_dir) / SWEEP, json.dumps(info, indent=2) + "\n")
