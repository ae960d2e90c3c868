"""Many seeds of one MLP GAN trained as one program: `SeedStack`.

The tutorials' MLP GANs are far too small to keep a machine busy: one iteration is a
few 128-row matmuls. A stack trains N seeds at once. Every weight and optimizer
slot gets a leading seed axis (a (784, 128) kernel becomes (N, 784, 128)), every
matmul becomes a batched matmul, one Adam updates all of them, and the whole
iteration (both steps for all N seeds) runs in the same compiled loop as a single
run (the driver of training/loop.py around the shared adversarial step of
families/adversarial.py, whose k D steps and same z this class reuses).

Nothing couples the seeds:
  * seed s starts from exactly the weights a single run with seed s builds (its own
    Keras models are built and copied in), and draws its own z streams and its own
    epoch orders of the data (the stateless streams of loop.py, keyed by its seed);
  * each seed's loss is computed on its own slice by the same loss function as a
    single run; the stack minimises their sum, whose gradient with respect to seed
    s's weights is seed s's own gradient;
  * Adam and SGD are elementwise, so one optimizer over the stacked variables is N
    independent optimizers, with the same step counter.
So seed s of a stack is the single run with seed s up to rounding: XLA sums some
reductions (bias gradients, the 1-unit output layer's) in another order over the
stacked arrays. A stack of one seed is bit-identical to the single run. With more,
after 100 iterations seeds 0 and 2 of mnist-basic are within 1e-6 of their single
runs, but seed 1 drifts 8e-4 away by iteration 100: at iteration 20 a weight of D
whose gradient nearly cancels gets a gradient 1% off, and Adam, which divides by
the gradient's own scale, turns that into a step 1e-5 off; the game amplifies it.
The same seed computed by TF's graph instead of XLA (xla=False) drifts by the same
8e-4. tests/test_sweep.py checks 1e-5 at 10 iterations for every seed and at 100
for seeds 0 and 2. A NaN in one seed stays in its slice.

Each seed keeps a set of Keras models and optimizers of its own (`SeedModels`, what
a single run builds). They hold nothing during training; `unstack()` copies the
stack's slices into them for a frame, a checkpoint or the saved generator, and
`restack()` copies them back after a resume, so a seed's run folder is exactly a
single run's and `gan_tf.train --resume` or `gan_tf.evaluate` work on it unchanged.
"""

from __future__ import annotations

import dataclasses

import keras
import numpy as np
import tensorflow as tf

from gan_tf import families
from gan_tf.core.config import MAX_SEEDS, flat_values
from gan_tf.core.errors import UserError
from gan_tf.runs.sweeps import seeds_text
from gan_tf.data.streams import epoch_permutation, sample_z
from gan_tf.families.adversarial import AdversarialGan
from gan_tf.families.base import Steps
from gan_tf.models.optimizers import make_optimizer
from gan_tf.training.loop import Driver


def stackable(cfg) -> str | None:
    """Why cfg cannot be trained as a stack (None if it can)."""
    if not families.get(cfg).stackable:
        return f"family {cfg.family!r} (only the MLP GANs stack)"
    if cfg.strategy != "default":
        return f"strategy {cfg.strategy!r} (a stack runs on one device)"
    if cfg.precision != "float32":
        return f"precision {cfg.precision!r} (a stack computes in float32)"
    # The GAN paper's options are implemented by the single run's adversarial step only.
    flat = flat_values(cfg)
    for name, plain in (("noise", "uniform"), ("update", "alternating"), ("lr_decay", 1.0),
                        ("momentum_saturate", 0), ("d_loss_scale", 1.0), ("parzen_every", 0),
                        ("eval_every", 0), ("g_ema", 0.0), ("real_label", 1.0), ("d_lr", 0.0),
                        ("init", None), ("minibatch_kernels", 0),
                        ("historical_averaging", 0.0)):
        if name not in flat:   # a family without the option does not use it
            continue
        value = flat[name]
        if (value == "uniform") if plain is None else value != plain:
            return f"{name} {value!r} (this option trains one seed at a time)"
    if flat.get("g_loss") == "feature_matching":
        return "g_loss 'feature_matching' (this option trains one seed at a time)"
    return None


class SeedModels:
    """One seed's Keras models and optimizers: exactly what a single run with that
    seed builds (so the same initial weights), named as its checkpoint names them."""

    def __init__(self, cfg):
        self.cfg = cfg
        family = families.get(cfg)
        self.G, self.D = family.build_generator(cfg), family.build_discriminator(cfg)
        self.g_opt, self.d_opt = make_optimizer(cfg), make_optimizer(cfg)
        self.d_opt.build(self.D.trainable_variables)
        self.g_opt.build(self.G.trainable_variables)
        self.iteration = tf.Variable(0, dtype=tf.int64, trainable=False)
        self.G_ema = self.G_best = None   # (refused by stackable)
        self.history = 0.0                # historical averaging: refused by stackable too

    # A single run's names and order, so that train_lib.restore and
    # checkpoint_arrays treat a seed as they treat a single run.
    state = AdversarialGan.state
    legacy_state = AdversarialGan.legacy_state


