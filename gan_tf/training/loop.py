"""The compiled training loop: many tutorial iterations per call, all on the device.

One iteration is exactly the tutorial's: a D step (Adam) on a real minibatch and
a fresh z batch, then a G step (Adam) on another fresh z batch.

What makes it fast without changing the math:
  * the training set lives on the device as uint8; minibatches are gathered there,
  * `chunk(n)` runs n iterations inside one tf.function (a graph while-loop),
    optionally compiled by XLA, so Python runs once per n iterations,
  * no host<->device copies inside the loop; a chunk returns a few scalars.

Every random number is a pure function of (seed, stream, counter) (streams.py), so
the only state to checkpoint is the weights, the optimizers and the iteration
counter: a resumed run draws exactly the numbers the uninterrupted run would have
drawn. `build.build_trainer` makes a Trainer (or the VAE's) for a Config.

The seam. What a model family changes is asked of its family object
(gan_tf/families/): the networks, the losses, `d_logits` (D on a batch), a
penalty on D's gradients, what follows D's update, and what D's outputs report. What a
different *loop* changes is a public method of Trainer that a subclass overrides,
each traced into the compiled loop body:
  batch(b), z_batch(stream, counter)   the data and the noise of draw b
                                       (the seed stack: one slice per seed)
  d_step(x, y, z, b), g_step(z, y, t)  one update of D, of G (the seed stack: each
                                       seed's loss on its own slice)
  joint_step(t)                        both from one pass (update 'simultaneous')
  step(t)                              one whole iteration (the VAE's trainer: its
                                       ELBO step)
and state() names what a checkpoint holds.
"""

from __future__ import annotations

import tensorflow as tf

from gan_tf import families
from gan_tf.models.networks import NUM_CLASSES
from gan_tf.runs.folder import SEED_STATE
from gan_tf.training.streams import (
    STREAM_DROP_FAKE,
    STREAM_DROP_G,
    STREAM_DROP_REAL,
    STREAM_Z_D,
    STREAM_Z_G,
    VALUES,
    epoch_permutation,
    interpolation_weights,
    sample_z,
    stream_seed,
)


