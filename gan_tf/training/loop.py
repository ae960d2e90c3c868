"""The driver: compiles chunks of a family's training step, many iterations per call.

A family hands the driver its `Steps` (families/base.py): its models, optimizers
and `step(t)`, one whole iteration. The driver owns only what every run shares:
  * the iteration counter, the one piece of loop state a checkpoint adds to the
    family's variables,
  * `chunk(n)`: n iterations inside one tf.function (a graph while-loop), compiled
    by XLA where cfg.xla, so Python runs once per n iterations and nothing crosses
    between host and device inside it (the data live on the device,
    data/order.py; every random number is a pure function of (seed, stream,
    counter), data/streams.py),
  * the NaN watch: the first iteration whose losses were not finite, and those losses,
  * the logging windows' sums, added to in iteration order; one chunk may span
    several windows and returns all their sums,
  * one fetch a chunk: everything it returns comes back as one float64 array.
Two kinds of program (`fixed_length`):
  * on a CPU, one program serves every chunk length (the trip count is a tensor),
    so chunk sizes cost no compiling;
  * on a GPU, each chunk length is a program of its own whose trip count XLA knows
    when compiling, and the epoch orders a chunk reads are computed once at its
    start (data/order.py). XLA on a GPU decides a while-loop whose trip count it
    does not know, and a conditional, by copying the predicate to the host: a
    stop of the device at every iteration. The loop (training/run.py) then keeps to
    one chunk length a run, plus 1-iteration chunks to reach its grid.
Both give the same training, bit for bit (tests/test_loop.py).
Checkpoints and resume, snapshots, signals and tf.distribute's set-up are
training/run.py's, runs/' and distribute.py's. Everything else a driver is asked for
(its G, the frames' sampler, its state...) is its Steps', which it forwards.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

# The most logging windows one chunk spans; run.py sizes chunks to keep inside it.
WINDOWS_PER_CHUNK = 64
# A chunk that is given no window length sums all its iterations into one window.
NO_WINDOW = 2 ** 62


class Driver:
    """Runs a family's Steps in compiled chunks and counts the iterations."""

    # Every driver's choice of program where set (the tests set it to run a GPU's
    # fixed-length programs on this CPU); None: by the device.
    FIXED_LENGTH = None

    def __init__(self, steps, cfg=None, fixed_length: bool | None = None):
        """`fixed_length`: compile one program per chunk length with its trip count
        known (see the module's docstring); None: where TensorFlow sees a GPU."""
        self.steps = steps
        self.cfg = steps.cfg if cfg is None else cfg
        self.VALUES, self.LOSSES = steps.VALUES, steps.LOSSES
        self.VALUE_SHAPE = steps.VALUE_SHAPE
        self.iteration = tf.Variable(0, dtype=tf.int64, trainable=False, name="iteration")
        if fixed_length is None:
            fixed_length = (self.FIXED_LENGTH if self.FIXED_LENGTH is not None
                            else bool(tf.config.list_physical_devices("GPU")))
        self.fixed_length = fixed_length
        self._programs = {}    # chunk length (fixed_length) or None -> tf.function

    def __getattr__(self, name):
        # What is not the driver's is the family's: its models, optimizers, batches,
        # state, generators and report lines (run.py and the tests ask for them here).
        if name == "steps":
            raise AttributeError(name)
        return getattr(self.steps, name)

    @property
    def _chunk(self):
        """The compiled program of a one-program driver (None before the first chunk)."""
        return self._programs.get(None)

    def _chunk_body(self, n, sums, phase, window):
        # Every iteration runs through the same loop body (none is peeled off to
        # report the first one's values), so where chunks start and end, and so where
        # a run was stopped and resumed, cannot change a single bit of the training.
        # Every value is a scalar, or one per seed for a stack of seeds (stack.py).
        # `sums` are the sums so far of the logging window the chunk starts in,
        # `phase` iterations into it; each window's sum is then one float32 addition
        # after another in iteration order, wherever its chunks end (summing each
        # chunk from zero and adding the chunks' sums made a window's mean follow the
        # chunk lengths, which follow the machine's speed and where a run was resumed).
        t0 = self.iteration.read_value()
        if self.fixed_length:
            self.steps.begin_chunk(t0, n)      # the chunk's epoch orders, once
        K, shape = WINDOWS_PER_CHUNK, self.VALUE_SHAPE
        zero = tf.zeros(shape)
        first = {k: zero for k in self.VALUES}
        windows = {k: tf.concat([sums[k][None], tf.zeros((K - 1,) + shape)], 0)
                   for k in self.VALUES}
        starts = {k: tf.zeros((K,) + shape) for k in self.VALUES}
        slots = tf.reshape(tf.range(K, dtype=tf.int64), (K,) + (1,) * len(shape))
        bad = -tf.ones(shape, tf.int64)
        bad_losses = tf.zeros((len(self.LOSSES),) + shape)
        i = tf.constant(0, tf.int64)
        # A while, not `for i in tf.range(steps)`: autograph gives that loop a
        # maximum_iterations, which XLA must know when compiling, so every chunk
        # length compiled anew (2.4 s each on this CPU). With fixed_length, n is a
        # Python int and the bound a constant XLA reads the trip count from.
        while i < n:
            t = t0 + i
            out = self.steps.step(t)
            first = {k: tf.where(i == 0, out[k], first[k]) for k in self.VALUES}
            # This iteration's window: one row of `windows` adds it, the others
            # keep their bits (a where, not a one-hot product: NaN * 0 is NaN).
            at = tf.equal(slots, (phase + i) // window)
            opens = at & tf.equal((phase + i) % window, 0)
            windows = {k: tf.where(at, windows[k] + out[k], windows[k]) for k in self.VALUES}
            starts = {k: tf.where(opens, out[k], starts[k]) for k in self.VALUES}
            losses = tf.stack([out[k] for k in self.LOSSES])
            newly_bad = (bad < 0) & ~tf.reduce_all(tf.math.is_finite(losses), axis=0)
            bad = tf.where(newly_bad, t, bad)
            bad_losses = tf.where(newly_bad, losses, bad_losses)
            i += 1
        self.iteration.assign(t0 + n)
        if self.fixed_length:
            self.steps.end_chunk()
        # One array, fetched once: float64 holds every float32 and every iteration
        # number below 2**53 exactly.
        parts = ([first[k] for k in self.VALUES] + [windows[k] for k in self.VALUES]
                 + [starts[k] for k in self.VALUES] + [bad, bad_losses])
        return tf.concat([tf.reshape(tf.cast(p, tf.float64), [-1]) for p in parts], 0)

    def _one_device(self) -> bool:
        return getattr(self.steps, "strategy", None) is None

    def _program(self, steps: int):
        key = steps if self.fixed_length else None
        if key not in self._programs:
            # XLA compiles one device's program; under a strategy (whose all-reduce
            # spans devices) the chunk runs as a TF graph. Compiling each replica's
            # forward and backward pass alone was tried: 16% slower on 2 logical CPUs.
            spec = tf.TensorSpec(self.VALUE_SHAPE, tf.float32)
            scalar = tf.TensorSpec([], tf.int64)
            body = self._chunk_body if key is None else self._fixed_body(key)
            if key is not None:
                signature = [{k: spec for k in self.VALUES}, scalar, scalar]
            else:
                signature = [scalar, {k: spec for k in self.VALUES}, scalar, scalar]
            self._programs[key] = tf.function(
                body, input_signature=signature,
                jit_compile=self.cfg.xla and self._one_device())
        return self._programs[key]

    def _fixed_body(self, n: int):
        def body(sums, phase, window):
            return self._chunk_body(n, sums, phase, window)
        return body

    def chunk(self, steps: int, sums: dict | None = None, *, window: int | None = None,
              phase: int = 0) -> dict:
        """Run `steps` iterations, the first of them `phase` iterations into a logging
        window of `window` iterations (None: one window, the chunk) whose values
        summed so far are `sums` (None: none). Returns numpy values: the first
        iteration's ('first'); each window the chunk touched, in order, its values'
        sums ('windows', the first one's including `sums`) and, where the window
        opens inside the chunk, its first iteration's values ('opening'; None for the
        window it started in, unless phase is 0); the last window's sums ('sums');
        and the first iteration whose LOSSES were NaN or Inf ('first_bad_iteration',
        -1 if none) with those losses ('first_bad_losses')."""
        if steps < 1:
            raise ValueError(f"a chunk runs at least one iteration, got {steps}")
        w = NO_WINDOW if window is None else window
        touched = (phase + steps - 1) // w + 1
        if not 0 <= phase < w or touched > WINDOWS_PER_CHUNK:
            raise ValueError(f"a chunk of {steps} iterations from {phase} into a window "
                             f"of {w} spans more than {WINDOWS_PER_CHUNK} windows")
        if sums is None:
            sums = {k: tf.zeros(self.VALUE_SHAPE) for k in self.VALUES}
        sums = {k: tf.constant(sums[k], tf.float32) for k in self.VALUES}
        args = (sums, tf.constant(phase, tf.int64), tf.constant(w, tf.int64))
        if not self.fixed_length:
            args = (tf.constant(steps, tf.int64),) + args
        flat = self._program(steps)(*args).numpy()
        return self._unpack(flat, touched, phase)

    def _unpack(self, flat: np.ndarray, touched: int, phase: int) -> dict:
        shape, K = self.VALUE_SHAPE, WINDOWS_PER_CHUNK
        size = int(np.prod(shape, dtype=np.int64))
        pos = 0

        def take(count, s):
            nonlocal pos
            part = flat[pos:pos + count * size].reshape(s)
            pos += count * size
            return part

        first = {k: take(1, shape).astype(np.float32) for k in self.VALUES}
        windows = {k: take(K, (K,) + shape).astype(np.float32) for k in self.VALUES}
        starts = {k: take(K, (K,) + shape).astype(np.float32) for k in self.VALUES}
        bad = take(1, shape).astype(np.int64)
        bad_losses = take(len(self.LOSSES), (len(self.LOSSES),) + shape).astype(np.float32)
        rows = [{k: windows[k][j] for k in self.VALUES} for j in range(touched)]
        opening = [None if j == 0 and phase else {k: starts[k][j] for k in self.VALUES}
                   for j in range(touched)]
        if not shape:   # numpy scalars, as a scalar's values always were
            first = {k: v[()] for k, v in first.items()}
            bad = bad[()]
        return {"first": first, "windows": rows, "opening": opening, "sums": rows[-1],
                "first_bad_iteration": bad, "first_bad_losses": bad_losses}
