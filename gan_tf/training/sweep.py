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

import numpy as np

from gan_tf.core.config import MAX_SEED, MAX_SEEDS, Config, resumed, resumes
from gan_tf.core.errors import TrainingDiverged, UserError, os_error_line
from gan_tf.data.datasets import load_dataset
from gan_tf.models import networks
from gan_tf.runs.folder import RunFolder, check_mode
from gan_tf.runs.sweeps import SWEEP, check_links, read_sweep, seed_folder, seeds_text, write_sweep
from gan_tf.runs.writer import RunWriter
from gan_tf.training import run as train_lib
from gan_tf.training import devices
from gan_tf.training.progress import Progress
from gan_tf.training.stack import SeedStack, stackable


def seeds_of(cfg: Config, n: int) -> list[int]:
    """cfg.seed, cfg.seed + 1, ...: N seeds, checked."""
    if not 1 <= n <= MAX_SEEDS:
        raise UserError(f"--seeds must be 1 to {MAX_SEEDS}, got {n}")
    if cfg.seed + n - 1 > MAX_SEED:
        raise UserError(f"seeds {cfg.seed} to {cfg.seed + n - 1} pass the largest seed "
                        f"{MAX_SEED}; choose a smaller --seed")
    return list(range(cfg.seed, cfg.seed + n))


def resume_config(sweep_dir, changes: dict) -> tuple[Config, list[int]]:
    """The sweep's saved base config with `changes` applied (as a single run's resume
    allows), and its seeds."""
    info = read_sweep(sweep_dir)
    return resumed(info["config"], changes, f"the sweep {sweep_dir}", "sweep"), info["seeds"]


def train_sweep(cfg: Config, seeds: list[int], sweep_dir, *, resume: bool = False,
                overwrite: bool = False, sequential: bool | None = None, data=None,
                data_dir=None, log=None, measure=None) -> dict:
    """Train every seed of the sweep in sweep_dir (cfg.seed is ignored; each seed's run
    gets cfg with its own seed). Returns a summary like train_lib.train's, with
    'seeds', 'mode' and 'seed_it_per_s'. `measure`: as train_lib.train's."""
    check_mode(resume, overwrite)
    if train_lib.tracked(cfg) and measure is None:
        raise UserError("parzen_every and eval_every need the measures the train command "
                        "passes (python -m gan_tf.train)")
    seeds = [int(s) for s in seeds]
    if not seeds or len(set(seeds)) != len(seeds) or len(seeds) > MAX_SEEDS:
        raise UserError(f"a sweep takes 1 to {MAX_SEEDS} distinct seeds, got "
                        f"{seeds_text(seeds)}")
    why = stackable(cfg)
    if sequential is None:
        sequential = why is not None
    elif not sequential and why:
        raise UserError(f"cannot train these seeds as one stack: {why}; train them one "
                        f"after another (sequential)")
    sweep_dir = Path(sweep_dir)
    if data is None:
        data = load_dataset(cfg.dataset, data_dir)
    train_lib.check_data(cfg, data)
    emit = log or print
    # The sweep folder's lock as a run folder's: one process at a time, and a folder
    # this call created is removed again if a refusal left it empty.
    with RunFolder(sweep_dir).locked():
        return _sweep(cfg, seeds, sweep_dir, resume, overwrite, sequential, data, emit,
                      measure)