class _StackedMLP:
    """An MLP model's Dense layers with a leading seed axis: (N, in, out) kernels,
    (N, out) biases, the same activations."""

    def __init__(self, models: list, conditional: bool):
        self.conditional = conditional
        denses = [[layer for layer in m.layers if isinstance(layer, keras.layers.Dense)]
                  for m in models]
        self.activations = [layer.activation for layer in denses[0]]
        self.kernels, self.biases = [], []
        for i, layer in enumerate(denses[0]):
            for kind, out in (("kernel", self.kernels), ("bias", self.biases)):
                values = np.stack([getattr(d[i], kind).numpy() for d in denses])
                out.append(keras.Variable(values, name=f"{layer.name}_{kind}"))

    @property
    def weights(self) -> list:
        """In the order of the Keras model's weights (kernel, bias per layer)."""
        return [w for pair in zip(self.kernels, self.biases) for w in pair]

    def __call__(self, h, y=None):
        """h: (N, batch, in) [, y: (N, batch, 10)] -> (N, batch, out)."""
        if self.conditional:
            h = tf.concat([h, y], axis=-1)   # as the Keras model's Concatenate
        for kernel, bias, activation in zip(self.kernels, self.biases, self.activations):
            # Keras' Dense: matmul, add the bias, activation; here batched over seeds.
            # (N separate matmuls in the graph instead ran 40% slower on this CPU.)
            h = activation(tf.matmul(h, kernel) + bias[:, None, :])
        return h


