"""One whole training run: `train(cfg, run_dir)`, called by the train command
(gan_tf/train.py through training/launch.py) and, per seed, by a sequential sweep.

Order of work, chosen so that bad input writes nothing and a crash loses little:
load the data and check it fits the config -> lock the run folder and check it
(either may refuse) -> build the models and restore the checkpoint (which may
refuse) -> write config.json -> train in chunks, snapshotting and checkpointing
every `snapshot_every` iterations -> the generator, then the GIF and loss plot.
What is written, and by whom, is runs/writer.py's business; this module decides when.
"""

from __future__ import annotations

import contextlib
import re
import signal
import time

import numpy as np

from gan_tf import families
from gan_tf.core.config import Config, resumed, resumes
from gan_tf.core.errors import TrainingDiverged, UserError, os_error_line
from gan_tf.data.datasets import Mnist, load_dataset, with_split
from gan_tf.data.streams import STREAM_SAMPLES, sample_z
from gan_tf.models import networks
from gan_tf.models.networks import NUM_CLASSES
from gan_tf.runs.folder import SEED_STATE, WINDOW, WINDOW_N, RunFolder, check_mode
from gan_tf.runs.writer import NullWriter, RunWriter
from gan_tf.training import devices, distribute, threads
from gan_tf.training.build import build_trainer
from gan_tf.training.progress import Progress
from gan_tf.training.signals import StopRequests

SAMPLES_PER_FRAME = 16      # the tutorial's 4x4 grid; a cGAN's: one row per class
# A chunk is sized to take about this long, so that a stop request (noticed between
# chunks) is answered within about a second whatever the model and d_steps; chunk
# sizes cannot change the training (see loop.Driver._chunk_body).
CHUNK_SECONDS = 0.5
# The stats key the best generator is chosen by (eval_every): the Frechet distance of
# the frames' G to the validation images (never the test images the final
# evaluation reports).
BEST_BY, BEST_BY_EMA = "quality_fd", "ema_quality_fd"


def resume_config(run_dir, changes: dict) -> Config:
    """The saved config of run_dir with `changes` applied, if they are allowed."""
    return resumed(RunFolder(run_dir).read_config(resuming=True), changes, str(run_dir))


def train(cfg: Config, run_dir, *, resume: bool = False, overwrite: bool = False,
          data: Mnist | None = None, data_dir=None, log=None, resume_dir=None,
          measure=None) -> dict:
    """Train (or continue) the run in run_dir. Returns a summary dict with 'status'
    ('complete' or 'interrupted'), 'iteration', 'it_per_s' and 'signal' if any.
    `resume_dir` is the folder a stop message tells the user to resume (a sweep's,
    for one of its seeds; default run_dir). `measure(cfg, data)`, if given, makes the
    function `(generators, iteration) -> dict` of numbers that is added to the stats
    record of every `cfg.parzen_every` and `cfg.eval_every` iterations
    (evaluation.tracking.tracker: the train command passes it, as this layer cannot
    import the evaluation's); `generators` maps a key prefix to a G.

    Under cfg.strategy 'multiworker' every worker calls this; only the chief holds
    the folder's lock and writes into it."""
    check_mode(resume, overwrite)
    if tracked(cfg) and measure is None:
        raise UserError("parzen_every and eval_every need the measures the train command "
                        "passes (python -m gan_tf.train)")
    folder = RunFolder(run_dir)
    chief = distribute.is_chief(cfg)
    if data is None:
        data = load_dataset(cfg.dataset, data_dir)
    data = with_split(data, cfg.split)
    check_data(cfg, data)
    progress = Progress(cfg.iters)
    emit = log or progress.log
    if not chief:   # the chief reports the run; a worker says once that it works
        emit(f"{distribute.task_name()}: training; the chief writes the outputs to {folder}")
        emit = log or (lambda line: None)
    try:
        with folder.locked() if chief else contextlib.nullcontext(folder):
            checkpoint = check_folder(folder, cfg, resume, overwrite)
            writer = RunWriter(folder, cfg, warn=emit) if chief else NullWriter()
            return _train(cfg, folder, data, checkpoint, writer, progress, emit,
                          resume=resume, overwrite=overwrite, resume_dir=resume_dir,
                          measure=measure)
    except OSError as e:   # a full disk, a read-only folder: earlier files stay whole
        raise UserError(f"{os_error_line(e)}; the run stopped, and its files from before "
                        f"(the last checkpoint) are intact") from None