def _sweep(cfg, seeds, sweep_dir, resume, overwrite, sequential, data, emit,
           measure) -> dict:
    try:
        _check_sweep(sweep_dir, cfg, seeds, resume, overwrite)
        # Seeds that diverged in an earlier session stay as they are.
        diverged = dict(read_sweep(sweep_dir)["diverged"]) if resume else {}
        info = {"config": json.loads(cfg.to_json()), "seeds": seeds,
                "mode": "sequential" if sequential else "stack", "status": "running",
                "diverged": diverged}
        write_sweep(sweep_dir, info)
        t0 = time.perf_counter()
        train = _train_sequential if sequential else _train_stacked
        summary = train(cfg, seeds, sweep_dir, resume, overwrite, data, emit, diverged,
                        measure=measure)
        wall = time.perf_counter() - t0
        diverged = {**diverged, **summary["diverged"]}
        info.update(status=summary["status"], iteration=summary["iteration"],
                    wall_s=round(wall, 1), diverged=diverged)
        write_sweep(sweep_dir, info)
        summary.update(seeds=seeds, mode=info["mode"], run_dir=str(sweep_dir),
                       wall_s=round(wall, 1), diverged=diverged)
        if diverged:
            emit(f"{len(diverged)} of {len(seeds)} seeds diverged (seed: iteration "
                 f"{', '.join(f'{k}: {v}' for k, v in diverged.items())}); the others "
                 f"are {summary['status']}")
        return summary
    except OSError as e:
        raise UserError(f"{os_error_line(e)}; the sweep stopped, and its files from "
                        f"before (every seed's last checkpoint) are intact") from None


def _check_sweep(sweep_dir: Path, cfg: Config, seeds, resume: bool, overwrite: bool):
    check_links(sweep_dir, seeds)
    if resume:
        info = read_sweep(sweep_dir)
        if info["seeds"] != seeds:
            raise UserError(f"{sweep_dir} is a sweep of seeds {seeds_text(info['seeds'])}, "
                            f"not {seeds_text(seeds)}")
        if not resumes(dataclasses.replace(info["config"], seed=cfg.seed), cfg):
            raise UserError(f"config differs from the one saved in {sweep_dir / SWEEP}; "
                            f"build it with sweep.resume_config()")
        # Every seed's refusal (past --iters, a changed or damaged seed config, a seed
        # folder that is a file...) before sweep.json is rewritten: a refused resume
        # leaves every file as it was.
        for s in seeds:
            if str(s) not in info["diverged"]:
                folder = seed_folder(sweep_dir, s)
                train_lib.check_folder(folder, dataclasses.replace(cfg, seed=s),
                                       _seed_resumes(folder, resume), overwrite)
        return
    if (sweep_dir / SWEEP).exists() and not overwrite:
        raise UserError(f"{sweep_dir} already holds a seed sweep; add --resume to continue "
                        f"it, --overwrite to replace it, or choose another --run-dir")
    for s in seeds:   # every refusal before anything is written
        seed_folder(sweep_dir, s).check_new(overwrite)


def _seed_resumes(folder: RunFolder, resume: bool) -> bool:
    """A seed of a resumed sweep continues if it got as far as its config."""
    return resume and folder.has_config()


def _train_sequential(cfg, seeds, sweep_dir, resume, overwrite, data, emit,
                      diverged: dict, measure=None) -> dict:
    done, rates, newly = [], [], {}
    for s in seeds:
        folder = seed_folder(sweep_dir, s)
        cfg_s = dataclasses.replace(cfg, seed=s)
        if str(s) in diverged:
            emit(f"seed {s}: diverged earlier, at iteration {diverged[str(s)]}; left as it is")
            continue
        if _seed_resumes(folder, resume) and folder.finished_iteration() == cfg.iters:
            emit(f"seed {s}: already finished in {folder}")
            done.append(s)
            continue
        emit(f"seed {s} of {seeds_text(seeds)} into {folder}")
        try:
            summary = train_lib.train(cfg_s, folder.path, resume=_seed_resumes(folder, resume),
                                      overwrite=overwrite, data=data, log=emit,
                                      resume_dir=sweep_dir, measure=measure)
        except TrainingDiverged as e:     # as a stack freezes the seed: the others go on
            emit(f"seed {s}: {e}")
            newly[str(s)] = _first_bad(folder)
            continue
        rates.append(summary["it_per_s"])
        if "signal" in summary or summary["status"] != "complete":
            return {**summary, "status": "interrupted", "done": done, "diverged": newly}
        done.append(s)
    if not done and newly:
        raise TrainingDiverged(f"every seed diverged ({newly}); their last good "
                               f"checkpoints are kept in {sweep_dir}")
    return {"status": "complete", "iteration": cfg.iters, "done": done, "diverged": newly,
            "seed_it_per_s": round(sum(rates) / len(rates), 1) if rates else 0.0}


