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
  * the logging window's sums, added to in iteration order.
Checkpoints and resume, snapshots, signals and tf.distribute's set-up are
training/run.py's, runs/' and distribute.py's. Everything else a driver is asked for
(its G, the frames' sampler, its state...) is its Steps', which it forwards.
"""

from __future__ import annotations

import tensorflow as tf


class Driver:
    """Runs a family's Steps in compiled chunks and counts the iterations."""

    def __init__(self, steps, cfg=None):
        self.steps = steps
        self.cfg = steps.cfg if cfg is None else cfg
        self.VALUES, self.LOSSES = steps.VALUES, steps.LOSSES
        self.VALUE_SHAPE = steps.VALUE_SHAPE
        self.iteration = tf.Variable(0, dtype=tf.int64, trainable=False, name="iteration")
        self._chunk = None

    def __getattr__(self, name):
        # What is not the driver's is the family's: its models, optimizers, batches,
        # state, generators and report lines (run.py and the tests ask for them here).
        if name == "steps":
            raise AttributeError(name)
        return getattr(self.steps, name)

    def _chunk_body(self, n, sums):
        # Every iteration runs through the same loop body (none is peeled off to
        # report the first one's values) and the trip count is a tensor: one program
        # serves every chunk length, so where chunks start and end, and so where a run
        # was stopped and resumed, cannot change a single bit of the training.
        # Every value is a scalar, or one per seed for a stack of seeds (stack.py).
        # `sums` are the logging window's sums so far, which this chunk goes on adding
        # to: a window's sum is then one float32 addition after another in iteration
        # order, wherever its chunks end (summing each chunk from zero and adding the
        # chunks' sums made a window's mean follow the chunk lengths, which follow the
        # machine's speed and where a run was resumed).
        t0 = self.iteration.read_value()
        zero = tf.zeros(self.VALUE_SHAPE)
        first = {k: zero for k in self.VALUES}
        bad = -tf.ones(self.VALUE_SHAPE, tf.int64)
        bad_losses = tf.zeros((len(self.LOSSES),) + self.VALUE_SHAPE)
        i = tf.constant(0, tf.int64)
        # A while, not `for i in tf.range(steps)`: autograph gives that loop a
        # maximum_iterations, which XLA must know when compiling, so every chunk
        # length compiled anew (2.4 s each on this CPU).
        while i < n:
            t = t0 + i
            out = self.steps.step(t)
            first = {k: tf.where(i == 0, out[k], first[k]) for k in self.VALUES}
            sums = {k: sums[k] + out[k] for k in self.VALUES}
            losses = tf.stack([out[k] for k in self.LOSSES])
            newly_bad = (bad < 0) & ~tf.reduce_all(tf.math.is_finite(losses), axis=0)
            bad = tf.where(newly_bad, t, bad)
            bad_losses = tf.where(newly_bad, losses, bad_losses)
            i += 1
        self.iteration.assign(t0 + n)
        return {"first": first, "sums": sums, "first_bad_iteration": bad,
                "first_bad_losses": bad_losses}

    def _one_device(self) -> bool:
        return getattr(self.steps, "strategy", None) is None

    def chunk(self, steps: int, sums: dict | None = None) -> dict:
        """Run `steps` iterations. Returns numpy scalars: the first iteration's values
        ('first'), `sums` (the values' sums over earlier chunks of a logging window;
        None: none) plus their sums over this chunk ('sums'), and the first iteration
        whose loss was NaN or Inf ('first_bad_iteration', -1 if none) with its LOSSES
        ('first_bad_losses')."""
        if self._chunk is None:
            # XLA compiles one device's program; under a strategy (whose all-reduce
            # spans devices) the chunk runs as a TF graph. Compiling each replica's
            # forward and backward pass alone was tried: 16% slower on 2 logical CPUs.
            spec = tf.TensorSpec(self.VALUE_SHAPE, tf.float32)
            self._chunk = tf.function(self._chunk_body,
                                      input_signature=[tf.TensorSpec([], tf.int64),
                                                       {k: spec for k in self.VALUES}],
                                      jit_compile=self.cfg.xla and self._one_device())
        if steps < 1:
            raise ValueError(f"a chunk runs at least one iteration, got {steps}")
        if sums is None:
            sums = {k: tf.zeros(self.VALUE_SHAPE) for k in self.VALUES}
        sums = {k: tf.constant(sums[k], tf.float32) for k in self.VALUES}
        return tf.nest.map_structure(lambda v: v.numpy(),
                                     self._chunk(tf.constant(steps, tf.int64), sums))