def tracked(cfg: Config) -> bool:
    """Whether a run of cfg measures its generators while it trains."""
    return bool(cfg.parzen_every or cfg.eval_every)


def check_data(cfg: Config, data: Mnist) -> None:
    n = len(data.train_images)
    if cfg.batch_size > n:
        raise UserError(f"batch_size {cfg.batch_size} exceeds the {n:,} training images")


def check_folder(folder: RunFolder, cfg: Config, resume: bool, overwrite: bool):
    """Refuse whatever the folder cannot do; the checkpoint to resume from (or None)."""
    if not resume:
        folder.check_new(overwrite)
        return None
    if not resumes(folder.read_config(resuming=True), cfg):
        raise UserError(f"config differs from the one saved in {folder}; build it with "
                        f"resume_config()")
    folder.read_stats()     # a damaged log is named now, not after training
    if not folder.has_checkpoint():
        return None         # stopped before its first checkpoint: starts at 0
    checkpoint = folder.read_checkpoint()
    if checkpoint["iteration"] > cfg.iters:
        raise UserError(f"{folder} is at iteration {checkpoint['iteration']:,}, past "
                        f"--iters {cfg.iters:,}; resume with --iters "
                        f"{checkpoint['iteration']} or more")
    return checkpoint


def _train(cfg, folder, data, checkpoint, writer, progress, emit, *, resume, overwrite,
           resume_dir, measure):
    # First, before any TensorFlow work: the thread pools, and multiworker's start-up.
    reproducible = threads.configure(cfg)
    devices.check_required()
    devices.set_precision(cfg)
    strategy = distribute.make_strategy(cfg)
    distribute.check_batch(cfg, strategy)
    trainer = build_trainer(cfg, data.train_images, data.train_labels, strategy)
    start = restore(trainer, checkpoint, folder) if checkpoint else 0
    window = (open_window(checkpoint, trainer.VALUES, trainer.VALUE_SHAPE, cfg.log_every,
                          folder) if checkpoint else None)
    # Nothing is written until every worker has made the checks above.
    distribute.any_worker(strategy, False)
    writer.begin(resume=resume, overwrite=overwrite, start=start)
    progress.start = progress.done = start
    what = families.get(cfg).describe_loss(cfg)
    emit(f"{'Resuming' if resume else 'Starting'} {folder} at iteration {start} of "
         f"{cfg.iters} on {devices.describe(strategy)}: {what}, data from {data.source}"
         + (f", {cfg.strategy} strategy over {trainer.replicas} replicas"
            + (" (as a TF graph: XLA compiles single-device runs only)" if cfg.xla else "")
            if strategy else ""))
    if note := threads.slow_precision_note(cfg):
        emit(note)
    if not reproducible:
        emit("note: TensorFlow started in this process before its inter-op pool could be "
             "set to one thread, so this DCGAN run is not bit-reproducible (the train "
             "command's runs are; see training/threads.py)")
    track = measure(cfg, data) if measure is not None and tracked(cfg) else None
    loop_ = ChunkedLoop(cfg, trainer, writer, strategy, emit, resume_dir, track, window)
    summary = drive(loop_, start, progress, [writer], folder,
                    lambda complete: writer.finish(trainer.G, complete,
                                                   trainer.extra_generators()))
    it = summary["iteration"]
    summary["run_dir"] = str(folder)
    if it > start:
        summary["first_chunk_s"] = round(loop_.first_chunk_s, 2)
    # The rate leaves out the first chunk (it includes tracing and compiling).
    rate = progress.rate()
    speed = f"at {rate:.1f} it/s" if rate > 0 else "(too few to time after compiling)"
    emit(f"{summary['status'].capitalize()}: iteration {it}, {it - start} iterations "
         f"{speed}; outputs in {folder}")
    return summary