def _first_bad(folder: RunFolder) -> int:
    """Where a diverged single run stopped: its last checkpoint (the iteration of the
    NaN itself is in the message)."""
    return folder.checkpoint_iteration() if folder.has_checkpoint() else 0


def _train_stacked(cfg, seeds, sweep_dir, resume, overwrite, data, emit,
                   diverged: dict, measure=None) -> dict:
    """The seeds as one stack (stack.stackable refuses what `measure` serves). Seeds whose checkpoints lag the others (a sweep killed
    while writing its checkpoints) first catch up, as a stack of their own. Seeds in
    `diverged` ({seed: iteration}, from an earlier session) are left as they are."""
    live = [s for s in seeds if str(s) not in diverged]
    if not live:
        raise TrainingDiverged(f"every seed of the sweep in {sweep_dir} diverged earlier "
                               f"({diverged}); nothing is left to train")
    folders = {s: seed_folder(sweep_dir, s) for s in live}
    with contextlib.ExitStack() as held:
        for f in folders.values():
            held.enter_context(f.locked())
        checkpoints = {s: train_lib.check_folder(f, dataclasses.replace(cfg, seed=s),
                                                  _seed_resumes(f, resume), overwrite)
                       for s, f in folders.items()}
        at = {s: c["iteration"] if c else 0 for s, c in checkpoints.items()}
        summary, newly = None, {}
        # One phase per distinct starting iteration: the seeds behind train (as a stack
        # of their own) up to the next ones, the last phase to cfg.iters.
        for target in sorted(set(at.values()))[1:] + [cfg.iters]:
            group = [s for s in live if at[s] < target] or list(live)
            if len(group) < len(live):
                emit(f"seeds {', '.join(map(str, group))} are behind the others (a sweep "
                     f"stopped while writing checkpoints); they catch up to iteration "
                     f"{target} first")
            phase_cfg = cfg if target == cfg.iters else dataclasses.replace(cfg, iters=target)
            summary = _run_stack(phase_cfg, group, [folders[s] for s in group],
                                 [checkpoints[s] for s in group], resume, overwrite,
                                 data, emit)
            newly.update(summary["diverged"])
            live = [s for s in live if str(s) not in newly]
            if summary["status"] != "complete" or not live:
                break
            for s in group:
                if s in live:
                    at[s], checkpoints[s] = target, folders[s].read_checkpoint()
            resume, overwrite = True, False
        summary["diverged"] = newly
        return summary


def _run_stack(cfg, seeds, folders, checkpoints, resume, overwrite, data, emit) -> dict:
    devices.check_required()
    devices.set_precision(cfg)
    stack = SeedStack(cfg, seeds, data.train_images, data.train_labels)
    starts = {train_lib.restore(m, c, f) if c else 0
              for m, c, f in zip(stack.models, checkpoints, folders)}
    stack.restack()
    start = starts.pop()
    window = _stacked_window(cfg, stack, checkpoints, folders)
    writers = [RunWriter(f, c, warn=emit) for f, c in zip(folders, stack.configs)]
    for f, w in zip(folders, writers):
        w.begin(resume=_seed_resumes(f, resume), overwrite=overwrite, start=start)
    progress = Progress(cfg.iters)
    progress.start = progress.done = start
    emit(f"{'Resuming' if start else 'Starting'} seeds {seeds_text(seeds)} "
         f"({len(seeds)} as one stack) in {folders[0].path.parent} at iteration {start} of "
         f"{cfg.iters} on {devices.describe()}: loss {cfg.params.loss!r}, data from "
         f"{data.source}")
    loop_ = _StackLoop(cfg, stack, writers, emit, window)

    def finish(complete):
        stack.unstack()
        for i, (m, w) in enumerate(zip(stack.models, writers)):
            w.finish(m.G, complete and i not in loop_.frozen)
    summary = train_lib.drive(loop_, start, progress, writers, folders[0].path.parent, finish)
    rate, it = progress.rate(), summary["iteration"]
    summary.update(seed_it_per_s=round(rate * len(seeds), 1),
                   diverged={str(seeds[i]): b for i, b in loop_.frozen.items()})
    emit(f"{summary['status'].capitalize()}: seeds {seeds_text(seeds)} at iteration "
         f"{it}, {it - start} iterations at {rate:.1f} it/s ({rate * len(seeds):.1f} "
         f"seed-iterations/s)")
    return summary


