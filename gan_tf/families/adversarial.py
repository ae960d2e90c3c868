"""The adversarial step the GAN families share, and the hooks a family changes in it.

One iteration is Algorithm 1 of the GAN paper: k D steps (the tutorial's k is 1),
each on its own real minibatch and z batch, then one G step on a fresh z batch (or,
`same_z`, the last D step's z: the second tutorial) through the just-updated D; or,
with update 'simultaneous', both nets' gradients from one pass applied together
(the GAN paper's code). Around it: the moving average of G (`g_ema`), the best G
(`eval_every`), and tf.distribute's replicas, each taking its slice of a batch.

A family changes the step through `AdversarialFamily`'s hooks: its losses (pure
functions of D's outputs), `d_logits` (D on a batch: the maxout D draws its dropout
masks there, the packed D packs its input, AC-GAN and InfoGAN read their extra
heads), a penalty on D's gradients, what follows D's update (the WGAN's clipping)
and what D's outputs report. A family with another kind of step (the VAE, SRGAN,
CycleGAN, the semi-supervised GAN) writes its own `Steps` instead.

Salimans et al. 2016's techniques (core/params.ImprovedParams, models/improved.py)
are options of this step, off by default: feature matching as G's loss (g_loss
'feature_matching'), minibatch discrimination in D (minibatch_kernels), historical
averaging of both players (historical_averaging) and virtual batch norm in G (g_vbn).
"""

from __future__ import annotations

import contextlib
import math

import keras
import tensorflow as tf

from gan_tf.data.streams import (STREAM_DROP_FAKE, STREAM_DROP_G, STREAM_DROP_REAL,
                                 STREAM_VBN_REFERENCE, STREAM_Z_D, STREAM_Z_G,
                                 interpolation_weights, sample_z, stream_seed)
from gan_tf.families.base import Family, Steps
from gan_tf.models import improved, networks
from gan_tf.models.optimizers import make_optimizer


class AdversarialFamily(Family):
    """A GAN trained by the shared adversarial step: its hooks default to the
    tutorials' (one logit, nothing after D's update); it names its losses."""

    def steps_class(self, cfg):
        """The Steps this family's runs train with."""
        return AdversarialGan

    def build_discriminator(self, cfg):
        """The family's D; with minibatch_kernels, a minibatch layer before its output."""
        D = super().build_discriminator(cfg)
        kernels = getattr(cfg.params, "minibatch_kernels", 0)
        if not kernels:
            return D
        with networks.precision(cfg):
            return improved.with_minibatch_layer(D, kernels, cfg.params.minibatch_dims,
                                                 2 * cfg.seed + 30_000)

    def build_generator(self, cfg):
        """The family's G; with g_vbn, its batch norms virtual (reference: a batch)."""
        G = super().build_generator(cfg)
        if not getattr(cfg.params, "g_vbn", False):
            return G
        with networks.precision(cfg):
            return improved.with_virtual_batch_norm(G, cfg.batch_size, 2 * cfg.seed + 40_000)

    def build(self, cfg, train_images, train_labels=None, strategy=None):
        with strategy.scope() if strategy else contextlib.nullcontext():
            G, D = self.build_generator(cfg), self.build_discriminator(cfg)
            if cfg.params.init == "uniform" and cfg.g_output == "sigmoid":
                # mnist.yaml: the output layer's init_bias from the training pixels'
                # marginals
                G.get_layer("out").bias.assign(
                    networks.sigmoid_bias_from_marginals(train_images))
            steps = math.ceil(len(train_images) / cfg.batch_size)   # an epoch, for momentum
            # Copies of G's architecture for the moving average and the best G (the
            # Steps give them G's initial weights).
            G_ema = self.build_generator(cfg) if cfg.params.g_ema else None
            G_best = self.build_generator(cfg) if cfg.eval_every else None
            return self.steps_class(cfg)(
                G, D, make_optimizer(cfg, steps), make_optimizer(cfg, steps, role="discriminator"),
                self.losses(cfg), cfg, train_images, train_labels, strategy=strategy,
                G_ema=G_ema, G_best=G_best, family=self)

    # --- the hooks

    def losses(self, cfg):
        """(d_loss(real_logits, fake_logits), g_loss(fake_logits)): pure functions of
        D's outputs. The tutorial's (mlp.TutorialLosses) for most families."""
        raise NotImplementedError

    def d_logits(self, D, x, y, dropout_seed=None, z=None):
        """D's outputs on x (with the one-hot labels y, or None) in training mode.
        `dropout_seed` is the stateless seed of this pass's dropout masks, for a
        family whose D draws them; `z` is the noise G made x from (None for real
        images), for a family whose D reads it back (InfoGAN's codes)."""
        return D(x if y is None else [x, y], training=True)

    def penalised(self, cfg) -> bool:
        """Whether D's loss has a `d_penalty` term."""
        return False

    def d_penalty(self, cfg, d, real, fake, eps):
        """A term added to D's loss inside its tape: `d` is D's training-mode pass on
        a batch of images (the labels bound), `eps` (batch, 1) uniform draws in [0, 1)
        for the points between `real` and `fake` it may look at."""
        raise NotImplementedError

    def after_d_update(self, cfg, D):
        """Runs after every optimizer update of D (inside the compiled step)."""
        return None   # a body AutoGraph can convert (a docstring alone it cannot)

    def d_means(self, real_logits, fake_logits) -> dict:
        """The D step's 'd_real' and 'd_fake': D's mean probability of 'real' on the
        real and on the fake batch."""
        return {"d_real": tf.reduce_mean(tf.sigmoid(real_logits)),
                "d_fake": tf.reduce_mean(tf.sigmoid(fake_logits))}