class Trainer:
    """Owns the compiled chunk of iterations and the iteration counter.

    Batches follow TF1's `DataSet.next_batch` exactly: the data are visited in a
    shuffled order; a batch that crosses the end of an epoch takes the rest of the
    old order and the start of the next epoch's order. Sample k of iteration t is
    global index g = t*B + k: epoch g // N, position g % N.
    """
    # What one iteration reports, and the losses checked for NaN and Inf.
    VALUES = VALUES
    LOSSES = ("d_loss", "g_loss")
    VALUE_SHAPE = ()    # each value is one number (a stack of seeds has one per seed)
    # No moving average or best G unless __init__ is given them (the VAE's trainer,
    # a subclass, never is).
    G_ema = G_best = None

    def __init__(self, G, D, g_opt, d_opt, loss_fns, cfg, train_images, train_labels=None,
                 strategy=None, G_ema=None, G_best=None):
        """Under a tf.distribute `strategy`, create G, D, the optimizers and this
        Trainer inside strategy.scope(). `G_ema` (cfg.g_ema) and `G_best`
        (cfg.eval_every) are models of G's architecture that hold the moving average
        of G's weights and the best G measured so far; both start as G."""
        self.G, self.D, self.g_opt, self.d_opt = G, D, g_opt, d_opt
        self.G_ema, self.G_best = G_ema, G_best
        for copy in (G_ema, G_best):
            if copy is not None:
                copy.set_weights(G.get_weights())
        # The best G's validation Frechet distance and iteration (-1: none yet); kept in
        # the checkpoint, so a resumed run knows what it has to beat.
        # (Keras variables, as the models' are: their dtype reads as NumPy's.)
        import keras
        self.best_fd = keras.Variable(float("inf"), dtype="float64", trainable=False,
                                      name="best_frechet_distance")
        self.best_iteration = keras.Variable(-1, dtype="int64", trainable=False,
                                             name="best_iteration")
        self.strategy = strategy
        self.replicas = 1 if strategy is None else strategy.num_replicas_in_sync
        self.d_loss_fn, self.g_loss_fn = loss_fns
        self._init_data(cfg, train_images, train_labels)
        # Keras optimizers create their slots lazily; build them now so a checkpoint
        # can be restored into them before the first step.
        d_opt.build(D.trainable_variables)
        g_opt.build(G.trainable_variables)

    def _init_data(self, cfg, train_images, train_labels):
        """The training set on the device, the iteration counter, the epoch cache:
        what _batch and _chunk_body need (the VAE's trainer shares them)."""
        self.cfg = cfg
        self.family = families.get(cfg)
        self.images = tf.constant(train_images, tf.uint8)     # (N, 784), on the device
        self.n = int(train_images.shape[0])
        self.labels = None
        if cfg.conditional:
            if train_labels is None or len(train_labels) != self.n:
                raise ValueError("a conditional GAN needs one label per training image")
            self.labels = tf.constant(train_labels, tf.int32)
        if self.n < cfg.batch_size:
            raise ValueError(f"batch_size {cfg.batch_size} exceeds the {self.n} images")
        self.iteration = tf.Variable(0, dtype=tf.int64, trainable=False, name="iteration")
        # A cache of the two epoch orders the current batch can touch; derived from
        # (seed, epoch), so it is rebuilt rather than checkpointed.
        self._cached_epoch = tf.Variable(-1, dtype=tf.int64, trainable=False)
        self._perm_a = tf.Variable(tf.zeros([self.n], tf.int32), trainable=False)
        self._perm_b = tf.Variable(tf.zeros([self.n], tf.int32), trainable=False)
        self._chunk = None

    def describe(self, values: dict) -> str:
        """The 'Iter:' line's losses."""
        return f"D loss: {values['d_loss']:.4}  G loss: {values['g_loss']:.4}"

    # --- one iteration, traced into the loop body

    def batch(self, b):
        """Minibatch number b (iteration t's D step j is b = t * d_steps + j): images in
        G's output range and, for a conditional GAN, their one-hot labels (else None)."""
        cfg, n = self.cfg, self.n
        g = b * cfg.batch_size + tf.range(cfg.batch_size, dtype=tf.int64)
        epoch0 = (b * cfg.batch_size) // n
        if tf.not_equal(epoch0, self._cached_epoch):
            self._perm_a.assign(epoch_permutation(cfg.seed, epoch0, n))
            self._perm_b.assign(epoch_permutation(cfg.seed, epoch0 + 1, n))
            self._cached_epoch.assign(epoch0)
        pos = tf.cast(g % n, tf.int32)
        idx = tf.where(g // n == epoch0, tf.gather(self._perm_a, pos),
                       tf.gather(self._perm_b, pos))
        x = tf.cast(tf.gather(self.images, idx), tf.float32) / 255.0
        x = x * 2.0 - 1.0 if cfg.g_output == "tanh" else x   # G's output range
        y = None if self.labels is None else tf.one_hot(tf.gather(self.labels, idx),
                                                              NUM_CLASSES)
        return x, y

    def z_batch(self, stream, counter):
        """The z batch number `counter` of `stream`."""
        return sample_z(self.cfg.seed, stream, counter, self.cfg.batch_size, self.cfg.z_dim)

    # A conditional GAN's models take [input, one-hot label].
    def _g(self, z, y):
        return self.G(z if y is None else [z, y], training=True)

    def _d(self, x, y, dropout=None, z=None):
        """D's logits in training mode, through the family's hook; `dropout` (stream,
        counter) seeds the dropout masks of a D that has them (family 'maxout' with
        d_keep); `z`, for fakes, is the noise G drew them from."""
        seed = None if dropout is None else stream_seed(self.cfg.seed, *dropout)
        return self.family.d_logits(self.D, x, y, seed, z)

    def step(self, t):
        cfg = self.cfg
        if cfg.update == "simultaneous":
            return self._replicated(self.joint_step, t)
        k = cfg.d_steps
        # k D steps (Algorithm 1's k; the tutorial's is 1), each on its own minibatch
        # and z; the values reported are the last step's. Steps after the first run
        # in a graph loop, so tracing (and a stop request's wait) does not grow with k.
        d, z, y = self.d_step_at(t * k)
        if k > 1:
            labels = () if y is None else (y,)   # a loop carries tensors, never None

            def body(j, d, z, *_):
                d, z, y = self.d_step_at(t * k + j)
                return (j + 1, d, z) + (() if y is None else (y,))
            _, d, z, *labels = tf.while_loop(lambda j, *_: j < k, body,
                                             (tf.constant(1, tf.int64), d, z) + labels)
            y = labels[0] if labels else None
        # G step through the just-updated D, on a fresh z batch (the first tutorial)
        # or on the last D step's z (same_z, the second tutorial); a cGAN keeps the
        # last D step's labels.
        if not cfg.same_z:
            z = self.z_batch(STREAM_Z_G, t)
        g = self._replicated(self.g_step, z, y, t)
        self._average_g(t)
        return {**d, **g}

    def _average_g(self, t):
        """G_ema <- decay G_ema + (1 - decay) G after G's update t, every weight
        (batch norm's moving statistics too), with the warm-up of TensorFlow's
        ExponentialMovingAverage(num_updates): decay min(g_ema, (1 + n) / (10 + n)) at
        the n-th update, so the average forgets the initial weights within the first
        few hundred updates instead of carrying them for 1 / (1 - decay)."""
        if self.G_ema is None:
            return
        n = tf.cast(t + 1, tf.float32)
        decay = tf.minimum(tf.constant(self.cfg.g_ema, tf.float32), (1.0 + n) / (10.0 + n))
        for e, w in zip(self.G_ema.weights, self.G.weights):
            e.assign(decay * e + (1.0 - decay) * w)

    def d_step_at(self, b):
        """D step on minibatch b: its values, and the z and labels (or None) it used."""
        z = self.z_batch(STREAM_Z_D, b)
        x, y = self.batch(b)
        return self._replicated(self.d_step, x, y, z, b), z, y

    # --- the generators the run reports

    @property
    def sampler(self):
        """The G that draws the frames and is measured for generator-best: the moving
        average where there is one."""
        return self.G if self.G_ema is None else self.G_ema

    def generators(self) -> dict:
        """The generators eval_every measures, by the prefix of their stats keys."""
        return {"": self.G, **({"ema_": self.G_ema} if self.G_ema is not None else {})}

    def keep_if_best(self, fd, it: int) -> bool:
        """Copy the sampler into G_best if `fd` (its validation Frechet distance at
        iteration `it`) is below the best so far; NaN never is."""
        if self.G_best is None or fd is None or not fd < float(self.best_fd.numpy()):
            return False
        for b, w in zip(self.G_best.weights, self.sampler.weights):
            b.assign(w)
        self.best_fd.assign(fd)
        self.best_iteration.assign(it)
        return True

    def extra_generators(self) -> dict:
        """The generators saved beside generator.keras: file name -> (model, info)."""
        out = {}
        if self.G_ema is not None:
            out["generator-ema.keras"] = (self.G_ema, {"g_ema": self.cfg.g_ema})
        if self.G_best is not None and int(self.best_iteration.numpy()) >= 0:
            out["generator-best.keras"] = (self.G_best, {
                "iteration": int(self.best_iteration.numpy()),
                "val_frechet_distance": float(self.best_fd.numpy()),
                "of": "generator-ema" if self.G_ema is not None else "generator"})
        return out

    def joint_step(self, t):
        """The GAN paper's code (adversarial/__init__.py, AdversaryCost2): one pass
        makes the samples S = G(z) and D's outputs on the real batch and on S, each
        through its own dropout masks; D's objective and G's are both taken from
        those outputs (no_drop_in_d_for_g False: G's uses the dropped-out pass), and
        both nets' gradients are applied in the same update, so neither sees the
        other's step (get_gradients returns d_grads and g_grads together)."""
        x, y = self.batch(t)
        z = self.z_batch(STREAM_Z_D, t)
        d_vars, g_vars = self.D.trainable_variables, self.G.trainable_variables
        with tf.GradientTape(persistent=True) as tape:
            real_logits = self._d(x, y, (STREAM_DROP_REAL, t))
            fake_logits = self._d(self._g(z, y), y, (STREAM_DROP_FAKE, t), z)
            d_loss = self.cfg.d_loss_scale * self.d_loss_fn(real_logits, fake_logits)
            g_loss = self.g_loss_fn(fake_logits)
        d_grads = tape.gradient(d_loss, d_vars)
        g_grads = tape.gradient(g_loss, g_vars)
        del tape
        self.d_opt.apply(d_grads, d_vars)
        self.g_opt.apply(g_grads, g_vars)
        return {"d_loss": d_loss, "d_real": tf.reduce_mean(tf.sigmoid(real_logits)),
                "d_fake": tf.reduce_mean(tf.sigmoid(fake_logits)), "g_loss": g_loss,
                "g_grad_norm": tf.linalg.global_norm(g_grads)}

    def d_step(self, x, y, z, b):
        x, y, z = self._local(x), self._local(y), self._local(z)
        # G's output is an input here, so no gradient flows into G. A cGAN's fakes
        # are drawn for the real batch's labels, as the cGAN tutorial feeds one y_mb.
        fake = self._g(z, y)
        # Real and fake go through D as separate batches (so batch norm, in the
        # DCGAN, normalises each on its own, as the DCGAN authors did).
        with tf.GradientTape() as tape:
            real_logits = self._d(x, y, (STREAM_DROP_REAL, b))
            fake_logits = self._d(fake, y, (STREAM_DROP_FAKE, b), z)
            d_loss = self.cfg.d_loss_scale * self.d_loss_fn(real_logits, fake_logits)
            if self.family.penalised(self.cfg):
                # A term on D's gradients (WGAN-GP), so it sees D, not only its outputs.
                eps = self._local(interpolation_weights(self.cfg.seed, b,
                                                        self.cfg.batch_size))
                d_loss += self.family.d_penalty(self.cfg, lambda v: self._d(v, y), x, fake,
                                                eps)
            d_loss = self._replica_share(d_loss)
        d_vars = self.D.trainable_variables
        self.d_opt.apply(tape.gradient(d_loss, d_vars), d_vars)
        self.family.after_d_update(self.cfg, self.D)   # the WGAN's weight clipping
        return {"d_loss": d_loss, **self.family.d_means(real_logits, fake_logits)}

    def g_step(self, z, y, t):
        z, y = self._local(z), self._local(y)
        with tf.GradientTape() as tape:
            logits = self._d(self._g(z, y), y, (STREAM_DROP_G, t), z)
            g_loss = self._replica_share(self.g_loss_fn(logits))
        g_vars = self.G.trainable_variables
        grads = tape.gradient(g_loss, g_vars)
        self.g_opt.apply(grads, g_vars)
        if self.replicas > 1:   # the norm of the summed (global-batch) gradient
            grads = tf.distribute.get_replica_context().all_reduce(
                tf.distribute.ReduceOp.SUM, grads)
        return {"g_loss": g_loss, "g_grad_norm": tf.linalg.global_norm(grads)}

    # --- tf.distribute: the same algorithm on N replicas (see gan_tf/distribute.py)

    def _local(self, t):
        """This replica's slice of a global batch (the whole batch on one device)."""
        if t is None or self.replicas == 1:
            return t
        n = self.cfg.batch_size // self.replicas
        r = tf.distribute.get_replica_context().replica_id_in_sync_group
        return t[r * n:(r + 1) * n]

    def _replica_share(self, loss):
        # Keras' optimizer *sums* the replicas' gradients: each replica's mean over its
        # equal slice, divided by N, makes the sum the global batch's mean.
        return loss if self.replicas == 1 else loss / self.replicas

    def _replicated(self, step, *args):
        """step(*args) on every replica; losses summed (see _replica_share), the other
        values (means over equal slices, or equal everywhere) averaged."""
        if self.strategy is None:
            return step(*args)
        out = self.strategy.run(step, args=args)
        sum_, mean = tf.distribute.ReduceOp.SUM, tf.distribute.ReduceOp.MEAN
        return {k: self.strategy.reduce(sum_ if k.endswith("_loss") else mean, v, axis=None)
                for k, v in out.items()}

    def _chunk_body(self, steps, sums):
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
        while i < steps:
            t = t0 + i
            out = self.step(t)
            first = {k: tf.where(i == 0, out[k], first[k]) for k in self.VALUES}
            sums = {k: sums[k] + out[k] for k in self.VALUES}
            losses = tf.stack([out[k] for k in self.LOSSES])
            newly_bad = (bad < 0) & ~tf.reduce_all(tf.math.is_finite(losses), axis=0)
            bad = tf.where(newly_bad, t, bad)
            bad_losses = tf.where(newly_bad, losses, bad_losses)
            i += 1
        self.iteration.assign(t0 + steps)
        return {"first": first, "sums": sums, "first_bad_iteration": bad,
                "first_bad_losses": bad_losses}

    # --- the public entry point

    def state(self) -> dict:
        """Every variable a checkpoint holds, by a name that does not depend on the
        order or count of models built before (Keras numbers optimizers adam, adam_1,
        ...): G/<layer>/<weight>, D/..., g_opt/<slot>, d_opt/<slot>."""
        named = {}
        models = (("G", self.G), ("D", self.D), ("G_ema", self.G_ema), ("G_best", self.G_best))
        for key, model in models:
            if model is not None:
                named.update({f"{key}/{v.path}": v for v in model.weights})
                # A Keras Dropout's random state (TensorFlow's DCGAN tutorial's D):
                # without it a resumed run would draw its masks from the start again.
                named.update({f"{key}/{layer.name}/{SEED_STATE}": layer.seed_generator.state
                              for layer in model.layers
                              if getattr(layer, "seed_generator", None) is not None})
        for key, opt in (("g_opt", self.g_opt), ("d_opt", self.d_opt)):
            named.update({f"{key}/{v.path.split('/', 1)[-1]}": v for v in opt.variables})
        if self.G_best is not None:
            named.update({"best/frechet_distance": self.best_fd,
                          "best/iteration": self.best_iteration})
        return named

    def legacy_state(self) -> dict:
        """The same variables as checkpoints before 2026-11 listed them: by position."""
        lists = {"G": self.G.weights, "D": self.D.weights, "g_opt": self.g_opt.variables,
                 "d_opt": self.d_opt.variables}
        return {f"{k}/{i:03d}": v for k, vs in lists.items() for i, v in enumerate(vs)}

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
                                      jit_compile=self.cfg.xla and self.strategy is None)
        if steps < 1:
            raise ValueError(f"a chunk runs at least one iteration, got {steps}")
        if sums is None:
            sums = {k: tf.zeros(self.VALUE_SHAPE) for k in self.VALUES}
        sums = {k: tf.constant(sums[k], tf.float32) for k in self.VALUES}
        return tf.nest.map_structure(lambda v: v.numpy(),
                                     self._chunk(tf.constant(steps, tf.int64), sums))