def _stacked_window(cfg, stack, checkpoints, folders):
    """The logging window a stop left open, one slice per seed from its checkpoint;
    None unless every seed has the same one (seeds behind others have none)."""
    windows = [train_lib.open_window(c, stack.VALUES, (), cfg.log_every, f) if c else None
               for c, f in zip(checkpoints, folders)]
    if None in windows or len({n for _, n in windows}) != 1:
        return None
    return ({k: np.stack([sums[k] for sums, _ in windows]) for k in stack.VALUES},
            windows[0][1])


class _StackLoop(train_lib.ChunkedLoop):
    """run.py's chunked loop, writing each seed's frames, checkpoints and stats
    into its own run folder. A seed whose loss turns NaN or Inf is frozen: its folder
    keeps its last good checkpoint and frames, its NaN stays in its own slice of the
    stack (nothing couples the seeds), and the others train on."""

    def __init__(self, cfg, stack, writers, emit, window=None):
        super().__init__(cfg, stack, writers[0], None, emit, window=window)
        self.writers = writers
        self.frozen = {}    # index in the stack -> the first bad iteration

    def _live(self):
        return [(i, m, c, w) for i, (m, c, w) in enumerate(
            zip(self.trainer.models, self.trainer.configs, self.writers))
            if i not in self.frozen]

    def snapshot(self, it):
        frame = it // self.cfg.snapshot_every
        self.trainer.unstack()
        for _, m, c, w in self._live():
            images = networks.unit_images(m.G, *train_lib.frame_inputs(c, frame))
            w.snapshot(it, frame, images, train_lib.checkpoint_arrays(m, it))

    def checkpoint(self, it, window=None):
        self.trainer.unstack()
        for i, m, _, w in self._live():
            own = window and ({k: v[i] for k, v in window[0].items()}, window[1])
            w.checkpoint({**train_lib.checkpoint_arrays(m, it),
                          **train_lib.window_arrays(own)})

    def check_finite(self, out, it, folder):
        last = it - it % self.cfg.snapshot_every
        for i, m, c, w in self._live():
            bad = int(out["first_bad_iteration"][i])
            if bad < 0:
                continue
            w.wait()    # its last good checkpoint, whole on disk
            self.frozen[i] = bad
            losses = ", ".join(f"{n} {float(v)}" for n, v in zip(
                self.trainer.LOSSES, out["first_bad_losses"][:, i]))
            self.emit(f"seed {c.seed}: loss {self.cfg.params.loss!r} became NaN or Inf at "
                      f"iteration {bad} ({losses}); its folder keeps the checkpoint of "
                      f"iteration {last} and its frames, and the other seeds go on")
        if len(self.frozen) == len(self.writers):
            raise TrainingDiverged(
                f"loss {self.cfg.params.loss!r} became NaN or Inf in every seed (first at "
                f"iteration {min(self.frozen.values())}); the sweep stopped. Each seed's "
                f"last good checkpoint (iteration {last} or earlier) and frames are kept "
                f"in {folder}")

    def record(self, it, sums, n, t_start):
        elapsed = round(time.perf_counter() - t_start, 3)
        for i, _, _, w in self._live():
            w.record({"iter": it, **{k: float(v[i]) / n for k, v in sums.items()},
                      "elapsed_s": elapsed})
