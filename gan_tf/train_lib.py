"""One whole training run: `train(cfg, run_dir)`. The CLI in train.py is a thin shell.

Order of work, chosen so that bad input writes nothing and a crash loses little:
check the run folder and load the data (either may refuse) -> write config.json ->
build or restore the models -> train in chunks, snapshotting and checkpointing every
`snapshot_every` iterations -> GIF, loss plot and generator at the end.
"""

from __future__ import annotations

import dataclasses
import signal
import time
from pathlib import Path

import numpy as np

from gan_tf import runs, snapshots
from gan_tf.config import Config
from gan_tf.control import BackgroundWrites, StopRequests
from gan_tf.data import Mnist, load_dataset
from gan_tf.errors import TrainingDiverged, UserError
from gan_tf.progress import Progress

SAMPLES_PER_FRAME = 16      # the tutorial's 4x4 grid; a cGAN's: one row per class
# A resumed run may be extended, and moved to other devices (the algorithm is the
# same under every strategy); nothing else may change.
RESUMABLE_CHANGES = ("iters", "strategy", "devices")


def resume_config(run_dir: Path, changes: dict) -> Config:
    """The saved config of run_dir with `changes` applied, if they are allowed."""
    saved = Config.from_json(runs.read_config_text(Path(run_dir)))
    fixed = {k: v for k, v in changes.items()
             if k not in RESUMABLE_CHANGES and getattr(saved, k) != v}
    if fixed:
        raise UserError(f"cannot change {', '.join(sorted(fixed))} when resuming {run_dir} "
                        f"(only {', '.join(RESUMABLE_CHANGES)} may change); start a new run "
                        f"instead")
    return dataclasses.replace(saved, **{k: changes[k] for k in RESUMABLE_CHANGES
                                         if k in changes})