class AdversarialGan(Steps):
    """G and D, their optimizers and the shared adversarial step. Under a
    tf.distribute `strategy`, build all of them inside strategy.scope()."""

    def __init__(self, G, D, g_opt, d_opt, loss_fns, cfg, train_images, train_labels=None,
                 strategy=None, G_ema=None, G_best=None, family=None):
        """`G_ema` (cfg.params.g_ema) and `G_best` (cfg.eval_every) are models of G's
        architecture that hold the moving average of G's weights and the best G
        measured so far; both start as G. `family` answers the step's hooks (default:
        cfg's)."""
        super().__init__(cfg, train_images, train_labels)
        if family is None:
            from gan_tf import families   # the registry imports every family, this one too
            family = families.get(cfg)
        self.family = family
        self.G, self.D, self.g_opt, self.d_opt = G, D, g_opt, d_opt
        self.G_ema, self.G_best = G_ema, G_best
        for copy in (G_ema, G_best):
            if copy is not None:
                copy.set_weights(G.get_weights())
        # The best G's validation Frechet distance and iteration (-1: none yet); kept in
        # the checkpoint, so a resumed run knows what it has to beat.
        self.best_fd = keras.Variable(float("inf"), dtype="float64", trainable=False,
                                      name="best_frechet_distance")
        self.best_iteration = keras.Variable(-1, dtype="int64", trainable=False,
                                             name="best_iteration")
        self.strategy = strategy
        self.replicas = 1 if strategy is None else strategy.num_replicas_in_sync
        self.d_loss_fn, self.g_loss_fn = loss_fns
        # Keras optimizers create their slots lazily; build them now so a checkpoint
        # can be restored into them before the first step.
        d_opt.build(D.trainable_variables)
        g_opt.build(G.trainable_variables)
        self._improved(cfg)

    def _improved(self, cfg):
        """The state of Salimans et al.'s techniques (all off by default)."""
        p = cfg.params
        self.feature_matching = getattr(p, "g_loss", "") == "feature_matching"
        self.D_features = improved.features_model(self.D) if self.feature_matching else None
        if getattr(p, "minibatch_kernels", 0):
            # the authors' data-dependent init (nn.py:156-166) on the first real batch
            x, y = self.batch(0)
            h = improved.features_model(self.D)(x if y is None else [x, y], training=True)
            self.D.get_layer("minibatch").initialise(h)
        self.history = getattr(p, "historical_averaging", 0.0)
        if self.history:
            # each player's running mean of its parameters' values so far, from its
            # initial ones (count 1), in the checkpoint
            def means(model, key):
                return [keras.Variable(v.numpy(), trainable=False, name=f"{key}_mean")
                        for v in model.trainable_variables]
            self.g_history, self.d_history = means(self.G, "g"), means(self.D, "d")
            self.g_count = keras.Variable(1.0, trainable=False, name="g_history_count")
            self.d_count = keras.Variable(1.0, trainable=False, name="d_history_count")
        # virtual batch norm's reference batch of z, drawn once for the whole run
        self.vbn_z = (sample_z(cfg.seed, STREAM_VBN_REFERENCE, 0, cfg.batch_size, cfg.z_dim)
                      if getattr(p, "g_vbn", False) else None)

    # --- one iteration, traced into the driver's loop body

    def z_batch(self, stream, counter):
        """The z batch number `counter` of `stream`."""
        return sample_z(self.cfg.seed, stream, counter, self.cfg.batch_size, self.cfg.z_dim)

    def _g(self, z, y):
        # A conditional GAN's models take [input, one-hot label].
        if self.vbn_z is not None:   # the reference batch first, then z (improved.py)
            return self.G(tf.concat([self.vbn_z, z], 0), training=True)[len(self.vbn_z):]
        return self.G(z if y is None else [z, y], training=True)

    def _d(self, x, y, dropout=None, z=None):
        """D's logits in training mode, through the family's hook; `dropout` (stream,
        counter) seeds the dropout masks of a D that has them (family 'maxout' with
        d_keep); `z`, for fakes, is the noise G drew them from."""
        seed = None if dropout is None else stream_seed(self.cfg.seed, *dropout)
        return self.family.d_logits(self.D, x, y, seed, z)

    def step(self, t):
        cfg = self.cfg
        if cfg.params.update == "simultaneous":
            return self._replicated(self.joint_step, t)
        k = cfg.params.d_steps
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
        if not cfg.params.same_z:
            z = self.z_batch(STREAM_Z_G, t)
        g = self._replicated(self.g_step, z, y, t)
        self._average_g(t)
        return {**d, **g}

    def d_step_at(self, b):
        """D step on minibatch b: its values, and the z and labels (or None) it used."""
        z = self.z_batch(STREAM_Z_D, b)
        x, y = self.batch(b)
        return self._replicated(self.d_step, x, y, z, b), z, y

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
            d_loss = self.cfg.params.d_loss_scale * self.d_loss_fn(real_logits, fake_logits)
            if self.family.penalised(self.cfg):
                # A term on D's gradients (WGAN-GP), so it sees D, not only its outputs.
                eps = self._local(interpolation_weights(self.cfg.seed, b,
                                                        self.cfg.batch_size))
                d_loss += self.family.d_penalty(self.cfg, lambda v: self._d(v, y), x, fake,
                                                eps)
            if self.history:
                d_loss += improved.historical_penalty(self.history, self.D.trainable_variables,
                                                      self.d_history)
            d_loss = self._replica_share(d_loss)
        d_vars = self.D.trainable_variables
        self.d_opt.apply(tape.gradient(d_loss, d_vars), d_vars)
        self.family.after_d_update(self.cfg, self.D)   # the WGAN's weight clipping
        if self.history:
            improved.update_history(d_vars, self.d_history, self.d_count)
        return {"d_loss": d_loss, **self.family.d_means(real_logits, fake_logits)}

    def g_step(self, z, y, t):
        z, y = self._local(z), self._local(y)
        with tf.GradientTape() as tape:
            if self.feature_matching:
                g_loss = self._feature_matching(self._g(z, y), y, t)
            else:
                g_loss = self.g_loss_fn(self._d(self._g(z, y), y, (STREAM_DROP_G, t), z))
            if self.history:
                g_loss += improved.historical_penalty(self.history, self.G.trainable_variables,
                                                      self.g_history)
            g_loss = self._replica_share(g_loss)
        g_vars = self.G.trainable_variables
        grads = tape.gradient(g_loss, g_vars)
        self.g_opt.apply(grads, g_vars)
        if self.history:
            improved.update_history(g_vars, self.g_history, self.g_count)
        if self.replicas > 1:   # the norm of the summed (global-batch) gradient
            grads = tf.distribute.get_replica_context().all_reduce(
                tf.distribute.ReduceOp.SUM, grads)
        return {"g_loss": g_loss, "g_grad_norm": tf.linalg.global_norm(grads)}

    def _feature_matching(self, fake, y, t):
        """G's feature-matching loss: D's last hidden layer on this iteration's first
        real batch (the one D's first step saw; the authors draw a second shuffled
        copy of the data, train_mnist_feature_matching.py:103, 120) against `fake`."""
        x, _ = self.batch(t * self.cfg.params.d_steps)
        x = self._local(x)

        def features(v):
            return self.D_features(v if y is None else [v, y], training=True)
        return improved.feature_matching_loss(features(x), features(fake))

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
            d_loss = self.cfg.params.d_loss_scale * self.d_loss_fn(real_logits, fake_logits)
            g_loss = self.g_loss_fn(fake_logits)
            if self.history:
                d_loss += improved.historical_penalty(self.history, d_vars, self.d_history)
                g_loss += improved.historical_penalty(self.history, g_vars, self.g_history)
        d_grads = tape.gradient(d_loss, d_vars)
        g_grads = tape.gradient(g_loss, g_vars)
        del tape
        self.d_opt.apply(d_grads, d_vars)
        self.g_opt.apply(g_grads, g_vars)
        if self.history:
            improved.update_history(d_vars, self.d_history, self.d_count)
            improved.update_history(g_vars, self.g_history, self.g_count)
        return {"d_loss": d_loss, "d_real": tf.reduce_mean(tf.sigmoid(real_logits)),
                "d_fake": tf.reduce_mean(tf.sigmoid(fake_logits)), "g_loss": g_loss,
                "g_grad_norm": tf.linalg.global_norm(g_grads)}

    def _average_g(self, t):
        """G_ema <- decay G_ema + (1 - decay) G after G's update t, every weight
        (batch norm's moving statistics too), with the warm-up of TensorFlow's
        ExponentialMovingAverage(num_updates): decay min(g_ema, (1 + n) / (10 + n)) at
        the n-th update, so the average forgets the initial weights within the first
        few hundred updates instead of carrying them for 1 / (1 - decay)."""
        if self.G_ema is None:
            return
        n = tf.cast(t + 1, tf.float32)
        g_ema = tf.constant(self.cfg.params.g_ema, tf.float32)
        decay = tf.minimum(g_ema, (1.0 + n) / (10.0 + n))
        for e, w in zip(self.G_ema.weights, self.G.weights):
            e.assign(decay * e + (1.0 - decay) * w)

    # --- tf.distribute: the same algorithm on N replicas (training/distribute.py)

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

    # --- the generators the run reports

    def generators(self) -> dict:
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
        out = {}
        if self.G_ema is not None:
            out["generator-ema.keras"] = (self.G_ema, {"g_ema": self.cfg.params.g_ema})
        if self.G_best is not None and int(self.best_iteration.numpy()) >= 0:
            out["generator-best.keras"] = (self.G_best, {
                "iteration": int(self.best_iteration.numpy()),
                "val_frechet_distance": float(self.best_fd.numpy()),
                "of": "generator-ema" if self.G_ema is not None else "generator"})
        return out

    # --- what a checkpoint holds

    def state(self) -> dict:
        """Every variable a checkpoint holds, by a name that does not depend on the
        order or count of models built before (Keras numbers optimizers adam, adam_1,
        ...): G/<layer>/<weight>, D/..., g_opt/<slot>, d_opt/<slot>."""
        named = {}
        models = (("G", self.G), ("D", self.D), ("G_ema", self.G_ema), ("G_best", self.G_best))
        for key, model in models:
            if model is not None:
                named.update(model_state(key, model))
        for key, opt in (("g_opt", self.g_opt), ("d_opt", self.d_opt)):
            named.update(optimizer_state(key, opt))
        if self.G_best is not None:
            named.update({"best/frechet_distance": self.best_fd,
                          "best/iteration": self.best_iteration})
        if self.history:   # historical averaging's running means, by their variable
            for key, model, means in (("G", self.G, self.g_history), ("D", self.D, self.d_history)):
                named.update({f"history/{key}/{v.path}": m
                              for v, m in zip(model.trainable_variables, means)})
            named.update({"history/G/count": self.g_count, "history/D/count": self.d_count})
        return named

    def legacy_state(self) -> dict:
        """The same variables as checkpoints before 2026-11 listed them: by position."""
        lists = {"G": self.G.weights, "D": self.D.weights, "g_opt": self.g_opt.variables,
                 "d_opt": self.d_opt.variables}
        return {f"{k}/{i:03d}": v for k, vs in lists.items() for i, v in enumerate(vs)}


# The checkpoint name of a Keras layer's random state, as runs/folder.SEED_STATE (which
# stays TensorFlow-free there for the commands' --help) spells it.
SEED_STATE = "seed_generator_state"


def model_state(key: str, model) -> dict:
    """A model's weights as `key/<layer>/<weight>`, and the random state of any Keras
    Dropout in it (TensorFlow's DCGAN tutorial's D): without it a resumed run would
    draw its masks from the start again."""
    named = {f"{key}/{v.path}": v for v in model.weights}
    named.update({f"{key}/{layer.name}/{SEED_STATE}": layer.seed_generator.state
                  for layer in model.layers
                  if getattr(layer, "seed_generator", None) is not None})
    return named


def optimizer_state(key: str, opt) -> dict:
    """An optimizer's variables as `key/<slot>`."""
    return {f"{key}/{v.path.split('/', 1)[-1]}": v for v in opt.variables}
