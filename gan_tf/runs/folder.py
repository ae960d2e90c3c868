"""The run folder: the one place that knows what a run folder holds.

`RunFolder(path)` names every file a run or its evaluation writes, reads config,
stats and checkpoint back with one-line errors for every way they can be damaged,
holds the folder's lock while a process writes it, clears a previous run's own
files (and nothing else) and removes temporaries of killed writers.

    config.json        the resolved Config, written before training starts
    frames/NNN.png     sample grids, frame k taken at iteration k * snapshot_every
    stats.jsonl        one JSON record per logging window, flushed on every write
    checkpoint.npz     G, D, both optimizers' state by variable name, the iteration
                       (a VAE's: encoder E, decoder G, its optimizer); after a stop
                       inside a logging window, that window's sums so far (WINDOW)
    training.gif       all frames, assembled at the end
    losses.png         D and G loss curves
    generator.keras    the final generator, Keras format
    generator.json     the iteration it was saved at, and its SHA-256 (which ties
                       the two: a generator.json of another generator.keras is void)
    tensorboard/       event files (losses, frames)
    metrics.json, nearest_neighbours.png            written by gan_tf.evaluate
    interpolation.png, arithmetic.png, latent.json  written by gan_tf.latent
    likelihood.json    a VAE's test ELBO and importance-weighted log p(x), written by
                       gan_tf.vae_likelihood
    .lock              the flock a writing process holds (see runs/files.py's FolderLock)
Every file except the append-only log is written atomically (gan_tf.runs.files).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import zipfile
from pathlib import Path

import numpy as np

from gan_tf import families
from gan_tf.core import reading
from gan_tf.core.config import Config
from gan_tf.core.errors import UserError
from gan_tf.runs import files
from gan_tf.runs.files import FolderLock, atomic_save, atomic_write_text, remove_temporaries

CONFIG = "config.json"
STATS = "stats.jsonl"
CHECKPOINT = "checkpoint.npz"
FRAMES = "frames"
GIF = "training.gif"
# The checkpoint's name of a Keras layer's random state (a Dropout's), after the
# layer's: G/<layer>/seed_generator_state.
SEED_STATE = "seed_generator_state"
# The checkpoint's names of a logging window a stop left open: WINDOW/<value> its sums
# so far, WINDOW_N how many iterations they add (the resumed run completes its record).
WINDOW, WINDOW_N = "log_window", "log_window_n"
LOSSES = "losses.png"
PARZEN_CURVE = "parzen.png"    # with parzen_every: the quick Parzen estimate's curve
QUALITY_CURVE = "quality.png"  # with eval_every: score and Frechet distance over training
GENERATOR = "generator.keras"
GENERATOR_INFO = "generator.json"
# With g_ema and eval_every: the moving average of G, and the best G by the validation
# Frechet distance (of the moving average, if any), each with its .json beside it.
GENERATOR_EMA, GENERATOR_BEST = "generator-ema.keras", "generator-best.keras"
GENERATORS = {"final": GENERATOR, "ema": GENERATOR_EMA, "best": GENERATOR_BEST}
TENSORBOARD = "tensorboard"
METRICS = "metrics.json"
NEIGHBOURS = "nearest_neighbours.png"
INTERPOLATION = "interpolation.png"
ARITHMETIC = "arithmetic.png"
LATENT = "latent.json"
LIKELIHOOD = "likelihood.json"
TRAINING_FILES = (CONFIG, STATS, CHECKPOINT, GIF, LOSSES, PARZEN_CURVE, QUALITY_CURVE,
                  GENERATOR, GENERATOR_INFO, GENERATOR_EMA, "generator-ema.json",
                  GENERATOR_BEST, "generator-best.json")
EVALUATION_FILES = (METRICS, NEIGHBOURS, INTERPOLATION, ARITHMETIC, LATENT, LIKELIHOOD)
# The folders a run writes, and the names it writes in them: --overwrite removes
# those and leaves anything else a user put there.
FOLDERS = {FRAMES: re.compile(r"^\d{3,}\.png$"),
           TENSORBOARD: re.compile(r"^events\.out\.tfevents\..+$")}
_FIX = "restore it, or start the run again with --overwrite"
# Size caps of the files read back, each far above what a run writes (reading.py):
# config.json is ~2 KB; stats.jsonl ~200 bytes a window (100,000 iterations: 0.2 MB,
# with eval_every records a little more); the largest checkpoint (the paper's maxout
# model, G and D with Adam state) is ~60 MB.
CONFIG_LIMIT = 1 * reading.MIB
STATS_LIMIT = 512 * reading.MIB
CHECKPOINT_LIMIT = 2 * reading.GIB
GENERATOR_LIMIT = 1 * reading.GIB    # the largest generator.keras, G 1200 of the paper: ~8 MB
GENERATOR_INFO_LIMIT = 1 * reading.MIB
METRICS_LIMIT = 4 * reading.MIB     # metrics.json: ~3 KB (with its other generators' ~9)


def refuse_link(path: Path) -> None:
    """One line if `path`, a name inside a run or sweep folder, is a symbolic link."""
    if path.is_symlink():
        try:
            target = os.readlink(path)
        except OSError:
            target = "?"
        raise UserError(f"{path} is a symbolic link (to {str(target)[:200]}); gan-tf writes, "
                        f"deletes and locks only inside the run folder, never through a "
                        f"link: replace it with a real file or folder, or remove it")


def check_mode(resume: bool, overwrite: bool) -> None:
    """A run (or sweep) is started new, replaced, or resumed: never both of the last."""
    if resume and overwrite:
        raise UserError("--resume and --overwrite contradict each other; pick one")


class RunFolder:
    def __init__(self, path):
        self.path = Path(path)

    def __str__(self):
        return str(self.path)

    def __truediv__(self, name: str) -> Path:
        return self.path / name

    # --- frames

    def frame_path(self, index: int) -> Path:
        return self.path / FRAMES / f"{index:03d}.png"

    def frame_paths(self) -> list[Path]:
        """This run's frames in order (by number: past 999 the names grow a digit);
        other files in frames/ are not frames."""
        folder = self.path / FRAMES
        refuse_link(folder)   # truncate_after deletes what this lists
        if not folder.is_dir():
            return []
        return sorted((p for p in folder.iterdir() if FOLDERS[FRAMES].match(p.name)),
                      key=lambda p: int(p.stem))

    # --- what is there

    def _ours(self, folder: str) -> list[Path]:
        d = self.path / folder
        refuse_link(d)    # also here: clear() and present() never look through a link
        return [p for p in d.iterdir() if FOLDERS[folder].match(p.name)] if d.is_dir() else []

    def present(self) -> list[str]:
        """The run's own outputs that exist (folders only if they hold run files)."""
        return ([n for n in TRAINING_FILES + EVALUATION_FILES if (self.path / n).exists()]
                + [f for f in FOLDERS if self._ours(f)])

    def check_layout(self) -> None:
        """Each name a run writes is free or of the right kind (file or folder), and
        none is a symbolic link: a run writes, deletes and locks only inside its
        folder, never through a link (a shared or unpacked run folder could otherwise
        point a clear, a truncation or a lock at a user's files elsewhere)."""
        if self.path.exists() and not self.path.is_dir():
            raise UserError(f"run folder {self.path} exists and is not a folder; choose "
                            f"another --run-dir")
        resolved = self.path.resolve()
        if resolved == Path(resolved.anchor) or resolved == Path.home().resolve():
            raise UserError(f"--run-dir {self.path} is {resolved}, which a run would fill "
                            f"with its files; choose a folder of its own, e.g. "
                            f"{resolved / 'gan-run'}")
        for name in (*TRAINING_FILES, *EVALUATION_FILES, *FOLDERS, FolderLock.NAME):
            refuse_link(self.path / name)
        for name in FOLDERS:
            if (self.path / name).exists() and not (self.path / name).is_dir():
                raise UserError(f"{self.path / name} is a file, but a run keeps its {name} "
                                f"in a folder of that name; move the file away")
        for name in TRAINING_FILES + EVALUATION_FILES:
            if (self.path / name).is_dir():
                raise UserError(f"{self.path / name} is a folder, but a run writes a file "
                                f"of that name there; move the folder away")

    def describe(self) -> str | None:
        """A one-phrase summary if the folder holds (part of) a run, else None."""
        present = self.present()
        if not present:
            return None
        where = ""
        if (self.path / CHECKPOINT).is_file():
            try:
                where = f", checkpoint at iteration {self.checkpoint_iteration()}"
            except UserError:
                where = ", unreadable checkpoint"
        return f"{', '.join(present)}{where}"

    def check_new(self, overwrite: bool) -> None:
        """Refuse to start a new run over an existing one unless told to overwrite."""
        self.check_layout()
        existing = self.describe() if self.path.is_dir() else None
        if existing and not overwrite:
            raise UserError(f"{self.path} already holds a run ({existing}); add --resume "
                            f"to continue it, --overwrite to replace it, or choose another "
                            f"--run-dir (with make: ARGS=--resume or ARGS=--overwrite)")

    # --- life cycle: only under the lock

    @contextlib.contextmanager
    def locked(self):
        """Hold the folder's lock (creating the folder) for the block. A second process
        is refused in one line. A folder this call created is removed again if the
        block left nothing in it (a refused start writes nothing)."""
        self.check_layout()
        with files.locked(self.path):
            yield self

    @contextlib.contextmanager
    def held(self):
        """The lock of a run folder that a command reads and adds its files to (evaluate,
        latent, vae_likelihood), for the whole command: it is refused while the run
        trains or another such command writes there, and a training is refused while
        it runs. A folder that does not exist is not created: the reads in the block
        say in one line what is missing. Unlike locked(), the training layout is not
        checked: an evaluation reads only what it needs (a `frames` that is a file is
        a damaged training, not a damaged generator), and it writes its files by
        atomic rename, which replaces a link rather than writing through it."""
        if not self.path.is_dir():
            yield self
            return
        with files.locked(self.path, flag=None):   # these commands take the folder itself
            yield self

    def clear(self) -> None:
        """Remove a previous run's own files, its evaluation's, and temporaries; never
        anything else (other runs, or a user's files, may be inside)."""
        for name in TRAINING_FILES + EVALUATION_FILES:
            p = self.path / name
            if p.is_file() or p.is_symlink():
                p.unlink()
        for name in FOLDERS:
            for p in self._ours(name):
                p.unlink()
            with contextlib.suppress(OSError):   # kept if the user's files are inside
                (self.path / name).rmdir()
        self.remove_temporaries()

    def remove_temporaries(self) -> list[Path]:
        refuse_link(self.path / FRAMES)
        return remove_temporaries(self.path) + remove_temporaries(self.path / FRAMES)

    def truncate_after(self, iteration: int, snapshot_every: int) -> None:
        """Drop the stats records and frames past `iteration` (a resume redoes them)."""
        keep = [r for r in self.read_stats() if r["iter"] <= iteration]
        if (self.path / STATS).exists():
            atomic_write_text(self.path / STATS, "".join(json.dumps(r) + "\n" for r in keep))
        for p in self.frame_paths():
            if int(p.stem) * snapshot_every > iteration:
                p.unlink()

    # --- config

    def has_config(self) -> bool:
        return (self.path / CONFIG).is_file()

    def read_config(self, resuming: bool = False):
        """The run's Config; a one-line error for a missing, unreadable, non-JSON or
        invalid config.json. `resuming`: the train command's --resume asks (a missing
        config is then "nothing to resume", with its fixes); otherwise a command that
        reads runs was given a folder the train command did not write."""
        path = self.path / CONFIG
        if not (path.exists() or path.is_symlink()):
            if resuming:
                raise UserError(f"nothing to resume: {path} does not exist (start a new run "
                                f"without --resume, or replace what is there with "
                                f"--overwrite instead of --resume)")
            raise UserError(f"{self.path} is not a run folder of the train command ({path} "
                            f"does not exist): give the folder a run was trained into "
                            f"(python -m gan_tf.train --run-dir DIR)")
        values = reading.read_json(path, _FIX, holding=" of config keys",
                                   limit=CONFIG_LIMIT)
        try:
            return Config.from_dict(values)
        except UserError as e:
            raise UserError(f"{path}: {e}; {_FIX}") from None

    def dataset(self) -> str:
        """The dataset the run trained on: its images and classifier are the yardstick
        (MNIST for a folder without config.json, such as a bare generator)."""
        return self.read_config().dataset if self.has_config() else "mnist"

    def split(self) -> str:
        """The data split the run trained on ('tutorial' or 'paper'): its validation
        images choose the Parzen sigma."""
        return self.read_config().split if self.has_config() else "tutorial"

    def write_config(self, cfg) -> None:
        atomic_write_text(self.path / CONFIG, cfg.to_json())

    # --- stats

    def read_stats(self) -> list[dict]:
        """All records of stats.jsonl. A last line cut short by a kill is skipped;
        any other line that is not a record is a one-line error."""
        path = self.path / STATS
        if not path.exists():
            return []
        lines = reading.read_bytes(path, "delete it, or start the run again with "
                                   "--overwrite", STATS_LIMIT).decode(
            "utf-8", errors="replace").splitlines()
        records = []
        for n, line in enumerate(lines, 1):
            try:
                r = json.loads(line)
            except json.JSONDecodeError:
                if n == len(lines):
                    break           # torn by a kill mid-write: the window is redone
                r = line
            except (ValueError, RecursionError):   # 5,000-digit numbers, 100,000 brackets
                r = line
            if not _is_record(r) or reading.depth(r) > reading.JSON_DEPTH:
                raise UserError(f"{path} line {n} is not a stats record ({line[:60]!r}): "
                                f"each line is an object with an integer 'iter' and numbers "
                                f"'d_loss', 'g_loss' (a VAE's: 'neg_elbo', 'reconstruction', "
                                f"'kl'); delete that line or the file")
            records.append(r)
        return records

    # --- checkpoint

    def has_checkpoint(self) -> bool:
        return (self.path / CHECKPOINT).is_file()

    def read_checkpoint(self) -> dict:
        """The checkpoint's arrays by name, with a valid 'iteration' (an int)."""
        path = self.path / CHECKPOINT
        reading.check_file(path, _FIX, CHECKPOINT_LIMIT)
        try:
            z = np.load(path, allow_pickle=False)
            if not isinstance(z, np.lib.npyio.NpzFile):
                raise ValueError("not an .npz archive of named arrays")
            with z:
                # The arrays' sizes as the zip declares them, before any is read: a
                # compressed member can unpack to far more than the file's own size.
                declared = sum(i.file_size for i in z.zip.infolist())
                if declared > CHECKPOINT_LIMIT:
                    raise ValueError(f"its arrays would unpack to {declared:,} bytes")
                arrays = {k: z[k] for k in z.files}
        except Exception as e:   # zip, npy and pickle-refusal errors all mean the same
            raise UserError(f"checkpoint {path} is unreadable "
                            f"({reading.exception_line(e, 80)}); {_FIX}") from None
        it = arrays.get("iteration")
        if it is None or it.shape != () or not np.issubdtype(it.dtype, np.integer) \
                or int(it) < 0:
            raise UserError(f"checkpoint {path} has no valid 'iteration' (a non-negative "
                            f"integer), got {it!r}; {_FIX}")
        arrays["iteration"] = int(it)
        return arrays

    def checkpoint_iteration(self) -> int:
        return self.read_checkpoint()["iteration"]

    def save_checkpoint(self, arrays: dict) -> None:
        def write(tmp):
            with open(tmp, "wb") as f:
                np.savez(f, **arrays)
                f.flush()
                os.fsync(f.fileno())
        atomic_save(self.path / CHECKPOINT, write)

    # --- the finished run

    def load_generator(self, name: str = GENERATOR, uniform_z: bool = True):
        """The final generator (or another of GENERATORS); a one-line error if it is
        missing or damaged. `uniform_z`: see read_generator."""
        path = self.path / name
        if not path.is_file():
            if not self.has_config():
                raise UserError(f"no generator at {path}: {self.path} holds no run (train "
                                f"one with python -m gan_tf.train --run-dir {self.path})")
            raise UserError(f"no generator at {path}: is {self.path} a finished run? "
                            f"(finish it with python -m gan_tf.train --resume --run-dir "
                            f"{self.path})")
        return read_generator(path, "finish the run again with --resume, or retrain it",
                              uniform_z)

    def load_vae(self):
        """(cfg, E, decoder, G) of a finished VAE run, weights from its checkpoint."""
        cfg = self.read_config()
        if cfg.family != "vae":
            raise UserError(f"{self.path} holds a GAN, not a VAE (config.json says "
                            f"family {cfg.family!r})")
        if not self.has_checkpoint():
            raise UserError(f"{self.path} has no checkpoint: train it first")
        ck = self.read_checkpoint()
        if ck["iteration"] != cfg.iters:
            raise UserError(f"{self.path} stopped at iteration {ck['iteration']:,} of "
                            f"{cfg.iters:,}; finish it with --resume")
        # lazy: models.vae brings TensorFlow; the benchmarks' PyTorch worker imports this
        # module (studies/benchmarks/bench.py: RunFolder) and must not have it loaded
        from gan_tf.models.vae import vae_from_checkpoint
        return (cfg, *vae_from_checkpoint(cfg, ck, self.path))

    def write_generator_info(self, iteration: int, name: str = GENERATOR,
                             info: dict | None = None) -> None:
        """NAME.json for the NAME.keras now in the folder (written after it: a kill
        between the two leaves a NAME.json whose hash no longer matches, which
        generator_info() then ignores), with `info` beside the iteration."""
        digest = _sha256(self.path / name)
        atomic_write_text((self.path / name).with_suffix(".json"),
                          json.dumps({"iteration": int(iteration), "sha256": digest,
                                      **(info or {})}) + "\n")

    def generator_info(self, name: str = GENERATOR) -> dict | None:
        """NAME.json of NAME.keras if it belongs to it (its hash matches), else None."""
        info_path, path = (self.path / name).with_suffix(".json"), self.path / name
        if info_path.is_file() and path.is_file():
            try:
                info = reading.read_json(info_path, "", limit=GENERATOR_INFO_LIMIT)
                if info["sha256"] == _sha256(path) and type(info["iteration"]) is int:
                    return info
            except (UserError, TypeError, KeyError):
                pass   # damaged: as if absent
        return None

    def generator_iteration(self) -> int | None:
        """The iteration generator.keras was saved at: generator.json's, if it belongs
        to this generator.keras (its hash matches); else, for runs from before
        generator.json, finished_iteration(); None if the folder cannot tell."""
        info = self.generator_info()
        if info is not None:
            return info["iteration"]
        try:
            return self.finished_iteration()
        except UserError:
            return None

    def finished_iteration(self) -> int | None:
        """The iteration generator.keras was saved at, if the folder tells: a finished
        run's checkpoint is at its config's iters. None for a run resumed to more
        iterations and not finished again (its generator is the earlier one)."""
        if not (self.has_config() and self.has_checkpoint()):
            return None
        it = self.checkpoint_iteration()
        return it if it == self.read_config().iters else None


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def read_generator(path: Path, fix: str, uniform_z: bool = True):
    """A generator saved as NAME.keras, loaded, or one line saying what is wrong with
    the file: missing, far too large, not a zip (a truncated copy: Keras itself says
    "File not found"), lacking the Keras archive's parts, or holding code that Keras'
    safe mode refuses to run (a Lambda layer, a pickled function). With `uniform_z`, a
    portable file whose z is N(0, I) (`z_normal`: its erfinv front dropped) gets the
    front back (models/portable.uniform_front), so it takes U(-1, 1) z as every G in
    gan_tf does; without, the file's own model (what export writes)."""
    path = Path(path)
    reading.check_file(path, fix, GENERATOR_LIMIT)
    if not zipfile.is_zipfile(path):
        raise UserError(f"{path} is not a Keras model file (not a zip archive: truncated, "
                        f"or another kind of file); {fix}")
    try:
        with zipfile.ZipFile(path) as z:
            names = z.namelist()
            declared = sum(i.file_size for i in z.infolist())
            broken = z.testzip()   # every member's CRC: a cut or altered archive
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as e:
        raise UserError(f"{path} is a damaged zip archive ({reading.exception_line(e, 80)})"
                        f"; {fix}") from None
    missing = [n for n in ("config.json", "model.weights.h5") if n not in names]
    if broken or missing or declared > GENERATOR_LIMIT:
        why = (f"its member {broken} fails its checksum" if broken else
               f"it lacks {' and '.join(missing)}" if missing else
               f"its parts would unpack to {declared:,} bytes")
        raise UserError(f"{path} is not a whole Keras model file ({why}); {fix}")
    # lazy: models.networks brings TensorFlow (see load_vae)
    from gan_tf.models.networks import load_generator
    from gan_tf.models.portable import NotPortable, uniform_front
    families.register_layers()
    try:
        model = load_generator(path)
    except Exception as e:
        if "safe_mode" in str(e):
            raise UserError(f"{path} was refused: it holds code Keras would run on loading "
                            f"(a Lambda layer or a custom function), and gan-tf loads "
                            f"generators only in Keras' safe mode; {fix}") from None
        raise UserError(f"{path} is unreadable as a Keras model "
                        f"({reading.exception_line(e, 100)}); {fix}") from None
    try:
        return uniform_front(model) if uniform_z else model
    except NotPortable as e:     # takes z_normal, but its erfinv front's mark is gone
        raise UserError(f"{path} cannot take U(-1, 1) z ({e}); {fix}") from None


def _number(v) -> bool:
    return type(v) in (int, float)


def _is_record(r) -> bool:
    """A GAN's record (D and G loss) or a VAE's (-ELBO and its two terms)."""
    return (isinstance(r, dict) and type(r.get("iter")) is int and r["iter"] >= 0
            and (_number(r.get("d_loss")) and _number(r.get("g_loss"))
                 or all(_number(r.get(k)) for k in ("neg_elbo", "reconstruction", "kl"))))