def train(cfg: Config, run_dir, *, resume: bool = False, overwrite: bool = False,
          data: Mnist | None = None, data_dir=None, log=None) -> dict:
    """Train (or continue) the run in run_dir. Returns a summary dict with 'status'
    ('complete' or 'interrupted'), 'iteration', 'it_per_s' and 'signal' if any.

    Under cfg.strategy 'multiworker' every worker calls this; only the chief writes
    into run_dir, the others into a temporary folder they delete at the end."""
    from gan_tf import distribute
    run_dir = Path(run_dir)
    chief = distribute.is_chief(cfg)
    # --- refuse bad input before writing anything
    if resume:
        saved = Config.from_json(runs.read_config_text(run_dir))
        if dataclasses.replace(saved, **{k: getattr(cfg, k) for k in RESUMABLE_CHANGES}) != cfg:
            raise UserError(f"config differs from the one saved in {run_dir}; build it "
                            f"with resume_config()")
        checkpoint = runs.load_checkpoint(run_dir / runs.CHECKPOINT)
    else:   # every worker checks, so that all refuse together instead of waiting
        runs.check_new_run(run_dir, overwrite)
    if data is None:
        data = load_dataset(cfg.dataset, data_dir)

    # Imported here, not at module level, so argument errors answer without TF's start-up.
    import tensorflow as tf
    from gan_tf import loop, networks
    strategy = distribute.make_strategy(cfg)   # first: multiworker configures TF's start-up
    distribute.check_batch(cfg, strategy)
    # Nothing is written until every worker has made the checks above.
    distribute.any_worker(strategy, False)

    # --- the run folder: config first
    if not chief:   # a worker's outputs are thrown away: the chief writes the run's
        import tempfile
        (log or print)(f"{distribute.task_name()}: training; the chief writes the outputs "
                       f"to {run_dir}")
        run_dir = Path(tempfile.mkdtemp(prefix="gan-tf-worker-"))
        log = log or (lambda line: None)
    else:
        if overwrite and not resume:
            runs.clear_run(run_dir)
        run_dir.mkdir(parents=True, exist_ok=True)
        # A resumed run's config is rewritten too: the iterations it now runs to (and
        # its strategy) are what the folder holds.
        runs.atomic_write_text(run_dir / runs.CONFIG, cfg.to_json())
    (run_dir / runs.FRAMES).mkdir(exist_ok=True)

    trainer = loop.build_trainer(cfg, data.train_images, data.train_labels, strategy)
    G, D, g_opt, d_opt = trainer.G, trainer.D, trainer.g_opt, trainer.d_opt
    state = {"G": G.weights, "D": D.weights, "g_opt": g_opt.variables,
             "d_opt": d_opt.variables}
    start = 0
    if resume:
        start = _restore(state, trainer, checkpoint, run_dir)
        if chief:
            runs.truncate_stats(run_dir / runs.STATS, start)
            runs.remove_frames_after(run_dir, start // cfg.snapshot_every)

    progress = Progress(cfg.iters, start)
    emit = log or progress.log
    emit(f"{'Resuming' if resume else 'Starting'} {run_dir} at iteration {start} of "
         f"{cfg.iters}: loss {cfg.loss!r}, data from {data.source}"
         + (f", {cfg.strategy} strategy over {trainer.replicas} replicas"
            + (" (as a TF graph: XLA compiles single-device runs only)" if cfg.xla else "")
            if strategy else ""))
    stats = runs.StatsLog(run_dir / runs.STATS)
    writer = tf.summary.create_file_writer(str(run_dir / "tensorboard")) \
        if cfg.tensorboard else None
    background = BackgroundWrites()

    def snapshot(it):
        """Frame and checkpoint of iteration `it`: the arrays are taken now, the slow
        part (drawing the PNG, writing files) runs while training goes on. Only the
        chief's are kept, so only the chief makes them."""
        if not chief:
            return
        frame = it // cfg.snapshot_every
        images = networks.unit_images(G, *frame_inputs(cfg, frame))
        if writer:
            with writer.as_default():
                tf.summary.image("samples", snapshots.grid_array(images)[None, :, :, None],
                                 step=it)
        arrays = checkpoint_arrays(it)
        background.submit(lambda: (
            snapshots.save_grid(images, runs.frame_path(run_dir, frame)),
            runs.save_checkpoint(run_dir / runs.CHECKPOINT, arrays)))

    def checkpoint_arrays(it):
        arrays = {f"{k}/{i:03d}": np.array(v.numpy(), copy=True) for k, vs in state.items()
                  for i, v in enumerate(vs)}
        return {"iteration": np.int64(it), **arrays}

    def checkpoint(it):
        if not chief:
            return
        background.wait()
        runs.save_checkpoint(run_dir / runs.CHECKPOINT, checkpoint_arrays(it))

    # --- the loop
    summary = {"status": "complete", "run_dir": str(run_dir)}
    it = start
    stop = StopRequests()
    t_start = time.perf_counter()
    try:
        with stop:
            while True:
                if it % cfg.snapshot_every == 0:
                    snapshot(it)
                if it >= cfg.iters:
                    break
                if distribute.any_worker(strategy, stop.signum is not None):
                    checkpoint(it)
                    # A worker stopped because another one was signalled says SIGTERM.
                    summary.update(status="interrupted",
                                   signal=stop.signum or int(signal.SIGTERM))
                    emit(f"Stopped by signal {summary['signal']} at iteration {it}; checkpoint "
                         f"saved. Continue with --resume --run-dir {run_dir}")
                    break
                n = min(cfg.log_every - it % cfg.log_every, cfg.iters - it)
                out = trainer.chunk(n)
                if progress.t0 is None:
                    progress.begin(it + n)  # from the end of the first (compiling) chunk
                    t_first = time.perf_counter() - t_start
                if out["first_bad_iteration"] >= 0:
                    background.wait()   # the last good checkpoint, complete on disk
                    raise TrainingDiverged(_diverged_message(cfg, out, it, run_dir))
                record = {"iter": it + n,
                          **{k: float(v) / n for k, v in out["sums"].items()},
                          "elapsed_s": round(time.perf_counter() - t_start, 3)}
                stats.write(record)
                if writer:
                    with writer.as_default():
                        for k in ("d_loss", "g_loss", "d_real", "d_fake", "g_grad_norm"):
                            tf.summary.scalar(k, record[k], step=it + n)
                if it % cfg.snapshot_every == 0:
                    f = out["first"]
                    emit(f"Iter: {it}  D loss: {f['d_loss']:.4}  G loss: {f['g_loss']:.4}")
                it += n
                progress.update(it)
            if it >= cfg.iters and it % cfg.snapshot_every:
                checkpoint(it)  # the final state, when it is not on a snapshot
    finally:
        progress.close()
        background.wait()
        stats.close()
        if writer:
            writer.close()
        if chief:
            _finish_pictures(run_dir, cfg)

    if summary["status"] == "complete":
        runs.atomic_save(run_dir / runs.GENERATOR, G.save)
    if not chief:
        import shutil
        shutil.rmtree(run_dir, ignore_errors=True)
    trained = it - start
    rate = progress.rate()
    summary.update(iteration=it, it_per_s=round(rate, 1),
                   wall_s=round(time.perf_counter() - t_start, 1))
    if trained:
        summary["first_chunk_s"] = round(t_first, 2)
    # The rate leaves out the first chunk (it includes tracing and compiling).
    speed = f"at {rate:.1f} it/s" if rate > 0 else "(too few to time after compiling)"
    emit(f"{summary['status'].capitalize()}: iteration {it}, {trained} iterations {speed}; "
         f"outputs in {run_dir}")
    return summary


def frame_inputs(cfg: Config, frame: int):
    """(z, labels) of frame `frame`'s samples: the same z for every frame unless
    cfg.fresh_sample_noise. The tutorial's 16 samples; a cGAN's grid has one row per
    class whose columns share one z, so a column shows one "style" in every class."""
    from gan_tf import loop
    from gan_tf.networks import NUM_CLASSES
    counter = frame if cfg.fresh_sample_noise else 0
    if not cfg.conditional:
        return loop.sample_z(cfg.seed, loop.STREAM_SAMPLES, counter, SAMPLES_PER_FRAME,
                             cfg.z_dim), None
    z = loop.sample_z(cfg.seed, loop.STREAM_SAMPLES, counter, NUM_CLASSES, cfg.z_dim)
    return np.tile(z.numpy(), (NUM_CLASSES, 1)), np.repeat(np.arange(NUM_CLASSES),
                                                           NUM_CLASSES)


def _finish_pictures(run_dir: Path, cfg: Config) -> None:
    """GIF and loss plot from whatever the run has so far (also after a stop)."""
    frames = runs.frame_paths(run_dir)
    if frames:
        snapshots.write_gif(frames, run_dir / "training.gif", cfg.gif_fps)
    records = runs.read_stats(run_dir / runs.STATS)
    if records:
        snapshots.plot_losses(records, run_dir / "losses.png",
                              title=f"{run_dir.name}: loss {cfg.loss!r}")


def _restore(state: dict, trainer, checkpoint: dict, run_dir: Path) -> int:
    for key, variables in state.items():
        saved = sorted(k for k in checkpoint if k.startswith(key + "/"))
        if len(saved) != len(variables):
            raise UserError(f"checkpoint in {run_dir} does not match this model ({key}: "
                            f"{len(saved)} arrays, expected {len(variables)})")
        for name, var in zip(saved, variables):
            if tuple(checkpoint[name].shape) != tuple(var.shape):
                raise UserError(f"checkpoint in {run_dir} does not match this model "
                                f"({name}: shape {checkpoint[name].shape}, expected "
                                f"{tuple(var.shape)})")
            var.assign(checkpoint[name])
    start = int(checkpoint["iteration"])
    trainer.iteration.assign(start)
    return start


def _diverged_message(cfg, out, it, run_dir) -> str:
    bad = int(out["first_bad_iteration"])
    hint = (" (the literal log-loss, log_eps=0, takes log(0) once D is sure enough: in "
            "float32 1 - sigmoid(l) is 0 for logits l above ~17 and sigmoid(l) is 0 below "
            "~-87; the default --log-eps 1e-7 clips as Keras does)"
            if cfg.loss == "log" and cfg.log_eps == 0 else "")
    d, g = (float(v) for v in out["first_bad_losses"])
    last = it - it % cfg.snapshot_every
    return (f"loss {cfg.loss!r} became NaN or Inf at iteration {bad} (D loss {d}, G loss "
            f"{g}){hint}; stopped. The last good checkpoint (iteration {last}) and frames "
            f"are kept in {run_dir}")
