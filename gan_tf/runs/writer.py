"""What a training run writes into its run folder, and when.

`RunWriter` is the chief's: config, frames, the stats log, TensorBoard events and
checkpoints while training, then the generator, the GIF and the loss plot. Other
workers of a multi-worker run get a `NullWriter`, which writes nothing, so the
training loop has no `if chief` in it.
"""

from __future__ import annotations

import json
import threading

import tensorflow as tf

from gan_tf import families
from gan_tf.core.errors import UserError
from gan_tf.models import portable
from gan_tf.runs import pictures
from gan_tf.runs.card import make_card
from gan_tf.runs.files import atomic_save, naming
from gan_tf.runs.folder import (
    FRAMES,
    GENERATOR,
    GENERATOR_INFO,
    GIF,
    LOSSES,
    PARZEN_CURVE,
    QUALITY_CURVE,
    STATS,
    TENSORBOARD,
    RunFolder,
)

# What a stats record holds besides the trainer's own values (whatever those are).
NOT_VALUES = ("iter", "elapsed_s")


class BackgroundWrites:
    """Runs one write job at a time on a worker thread. Submitting waits for the
    previous job, so at most one snapshot is in flight; wait() re-raises its error."""

    def __init__(self):
        self._thread, self._error = None, None

    def submit(self, job) -> None:
        self.wait()
        self._thread = threading.Thread(target=self._run, args=(job,), daemon=True)
        self._thread.start()

    def _run(self, job):
        try:
            job()
        except BaseException as e:  # surfaced on the training thread by wait()
            self._error = e

    def wait(self) -> None:
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        if self._error is not None:
            error, self._error = self._error, None
            raise error


class StatsLog:
    """Append-only JSON lines, flushed to the OS on every record: a killed process
    loses nothing written. (No fsync per line: it would cost more than the training
    between two records; checkpoints are synced.)"""

    def __init__(self, path):
        self.path = path
        self._f = open(path, "a")

    def write(self, record: dict) -> None:
        try:
            self._f.write(json.dumps(record) + "\n")
            self._f.flush()
        except OSError as e:   # a full disk: the line names the log it could not extend
            raise naming(e, self.path) from None

    def close(self) -> None:
        self._f.close()