def make_optimizer(cfg, steps_per_epoch: int = 1, role: str = "generator"):
    """Adam with the TF1 defaults the tutorial used (Keras' own epsilon is 1e-7), or
    SGD with momentum as in the GAN paper, with its code's schedules if cfg has them
    (an epoch, for the momentum's, is `steps_per_epoch` updates). The
    'discriminator''s learning rate is cfg.d_lr where that is set (the two
    time-scale rule), else cfg.lr as G's."""
    import dataclasses
    if role == "discriminator" and getattr(cfg, "d_lr", 0.0):
        cfg = dataclasses.replace(cfg, lr=cfg.d_lr)
    if cfg.optimizer == "sgd":
        from gan_tf.training.schedules import sgd
        return sgd(cfg, steps_per_epoch)
    if cfg.optimizer == "rmsprop":
        # The WGAN authors' torch.optim.RMSprop (martinarjovsky/WassersteinGAN, main.py):
        # decay 0.99, no momentum, epsilon 1e-8 (Keras adds it inside the square root,
        # PyTorch outside: a difference only for gradients below 1e-4).
        import keras
        return keras.optimizers.RMSprop(learning_rate=cfg.lr, rho=0.99, momentum=0.0,
                                        epsilon=1e-8)
    from gan_tf.training.optimizers import FusedAdam
    return FusedAdam(learning_rate=cfg.lr, beta_1=cfg.beta1, beta_2=cfg.beta2,
                     epsilon=cfg.adam_eps)