def drive(loop_, start: int, progress, writers, where, finish) -> dict:
    """The part of a run that a single run and a stack of seeds share: the chunked
    loop from `start` with SIGINT/SIGTERM held until a chunk ends (and through the
    final writes, so the generator and pictures are finished before the process
    stops), the writers closed, then `finish(complete)` (generators, GIF, loss plot),
    also, as far as it can, after a failure. Returns the summary's common part:
    'status' ('complete' or 'interrupted'), 'iteration', 'it_per_s', 'wall_s' and
    'signal' if one came (also during the final writes)."""
    stop = StopRequests()
    t_start = time.perf_counter()
    try:
        with stop:
            try:
                it = loop_.run(start, stop, progress, where)
            finally:
                progress.close()
                for w in writers:
                    w.close()
            complete = it >= loop_.cfg.iters
            finish(complete)
    except BaseException:
        with contextlib.suppress(Exception):   # pictures of a failed run, if possible
            finish(False)
        raise
    summary = {"status": "complete" if complete else "interrupted", "iteration": it,
               "it_per_s": round(progress.rate(), 1),
               "wall_s": round(time.perf_counter() - t_start, 1)}
    if stop.signum is not None:
        summary["signal"] = stop.signum
    return summary


class ChunkedLoop:
    """The chunked loop: snapshots on the grid, one stats record per logging window
    (its sums carried through the window's chunks), stop requests between chunks."""

    def __init__(self, cfg, trainer, writer, strategy, emit, resume_dir=None, track=None,
                 window=None):
        self.cfg, self.trainer, self.writer = cfg, trainer, writer
        self.window = window   # (sums, n): the logging window a stop left open
        self.strategy, self.emit = strategy, emit
        self.resume_dir = resume_dir   # what a stop message names (default: the folder)
        self.track = track   # (generators, it) -> {name: number}; see train's `measure`
        self.first_chunk_s = 0.0

    def snapshot(self, it):
        if not self.writer.active:
            return
        frame = it // self.cfg.snapshot_every
        # The moving average of G draws the frames where there is one; a trainer whose
        # G does not sample (SRGAN's) makes its own.
        own = getattr(self.trainer, "frame_images", None)
        images = (own(frame) if own is not None else
                  networks.unit_images(self.trainer.sampler, *frame_inputs(self.cfg, frame)))
        self.writer.snapshot(it, frame, images, checkpoint_arrays(self.trainer, it))

    def checkpoint(self, it, window=None):
        if self.writer.active:
            self.writer.checkpoint({**checkpoint_arrays(self.trainer, it),
                                    **window_arrays(window)})

    def run(self, start, stop, progress, folder) -> int:
        cfg, it = self.cfg, start
        (window, window_n), first = self.window or (None, 0), None
        # The first chunk compiles, the second is timed, later ones take about
        # CHUNK_SECONDS; under a strategy every worker must run the same chunks.
        adapt = self.strategy is None
        limit = 1 if adapt else cfg.log_every
        t_start = time.perf_counter()
        while True:
            if it % cfg.snapshot_every == 0 and window_n == 0:
                self.snapshot(it)
            if it >= cfg.iters:
                return it
            if distribute.any_worker(self.strategy, stop.signum is not None):
                # No record of part of a window: its sums go into the checkpoint, and
                # the resumed run writes the whole window's record, the uninterrupted
                # run's (a partial record, and a next one of the rest, made the log
                # depend on where the run was stopped).
                self.checkpoint(it, (window, window_n) if window_n else None)
                # A worker stopped because another one was signalled says SIGTERM.
                stop.signum = stop.signum or int(signal.SIGTERM)
                self.emit(f"Stopped by signal {stop.signum} at iteration {it}; checkpoint "
                          f"saved. Continue with --resume --run-dir "
                          f"{self.resume_dir or folder}")
                return it
            n = min(cfg.log_every - it % cfg.log_every, cfg.iters - it, limit)
            t0 = time.perf_counter()
            # The window's sums so far go into the chunk, which goes on adding to them:
            # one float32 addition per iteration in order, wherever chunks end.
            out = self.trainer.chunk(n, window if window_n else None)
            elapsed = time.perf_counter() - t0
            if progress.t0 is None:
                progress.begin(it + n)    # from the end of the first (compiling) chunk
                self.first_chunk_s = time.perf_counter() - t_start
            elif adapt:
                limit = max(1, int(n / max(elapsed, 1e-6) * CHUNK_SECONDS))
            self.check_finite(out, it, folder)
            if window_n == 0:
                first_at = it
                if it % cfg.snapshot_every == 0:
                    first = out["first"]
            window = dict(out["sums"])
            window_n += n
            it += n
            if it % cfg.log_every == 0 or it >= cfg.iters:
                self.record(it, window, window_n, t_start)
                if first is not None:
                    self.emit(f"Iter: {first_at}  {self.trainer.describe(first)}")
                window_n, first = 0, None
            progress.update(it)
            if it >= cfg.iters and it % cfg.snapshot_every:
                self.checkpoint(it)   # the final state, when it is not on a snapshot

    def check_finite(self, out, it, folder):
        """Stop on a NaN or Inf loss, once the last good checkpoint is on disk."""
        if out["first_bad_iteration"] >= 0:
            self.writer.wait()
            raise TrainingDiverged(_diverged_message(self.cfg, out, it, folder,
                                                     self.trainer.LOSSES))

    def record(self, it, sums, n, t_start):
        values = {k: float(v) / n for k, v in sums.items()}
        if self.track and self.writer.active:
            # Measured on the generators as they are at `it`, inside the same record, so
            # a resumed run truncates it with the losses past its checkpoint; the best G
            # is kept in the checkpoint's state, so it too is as of the checkpoint.
            measured = self.track(self.trainer.generators(), it)
            values.update(measured)
            key = BEST_BY_EMA if self.trainer.G_ema is not None else BEST_BY
            if key in measured and self.trainer.keep_if_best(measured[key], it):
                values["best"] = 1.0
        self.writer.record({"iter": it, **values,
                            "elapsed_s": round(time.perf_counter() - t_start, 3)})


