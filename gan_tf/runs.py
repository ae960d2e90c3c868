"""Run folders: what lives in one, atomic writes, checkpoints and the stats log.

A run folder holds exactly these (nothing is written anywhere else):
    config.json        the resolved Config, written before training starts
    frames/NNN.png     sample grids, frame k taken at iteration k * snapshot_every
    stats.jsonl        one JSON record per logging window, flushed on every write
    checkpoint.npz     G, D, both Adam states and the iteration (the only RNG state)
    training.gif       all frames, assembled at the end
    losses.png         D and G loss curves
    generator.keras    the final generator, Keras format
    tensorboard/       event files (losses, frames)
Every file except the append-only logs is written to a temporary name and renamed,
so a kill at any moment leaves either the old file or the new one, never half.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np

from gan_tf.errors import UserError

CONFIG = "config.json"
STATS = "stats.jsonl"
CHECKPOINT = "checkpoint.npz"
FRAMES = "frames"
GENERATOR = "generator.keras"
ARTIFACTS = (CONFIG, STATS, CHECKPOINT, FRAMES, "training.gif", "losses.png",
             GENERATOR, "tensorboard")


# --- atomic files

def atomic_write_bytes(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode())


def atomic_save(path: Path, save_fn) -> None:
    """Atomic write for libraries that insist on writing a file themselves:
    `save_fn(tmp_path)` writes a temporary file with the same suffix, then it is renamed."""
    tmp = path.with_name(f".tmp{os.getpid()}.{path.name}")
    save_fn(tmp)
    os.replace(tmp, path)


# --- the run folder's life cycle

def describe_run(run_dir: Path) -> str | None:
    """A one-phrase summary if run_dir holds (part of) a run, else None."""
    present = [a for a in ARTIFACTS if (run_dir / a).exists()]
    if not present:
        return None
    ckpt = run_dir / CHECKPOINT
    where = ""
    if ckpt.exists():
        try:
            where = f", checkpoint at iteration {int(np.load(ckpt)['iteration'])}"
        except Exception:
            where = ", unreadable checkpoint"
    return f"{', '.join(present)}{where}"


def check_new_run(run_dir: Path, overwrite: bool) -> None:
    """Refuse to start a new run over an existing one unless told to overwrite."""
    if run_dir.exists() and not run_dir.is_dir():
        raise UserError(f"run folder {run_dir} exists and is not a folder")
    existing = describe_run(run_dir) if run_dir.is_dir() else None
    if existing and not overwrite:
        raise UserError(f"{run_dir} already holds a run ({existing}); add --resume to "
                        f"continue it, --overwrite to replace it, or choose another "
                        f"--run-dir (with make: ARGS=--resume or ARGS=--overwrite)")


def clear_run(run_dir: Path) -> None:
    """Remove a previous run's own files, and nothing else (other runs may be inside)."""
    for name in ARTIFACTS:
        p = run_dir / name
        if p.is_dir():
            shutil.rmtree(p)
        elif p.exists():
            p.unlink()


def read_config_text(run_dir: Path) -> str:
    path = run_dir / CONFIG
    if not path.is_file():
        raise UserError(f"nothing to resume: {path} does not exist (start a new run "
                        f"without --resume)")
    return path.read_text()


def frame_path(run_dir: Path, index: int) -> Path:
    return run_dir / FRAMES / f"{index:03d}.png"


def frame_paths(run_dir: Path) -> list[Path]:
    # Sort by number, not by name: past frame 999 the names grow a digit.
    return sorted((run_dir / FRAMES).glob("[0-9]*.png"), key=lambda p: int(p.stem))


def remove_frames_after(run_dir: Path, index: int) -> None:
    for p in frame_paths(run_dir):
        if int(p.stem) > index:
            p.unlink()


# --- checkpoints: one .npz of named arrays

def save_checkpoint(path: Path, arrays: dict) -> None:
    def write(tmp):
        with open(tmp, "wb") as f:
            np.savez(f, **arrays)
            f.flush()
            os.fsync(f.fileno())
    atomic_save(path, write)


def load_checkpoint(path: Path) -> dict:
    if not path.is_file():
        raise UserError(f"cannot resume: no checkpoint at {path}")
    try:
        with np.load(path) as z:
            return {k: z[k] for k in z.files}
    except Exception as e:
        raise UserError(f"cannot resume: checkpoint {path} is unreadable ({e})") from None


# --- the stats log

class StatsLog:
    """Append-only JSON lines, flushed to the OS on every record: a killed process
    loses nothing written. (No fsync per line: it would cost more than the
    training between two records; checkpoints are synced.)"""

    def __init__(self, path: Path):
        self.path = path
        self._f = open(path, "a")

    def write(self, record: dict) -> None:
        self._f.write(json.dumps(record) + "\n")
        self._f.flush()

    def close(self) -> None:
        self._f.close()


def read_stats(path: Path) -> list[dict]:
    """All complete records; a line cut short by a kill is skipped."""
    if not path.exists():
        return []
    records = []
    for line in path.read_text().splitlines():
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return records


def truncate_stats(path: Path, last_iter: int) -> None:
    """Keep the records up to `last_iter` (a resume replays the rest)."""
    keep = [r for r in read_stats(path) if r["iter"] <= last_iter]
    atomic_write_text(path, "".join(json.dumps(r) + "\n" for r in keep))