class SeedSteps(AdversarialGan):
    """The shared adversarial step for N seeds at once: every value one per seed."""

    def __init__(self, cfg, seeds, train_images, train_labels=None):
        why = stackable(cfg)
        if why:
            raise UserError(f"cannot train seeds as one stack: {why}; train them one "
                            f"after another (gan_tf.training.sweep --sequential)")
        seeds = [int(s) for s in seeds]
        if not 0 < len(seeds) <= MAX_SEEDS or len(set(seeds)) != len(seeds):
            raise UserError(f"a stack takes 1 to {MAX_SEEDS} distinct seeds, got "
                            f"{seeds_text(seeds)}")
        self.seeds = seeds
        self.VALUE_SHAPE = (len(seeds),)
        self.configs = [dataclasses.replace(cfg, seed=s) for s in seeds]
        self.models = [SeedModels(c) for c in self.configs]
        self.G = _StackedMLP([m.G for m in self.models], cfg.conditional)
        self.D = _StackedMLP([m.D for m in self.models], cfg.conditional)
        self.g_opt, self.d_opt = make_optimizer(cfg), make_optimizer(cfg)
        self.strategy = None
        self.family = families.get(cfg)
        self.d_loss_fn, self.g_loss_fn = self.family.losses(cfg)
        Steps.__init__(self, cfg, train_images, train_labels)   # the data, on the device
        # Per seed, the epoch orders the current batch can touch (the cache of
        # DeviceData.indices, one row per seed), int64 as there: a GPU keeps int32
        # variables in host memory, out of the compiled loop's reach.
        n, self.n = len(seeds), self.data.n
        self._perm_a = tf.Variable(tf.zeros([n, self.n], tf.int64), trainable=False)
        self._perm_b = tf.Variable(tf.zeros([n, self.n], tf.int64), trainable=False)
        self.d_opt.build(self.D.weights)
        self.g_opt.build(self.G.weights)
        self._pairs = self._pair_variables()

    def describe(self, values: dict) -> str:
        def span(v):
            return f"{np.min(v):.4} .. {np.max(v):.4}"
        return (f"D loss: {span(values['d_loss'])}  G loss: {span(values['g_loss'])} "
                f"(over {len(self.seeds)} seeds)")

    # --- one iteration for every seed, traced into the driver's loop body

    def z_batch(self, stream, counter):
        cfg = self.cfg
        return tf.stack([sample_z(s, stream, counter, cfg.batch_size, cfg.z_dim)
                         for s in self.seeds])

    def batch(self, b):
        cfg, n = self.cfg, self.n
        g = b * cfg.batch_size + tf.range(cfg.batch_size, dtype=tf.int64)
        epoch0 = (b * cfg.batch_size) // n    # the same for every seed
        if tf.not_equal(epoch0, self.data._cached_epoch):
            self._perm_a.assign(tf.cast(tf.stack([epoch_permutation(s, epoch0, n)
                                                  for s in self.seeds]), tf.int64))
            self._perm_b.assign(tf.cast(tf.stack([epoch_permutation(s, epoch0 + 1, n)
                                                  for s in self.seeds]), tf.int64))
            self.data._cached_epoch.assign(epoch0)
        pos = g % n
        idx = tf.where(g // n == epoch0, tf.gather(self._perm_a, pos, axis=1),
                       tf.gather(self._perm_b, pos, axis=1))            # (N, batch)
        return self.data.images_at(idx), self.data.labels_at(idx)

    def _per_seed(self, fn, *stacks):
        """fn on each seed's slice (the single run's loss on the single run's shapes)."""
        return tf.stack([fn(*(t[s] for t in stacks)) for s in range(len(self.seeds))])

    def d_step(self, x, y, z, b):   # b: the dropout counter (a stack has none)
        fake = self.G(z, y)
        with tf.GradientTape() as tape:
            real_logits, fake_logits = self.D(x, y), self.D(fake, y)
            d_loss = self._per_seed(self.d_loss_fn, real_logits, fake_logits)
            total = tf.reduce_sum(d_loss)   # its gradient for seed s is seed s's own
        d_vars = self.D.weights
        self.d_opt.apply(tape.gradient(total, d_vars), d_vars)
        return {"d_loss": d_loss,
                "d_real": tf.reduce_mean(tf.sigmoid(real_logits), axis=[1, 2]),
                "d_fake": tf.reduce_mean(tf.sigmoid(fake_logits), axis=[1, 2])}

    def g_step(self, z, y, t):
        with tf.GradientTape() as tape:
            g_loss = self._per_seed(self.g_loss_fn, self.D(self.G(z, y), y))
            total = tf.reduce_sum(g_loss)
        g_vars = self.G.weights
        grads = tape.gradient(total, g_vars)
        self.g_opt.apply(grads, g_vars)
        # Each seed's global norm: over its own slice of every gradient.
        squares = tf.add_n([tf.reduce_sum(tf.square(g), axis=list(range(1, len(g.shape))))
                            for g in grads])
        return {"g_loss": g_loss, "g_grad_norm": tf.sqrt(squares)}

    # --- the seeds' own models: frames, checkpoints, resume

    def _pair_variables(self) -> list:
        """(name, stacked variable, per seed?) for every name of a single run's state:
        the models' weights in order, the optimizers' variables by position (the
        step counter and learning rate are one scalar shared by every seed)."""
        names = list(self.models[0].state())
        stacked = (self.G.weights + self.D.weights + self.g_opt.variables
                   + self.d_opt.variables)
        if len(names) != len(stacked):
            raise AssertionError(f"{len(names)} state names for {len(stacked)} variables")
        pairs, single = [], self.models[0].state()
        for name, var in zip(names, stacked):
            shape, one = tuple(var.shape), tuple(single[name].shape)
            if shape not in (one, (len(self.seeds),) + one):
                raise AssertionError(f"{name}: stacked {shape} for single {one}")
            pairs.append((name, var, shape != one))
        return pairs



class SeedStack(Driver):
    """The driver for N seeds at once: `chunk(n)` returns one value per seed.
    `unstack()` and `restack()` copy the state between the stack and every seed's
    own models, so each seed's run folder is a single run's."""

    def __init__(self, cfg, seeds, train_images, train_labels=None):
        super().__init__(SeedSteps(cfg, seeds, train_images, train_labels), cfg)

    def unstack(self) -> None:
        """Copy the stack's state into every seed's own models and optimizers."""
        states = [m.state() for m in self.steps.models]
        for name, var, per_seed in self.steps._pairs:
            value = var.numpy()
            for s, state in enumerate(states):
                state[name].assign(value[s] if per_seed else value)
        for m in self.steps.models:
            m.iteration.assign(self.iteration)

    def restack(self) -> None:
        """Copy every seed's models and optimizers (restored from its checkpoint) into
        the stack. All seeds must be at the same iteration."""
        its = {int(m.iteration.numpy()) for m in self.steps.models}
        if len(its) != 1:
            raise UserError(f"the seeds are at different iterations {sorted(its)}")
        states = [m.state() for m in self.steps.models]
        for name, var, per_seed in self.steps._pairs:
            values = [state[name].numpy() for state in states]
            if not per_seed and any(not np.array_equal(v, values[0]) for v in values):
                raise UserError(f"the seeds' checkpoints differ in {name}, which every "
                                f"seed of a stack shares")
            var.assign(np.stack(values) if per_seed else values[0])
        self.iteration.assign(its.pop())