def checkpoint_arrays(trainer, it: int) -> dict:
    """Copies of every state variable, by name, and the iteration."""
    arrays = {name: np.array(v.numpy(), copy=True) for name, v in trainer.state().items()}
    return {"iteration": np.int64(it), **arrays}


def window_arrays(window) -> dict:
    """A checkpoint's arrays of an open logging window (sums, n); {} for none."""
    if window is None:
        return {}
    sums, n = window
    return {WINDOW_N: np.int64(n),
            **{f"{WINDOW}/{k}": np.array(v, np.float32) for k, v in sums.items()}}


def open_window(checkpoint: dict, values, shape, log_every: int, folder):
    """The logging window a stop left open in the checkpoint, (sums, n), checked
    against the trainer's values (each of `shape`); None where there is none."""
    sums = {k.split("/", 1)[1]: v for k, v in checkpoint.items()
            if k.startswith(WINDOW + "/")}
    n = checkpoint.get(WINDOW_N)
    if n is None and not sums:
        return None
    if (n is None or np.shape(n) != () or not 0 < int(n) < log_every
            or set(sums) != set(values)
            or any(np.shape(v) != tuple(shape) for v in sums.values())):
        raise UserError(f"checkpoint in {folder} does not match this model (its open "
                        f"logging window {WINDOW}: {', '.join(sorted(sums)[:4])}); start "
                        f"again with --overwrite")
    return sums, int(n)


