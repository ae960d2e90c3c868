"""Seed sweeps: one experiment trained with seeds s0 ... s0+N-1, `train_sweep()`.

`python -m gan_tf.train --experiment NAME --seeds N` (the CLI is train.py's) writes

    outputs/NAME-seeds/            the sweep folder
        sweep.json                 the base config, the seeds, how they were trained
        seed-0/ ... seed-4/        one run folder per seed, exactly a single run's

so `gan_tf.evaluate`, `gan_tf.latent` and `gan_tf.train --resume` work on any seed,
and `gan_tf.evaluate` / `gan_tf.results` on the whole sweep (mean ± std over seeds).

The MLP GANs train as one stack (stack.SeedStack: every seed in one compiled
program); the others (DCGAN, VAE, a tf.distribute strategy) one seed after another
in this process, or all of them with --sequential. A stack holds the lock of the
sweep folder and of every seed's folder, checkpoints every seed at each frame, and
stops, resumes and refuses exactly as a single run does.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import time
from pathlib import Path

from gan_tf import train_lib
from gan_tf.config import Config
from gan_tf.control import StopRequests
from gan_tf.errors import TrainingDiverged, UserError
from gan_tf.files import atomic_write_text, os_error_line
from gan_tf.progress import Progress
from gan_tf.run_writer import RunWriter
from gan_tf.runs import RunFolder

SWEEP = "sweep.json"
MAX_SEEDS = 64


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


def seeds_of(cfg: Config, n: int) -> list[int]:
    """cfg.seed, cfg.seed + 1, ...: N seeds, checked."""
    from gan_tf.config import MAX_SEED
    if not 1 <= n <= MAX_SEEDS:
        raise UserError(f"--seeds must be 1 to {MAX_SEEDS}, got {n}")
    if cfg.seed + n - 1 > MAX_SEED:
        raise UserError(f"seeds {cfg.seed} to {cfg.seed + n - 1} pass the largest seed "
                        f"{MAX_SEED}; choose a smaller --seed")
    return list(range(cfg.seed, cfg.seed + n))


def resume_config(sweep_dir, changes: dict) -> tuple[Config, list[int]]:
    """The sweep's saved base config with `changes` applied (as train_lib.resume_config
    allows for one run), and its seeds."""
    info = read_sweep(sweep_dir)
    saved = info["config"]
    fixed = {k: v for k, v in changes.items()
             if k not in train_lib.RESUMABLE_CHANGES and getattr(saved, k) != v}
    if fixed:
        raise UserError(f"cannot change {', '.join(sorted(fixed))} when resuming the sweep "
                        f"{sweep_dir} (only {', '.join(train_lib.RESUMABLE_CHANGES)} may "
                        f"change); start a new sweep instead")
    return dataclasses.replace(saved, **{k: changes[k] for k in train_lib.RESUMABLE_CHANGES
                                         if k in changes}), info["seeds"]


def train_sweep(cfg: Config, seeds: list[int], sweep_dir, *, resume: bool = False,
                overwrite: bool = False, sequential: bool | None = None, data=None,
                data_dir=None, log=None) -> dict:
    """Train every seed of the sweep in sweep_dir (cfg.seed is ignored; each seed's run
    gets cfg with its own seed). Returns a summary like train_lib.train's, with
    'seeds', 'mode' and 'seed_it_per_s'."""
    from gan_tf.data import load_dataset
    from gan_tf.stack import stackable
    if resume and overwrite:
        raise UserError("--resume and --overwrite contradict each other; pick one")
    seeds = [int(s) for s in seeds]
    if not seeds or len(set(seeds)) != len(seeds) or len(seeds) > MAX_SEEDS:
        raise UserError(f"a sweep takes 1 to {MAX_SEEDS} distinct seeds, got {seeds}")
    why = stackable(cfg)
    if sequential is None:
        sequential = why is not None
    elif not sequential and why:
        raise UserError(f"cannot train these seeds as one stack: {why}; leave out --stack")
    sweep_dir = Path(sweep_dir)
    if data is None:
        data = load_dataset(cfg.dataset, data_dir)
    train_lib.check_data(cfg, data)
    emit = log or print
    # The sweep folder's lock as a run folder's: one process at a time, and a folder
    # this call created is removed again if a refusal left it empty.
    with RunFolder(sweep_dir).locked():
        return _sweep(cfg, seeds, sweep_dir, resume, overwrite, sequential, data, emit)


def _sweep(cfg, seeds, sweep_dir, resume, overwrite, sequential, data, emit) -> dict:
    try:
        _check_sweep(sweep_dir, cfg, seeds, resume, overwrite)
        info = {"config": json.loads(cfg.to_json()), "seeds": seeds,
                "mode": "sequential" if sequential else "stack", "status": "running"}
        atomic_write_text(sweep_dir / SWEEP, json.dumps(info, indent=2) + "\n")
        t0 = time.perf_counter()
        if sequential:
            summary = _train_sequential(cfg, seeds, sweep_dir, resume, overwrite, data,
                                        emit)
        else:
            summary = _train_stacked(cfg, seeds, sweep_dir, resume, overwrite, data, emit)
        wall = time.perf_counter() - t0
        info.update(status=summary["status"], iteration=summary["iteration"],
                    wall_s=round(wall, 1))
        atomic_write_text(sweep_dir / SWEEP, json.dumps(info, indent=2) + "\n")
        summary.update(seeds=seeds, mode=info["mode"], run_dir=str(sweep_dir),
                       wall_s=round(wall, 1))
        return summary
    except OSError as e:
        raise UserError(f"{os_error_line(e)}; the sweep stopped, and its files from "
                        f"before (every seed's last checkpoint) are intact") from None


def _check_sweep(sweep_dir: Path, cfg: Config, seeds, resume: bool, overwrite: bool):
    if resume:
        info = read_sweep(sweep_dir)
        if info["seeds"] != seeds:
            raise UserError(f"{sweep_dir} is a sweep of seeds {info['seeds']}, not {seeds}")
        saved = info["config"]
        keep = {k: getattr(cfg, k) for k in train_lib.RESUMABLE_CHANGES}
        if dataclasses.replace(saved, seed=cfg.seed, **keep) != cfg:
            raise UserError(f"config differs from the one saved in {sweep_dir / SWEEP}; "
                            f"build it with sweep.resume_config()")
        return
    if (sweep_dir / SWEEP).exists() and not overwrite:
        raise UserError(f"{sweep_dir} already holds a seed sweep; add --resume to continue "
                        f"it, --overwrite to replace it, or choose another --run-dir")
    for s in seeds:   # every refusal before anything is written
        seed_folder(sweep_dir, s).check_new(overwrite)


def _seed_resumes(folder: RunFolder, resume: bool) -> bool:
    """A seed of a resumed sweep continues if it got as far as its config."""
    return resume and folder.has_config()


def _train_sequential(cfg, seeds, sweep_dir, resume, overwrite, data, emit) -> dict:
    done, it, rates = [], 0, []
    for s in seeds:
        folder = seed_folder(sweep_dir, s)
        cfg_s = dataclasses.replace(cfg, seed=s)
        if _seed_resumes(folder, resume) and folder.finished_iteration() == cfg.iters:
            emit(f"seed {s}: already finished in {folder}")
            done.append(s)
            continue
        emit(f"seed {s} of {seeds[0]}..{seeds[-1]} into {folder}")
        summary = train_lib.train(cfg_s, folder.path, resume=_seed_resumes(folder, resume),
                                  overwrite=overwrite, data=data, log=emit)
        it = summary["iteration"]
        rates.append(summary["it_per_s"])
        if "signal" in summary or summary["status"] != "complete":
            return {**summary, "status": "interrupted", "done": done}
        done.append(s)
    return {"status": "complete", "iteration": cfg.iters, "done": done,
            "seed_it_per_s": round(sum(rates) / len(rates), 1) if rates else 0.0}


def _train_stacked(cfg, seeds, sweep_dir, resume, overwrite, data, emit) -> dict:
    """The seeds as one stack. Seeds whose checkpoints lag the others (a sweep killed
    while writing its checkpoints) first catch up, as a stack of their own."""
    folders = [seed_folder(sweep_dir, s) for s in seeds]
    with contextlib.ExitStack() as held:
        for f in folders:
            held.enter_context(f.locked())
        checkpoints = [train_lib._check_folder(f, dataclasses.replace(cfg, seed=s),
                                               _seed_resumes(f, resume), overwrite)
                       for f, s in zip(folders, seeds)]
        at = [c["iteration"] if c else 0 for c in checkpoints]
        summary = None
        # One phase per distinct starting iteration: the seeds behind train (as a stack
        # of their own) up to the next ones, the last phase to cfg.iters.
        for target in sorted(set(at))[1:] + [cfg.iters]:
            group = [i for i, a in enumerate(at) if a < target] or list(range(len(seeds)))
            if len(group) < len(seeds):
                emit(f"seeds {', '.join(str(seeds[i]) for i in group)} are behind the "
                     f"others (a sweep stopped while writing checkpoints); they catch up "
                     f"to iteration {target} first")
            phase_cfg = cfg if target == cfg.iters else dataclasses.replace(cfg, iters=target)
            summary = _run_stack(phase_cfg, [seeds[i] for i in group],
                                 [folders[i] for i in group],
                                 [checkpoints[i] for i in group], resume, overwrite,
                                 data, emit)
            if summary["status"] != "complete":
                return summary
            for i in group:
                at[i], checkpoints[i] = target, folders[i].read_checkpoint()
            resume, overwrite = True, False
        return summary


def _run_stack(cfg, seeds, folders, checkpoints, resume, overwrite, data, emit) -> dict:
    from gan_tf.stack import SeedStack
    stack = SeedStack(cfg, seeds, data.train_images, data.train_labels)
    starts = {train_lib.restore(m, c, f) if c else 0
              for m, c, f in zip(stack.models, checkpoints, folders)}
    stack.restack()
    start = starts.pop()
    writers = [RunWriter(f, c, warn=emit) for f, c in zip(folders, stack.configs)]
    for f, w in zip(folders, writers):
        w.begin(resume=_seed_resumes(f, resume), overwrite=overwrite, start=start)
    progress = Progress(cfg.iters)
    progress.start = progress.done = start
    emit(f"{'Resuming' if start else 'Starting'} seeds {seeds[0]}..{seeds[-1]} "
         f"({len(seeds)} as one stack) in {folders[0].path.parent} at iteration {start} of "
         f"{cfg.iters}: loss {cfg.loss!r}, data from {data.source}")
    loop_ = _StackLoop(cfg, stack, writers, emit)
    stop = StopRequests()
    try:
        with stop:
            try:
                it = loop_.run(start, stop, progress, folders[0].path.parent)
            finally:
                progress.close()
                for w in writers:
                    w.close()
            complete = it >= cfg.iters
            stack.unstack()
            for m, w in zip(stack.models, writers):
                w.finish(m.G, complete)
    except BaseException:
        with contextlib.suppress(Exception):
            stack.unstack()
            for m, w in zip(stack.models, writers):
                w.finish(m.G, False)
        raise
    rate = progress.rate()
    summary = {"status": "complete" if complete else "interrupted", "iteration": it,
               "it_per_s": round(rate, 1), "seed_it_per_s": round(rate * len(seeds), 1)}
    if stop.signum is not None:
        summary["signal"] = stop.signum
    emit(f"{summary['status'].capitalize()}: seeds {seeds[0]}..{seeds[-1]} at iteration "
         f"{it}, {it - start} iterations at {rate:.1f} it/s ({rate * len(seeds):.1f} "
         f"seed-iterations/s)")
    return summary


class _StackLoop(train_lib._Loop):
    """train_lib's chunked loop, writing each seed's frames, checkpoints and stats
    into its own run folder."""

    def __init__(self, cfg, stack, writers, emit):
        super().__init__(cfg, stack, writers[0], None, emit)
        self.writers = writers

    def snapshot(self, it):
        from gan_tf import networks
        frame = it // self.cfg.snapshot_every
        self.trainer.unstack()
        for m, c, w in zip(self.trainer.models, self.trainer.configs, self.writers):
            images = networks.unit_images(m.G, *train_lib.frame_inputs(c, frame))
            w.snapshot(it, frame, images, train_lib.checkpoint_arrays(m, it))

    def checkpoint(self, it):
        self.trainer.unstack()
        for m, w in zip(self.trainer.models, self.writers):
            w.checkpoint(train_lib.checkpoint_arrays(m, it))

    def check_finite(self, out, it, folder):
        bad = [(s, int(b)) for s, b in zip(self.trainer.seeds, out["first_bad_iteration"])
               if b >= 0]
        if bad:
            for w in self.writers:
                w.wait()
            last = it - it % self.cfg.snapshot_every
            raise TrainingDiverged(
                f"loss {self.cfg.loss!r} became NaN or Inf for seed "
                f"{', '.join(f'{s} at iteration {b}' for s, b in bad)}; the sweep stopped. "
                f"Every seed's last good checkpoint (iteration {last}) and frames are kept "
                f"in {folder}; train the other seeds on as single runs with --resume")

    def record(self, it, sums, n, t_start):
        elapsed = round(time.perf_counter() - t_start, 3)
        for s, w in enumerate(self.writers):
            w.record({"iter": it, **{k: float(v[s]) / n for k, v in sums.items()},
                      "elapsed_s": elapsed})