class RunWriter:
    active = True   # the loop draws frames and copies checkpoints only for an active one

    def __init__(self, folder: RunFolder, cfg, warn=print):
        self.folder, self.cfg, self.warn = folder, cfg, warn
        self.background = BackgroundWrites()
        self.stats = self.events = None

    def begin(self, *, resume: bool, overwrite: bool, start: int) -> None:
        """Make the folder ready for training from iteration `start` (the caller holds
        its lock): a replaced run's files go, a resumed run loses what lies past its
        checkpoint; then config.json, written before any training."""
        if overwrite and not resume:
            self.folder.clear()
        self.folder.remove_temporaries()
        if resume:
            self.folder.truncate_after(start, self.cfg.snapshot_every)
            # A generator saved before generator.json existed: name its iteration now,
            # while config.json still says what the run finished at.
            generator, info = self.folder / GENERATOR, self.folder / GENERATOR_INFO
            if generator.is_file() and not info.is_file():
                it = self.folder.generator_iteration()
                if it is not None:
                    self.folder.write_generator_info(it)
        # The event writer first: TensorFlow refuses a folder it cannot write (or a
        # path too long for it) with its own error, which must come before config.json
        # makes the folder a started run.
        if self.cfg.tensorboard:
            self.events = event_writer(self.folder / TENSORBOARD)
        # A resumed run's config is rewritten too: the iterations it now runs to (and
        # its strategy) are what the folder holds.
        self.folder.write_config(self.cfg)
        (self.folder / FRAMES).mkdir(exist_ok=True)
        self.stats = StatsLog(self.folder / STATS)

    def snapshot(self, it: int, frame: int, images, arrays: dict) -> None:
        """Frame and checkpoint of iteration `it`. The arrays are copies taken now;
        drawing the PNG and writing the files run while training goes on."""
        if self.events:
            with self.events.as_default():
                tf.summary.image("samples", pictures.grid_array(images)[None, :, :, None],
                                 step=it)
        path = self.folder.frame_path(frame)
        self.background.submit(lambda: (pictures.save_grid(images, path),
                                        self.folder.save_checkpoint(arrays)))

    def checkpoint(self, arrays: dict) -> None:
        self.background.wait()
        self.folder.save_checkpoint(arrays)

    def record(self, record: dict) -> None:
        self.stats.write(record)
        if self.events:
            with self.events.as_default():
                for k, v in record.items():
                    if k not in NOT_VALUES:
                        tf.summary.scalar(k, v, step=record["iter"])

    def wait(self) -> None:
        """Until the snapshot in flight is on disk (re-raising its error)."""
        self.background.wait()

    def close(self) -> None:
        try:
            self.background.wait()
        finally:
            if self.stats:
                self.stats.close()
            if self.events:
                self.events.close()

    def finish(self, G, complete: bool, extras: dict | None = None) -> None:
        """The generator (of a complete run) first, then `extras` (file name -> (model,
        info): the moving average, the best G): no picture can prevent them. Then
        the GIF and the loss plot from whatever the run has, also after a stop; a
        picture that cannot be made is a warning, never a lost run."""
        if complete:
            family = families.get(self.cfg)
            # What evaluate measures a saved file by (families/base.Family.measures)
            about = {"measures": family.measures, **family.generator_info(self.cfg)}
            for name, (model, info) in {GENERATOR: (G, {}), **(extras or {})}.items():
                info = {**about, **info}
                it = info.pop("iteration", self.cfg.iters)
                self.save_generator(name, model, it, info)
        frames = []
        for p in self.folder.frame_paths():
            try:
                frames.append(pictures.read_image(p))
            except Exception as e:
                self.warn(f"warning: {p} is unreadable ({type(e).__name__}); left out of "
                          f"{GIF}")
        self._picture(GIF, lambda: frames and pictures.save_frames_gif(
            frames, self.folder / GIF, self.cfg.gif_fps))
        self._picture(LOSSES, lambda: self._plot_losses())
        if self.cfg.parzen_every:
            self._picture(PARZEN_CURVE, lambda: pictures.plot_parzen(
                self.folder.read_stats(), self.folder / PARZEN_CURVE,
                title=f"{self.folder.path.name}: quick Parzen estimate"))
        if getattr(self.cfg, "eval_every", 0) and families.get(self.cfg).measures == \
                "classifier":
            self._picture(QUALITY_CURVE, lambda: pictures.plot_test_errors(
                self.folder.read_stats(), self.folder / QUALITY_CURVE,
                title=f"{self.folder.path.name}: test errors during training"))
        elif getattr(self.cfg, "eval_every", 0):
            self._picture(QUALITY_CURVE, lambda: pictures.plot_quality(
                self.folder.read_stats(), self.folder / QUALITY_CURVE,
                title=f"{self.folder.path.name}: quality during training"))

    def save_generator(self, name: str, model, iteration: int, info: dict) -> None:
        """NAME.keras as Keras' own layers where it can be (models/portable.py: it then
        loads without gan_tf), then NAME.json with its model card (runs/card.py)."""
        saved = portable.portable_or_same(model)
        loads_with = "keras" if portable.is_stock(saved) else "gan_tf"
        atomic_save(self.folder / name, saved.save)
        info = {**info, "card": make_card(self.cfg, saved, iteration, info.get(
            "measures", ""), loads_with)}
        self.folder.write_generator_info(iteration, name, info)

    def _plot_losses(self):
        records = self.folder.read_stats()
        if records:
            if self.cfg.family == "vae":
                pictures.plot_elbo(records, self.folder / LOSSES,
                                    title=f"{self.folder.path.name}: VAE, z_dim "
                                          f"{self.cfg.z_dim}")
            else:
                pictures.plot_losses(records, self.folder / LOSSES,
                                      title=f"{self.folder.path.name}: "
                                            f"{families.get(self.cfg).describe_loss(self.cfg)}")

    def _picture(self, name, make) -> None:
        try:
            make()
        except Exception as e:   # includes a full disk: the generator is already saved
            self.warn(f"warning: could not write {self.folder / name} "
                      f"({type(e).__name__}: {str(e)[:120]})")


def event_writer(folder):
    """tf.summary's writer into folder; TensorFlow's errors as one line."""
    try:
        writer = tf.summary.create_file_writer(str(folder))
        writer.flush()
        return writer
    except tf.errors.OpError as e:
        # TensorFlow's message: "{{function_node ...}} PATH; REASON"; keep the reason.
        reason = str(e.message).splitlines()[0].rsplit("; ", 1)[-1][:120]
        raise UserError(f"cannot write TensorBoard events into {str(folder)[:200]} "
                        f"({reason}); make it writable, choose a shorter --run-dir, or add "
                        f"--no-tensorboard") from None


class NullWriter:
    """A non-chief worker's writer: the same calls, nothing written."""
    active = False

    def begin(self, **_):
        pass

    def snapshot(self, *_):
        pass

    def checkpoint(self, _):
        pass

    def record(self, _):
        pass

    def wait(self):
        pass

    def close(self):
        pass

    def finish(self, *_):
        pass
