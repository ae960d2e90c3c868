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

from gan_tf.core.config import MAX_SEEDS, Config
from gan_tf.core import reading
from gan_tf.core.errors import UserError
from gan_tf.runs.files import atomic_write_text
from gan_tf.runs.folder import RunFolder, refuse_link

SWEEP = "sweep.json"


def seeds_text(seeds) -> str:
    """Seeds as a message quotes them: "3..7" for a run of consecutive seeds, else the
    first few and how many (an error line never grows with a hand-edited sweep.json)."""
    seeds = list(seeds)
    if len(seeds) > 1 and seeds == list(range(seeds[0], seeds[0] + len(seeds))):
        return f"{seeds[0]}..{seeds[-1]}"
    if len(seeds) <= 6:
        return ", ".join(map(str, seeds))
    return f"{', '.join(map(str, seeds[:5]))}, ... ({len(seeds):,} seeds)"


def seed_folder(sweep_dir, seed: int) -> RunFolder:
    return RunFolder(Path(sweep_dir) / f"seed-{seed}")


def check_links(sweep_dir, seeds) -> None:
    """sweep.json and the seeds' folders are no symbolic links (see
    RunFolder.check_layout): a sweep writes only inside its folder."""
    refuse_link(Path(sweep_dir) / SWEEP)
    for s in seeds:
        refuse_link(seed_folder(sweep_dir, s).path)


def is_sweep(path) -> bool:
    return (Path(path) / SWEEP).is_file()


def read_sweep(sweep_dir) -> dict:
    """sweep.json: {'config': Config, 'seeds': [...], 'mode': ...}; one-line errors."""
    path = Path(sweep_dir) / SWEEP
    try:
        if not (path.exists() or path.is_symlink()):
            raise FileNotFoundError(path)
        info = reading.read_json(path, "restore it, or start the sweep again with "
                                       "--overwrite", limit=reading.MIB)
        info["config"] = Config.from_dict(info["config"])
        seeds = info["seeds"]
        if not (isinstance(seeds, list) and seeds and all(type(s) is int for s in seeds)):
            raise ValueError("'seeds' must be a list of integers")
        if len(set(seeds)) != len(seeds) or len(seeds) > MAX_SEEDS:
            raise ValueError(f"'seeds' must be 1 to {MAX_SEEDS} distinct seeds, got "
                             f"{seeds_text(seeds)}")
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


def seed_runs(path, fix: str) -> dict[int, RunFolder]:
    """{seed: run folder} of a sweep, or of a single run; `fix` says how to make a
    missing one (the study's own make target)."""
    if is_sweep(path):
        runs = {s: seed_folder(path, s) for s in read_sweep(path)["seeds"]}
    else:
        runs = {None: RunFolder(path)}
    for run in runs.values():
        if not run.has_config():
            raise UserError(f"{run} is not a trained run (no config.json there): {fix}")
    return {run.read_config().seed if s is None else s: run for s, run in runs.items()}