def restore(trainer, checkpoint: dict, folder) -> int:
    """Load a checkpoint's arrays into the trainer by name; its iteration. Every
    missing, extra or misshapen array is named, and nothing is assigned unless all
    fit. (Checkpoints written before names were used list arrays by position.)"""
    arrays = {k: v for k, v in checkpoint.items() if k not in ("iteration", WINDOW_N)
              and not k.startswith(WINDOW + "/")}   # the log's, not the trainer's
    legacy = arrays and all(re.fullmatch(r"(G|D|g_opt|d_opt)/\d{3}", k) for k in arrays)
    state = trainer.legacy_state() if legacy else trainer.state()
    missing, extra = sorted(set(state) - set(arrays)), sorted(set(arrays) - set(state))
    if not any(k.endswith(SEED_STATE) for k in arrays):
        # written before dropout's random state was kept (2026-12): resumed, as then,
        # with the masks drawn from the start again
        missing = [k for k in missing if not k.endswith(SEED_STATE)]
    wrong = [f"{k}: shape {arrays[k].shape}, dtype {arrays[k].dtype}"
             for k in sorted(set(state) & set(arrays))
             if tuple(arrays[k].shape) != tuple(state[k].shape)
             or not np.can_cast(arrays[k].dtype, np.dtype(state[k].dtype), "same_kind")]
    if missing or extra or wrong:
        parts = [f"missing {', '.join(missing[:4])}" if missing else "",
                 f"unknown {', '.join(extra[:4])}" if extra else "",
                 f"wrong {'; '.join(wrong[:3])}" if wrong else ""]
        raise UserError(f"checkpoint in {folder} does not match this model "
                        f"({'; '.join(p for p in parts if p)}); start again with --overwrite")
    for name, var in state.items():
        if name in arrays:
            var.assign(arrays[name].astype(np.dtype(var.dtype)))
    trainer.iteration.assign(checkpoint["iteration"])
    return int(checkpoint["iteration"])


def frame_inputs(cfg: Config, frame: int):
    """(z, labels) of frame `frame`'s samples: the same z for every frame unless
    cfg.fresh_sample_noise. The tutorial's 16 samples; a cGAN's grid has one row per
    class whose columns share one z, so a column shows one "style" in every class."""
    counter = frame if cfg.fresh_sample_noise else 0
    if not cfg.conditional:
        return sample_z(cfg.seed, STREAM_SAMPLES, counter, SAMPLES_PER_FRAME,
                             cfg.z_dim), None
    z = sample_z(cfg.seed, STREAM_SAMPLES, counter, NUM_CLASSES, cfg.z_dim)
    return np.tile(z.numpy(), (NUM_CLASSES, 1)), np.repeat(np.arange(NUM_CLASSES),
                                                           NUM_CLASSES)


def _diverged_message(cfg, out, it, folder, names=("d_loss", "g_loss")) -> str:
    bad = int(out["first_bad_iteration"])
    what = families.get(cfg).describe_loss(cfg)
    hint = (" (the literal log-loss, log_eps=0, takes log(0) once D is sure enough: in "
            "float32 1 - sigmoid(l) is 0 for logits l above ~17 and sigmoid(l) is 0 below "
            "~-87; the default --log-eps 1e-7 clips as Keras does)"
            if what == "loss 'log'" and cfg.params.log_eps == 0 else "")
    values = ", ".join(f"{n.replace('d_loss', 'D loss').replace('g_loss', 'G loss')} "
                       f"{float(v)}" for n, v in zip(names, out["first_bad_losses"]))
    last = it - it % cfg.snapshot_every
    return (f"{what} became NaN or Inf at iteration {bad} ({values}){hint}; stopped. The last good checkpoint (iteration {last}) and frames "
            f"are kept in {folder}")

