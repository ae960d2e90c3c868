"""Other ways to run the same tutorial iteration, for the benchmark and the tests.

  * `Tf1StyleSteps`: what the tutorial's `sess.run(D_solver, feed_dict=...)` then
    `sess.run(G_solver, ...)` amounts to in TF2: one tf.function per step, fed a
    NumPy minibatch from a host-side `next_batch`, losses fetched every iteration.
    It is also the plain reference the compiled loop is tested against.
  * `run_torch`: the same model and algorithm in PyTorch eager on the CPU.
  * `iteration_flops`: the matmul FLOPs of one iteration, counted by hand.
"""

from __future__ import annotations

import time

import numpy as np


class HostBatches:
    """TF1's `DataSet.next_batch` on the host: a shuffled order per epoch; a batch
    crossing an epoch's end takes the rest of it and the start of the next order."""

    def __init__(self, images: np.ndarray, batch: int, permutation):
        self.images, self.batch, self.n = images, batch, len(images)
        self.permutation = permutation      # epoch -> np.ndarray order of the images
        self._orders = {}

    def indices(self, t: int) -> np.ndarray:
        g = t * self.batch + np.arange(self.batch)
        epochs, pos = g // self.n, g % self.n
        out = np.empty(self.batch, np.int64)
        for e in np.unique(epochs):
            if e not in self._orders:
                self._orders = {k: v for k, v in self._orders.items() if k >= e - 1}
                self._orders[e] = self.permutation(int(e))
            out[epochs == e] = self._orders[e][pos[epochs == e]]
        return out

    def get(self, t: int) -> np.ndarray:
        return self.images[self.indices(t)].astype(np.float32) / 255.0


class Tf1StyleSteps:
    """One tf.function per step, fed NumPy arrays: the TF1 session-per-step pattern."""

    def __init__(self, G, D, g_opt, d_opt, loss_fns):
        import tensorflow as tf
        d_loss_fn, g_loss_fn = loss_fns

        @tf.function
        def d_step(x, z):
            fake = G(z, training=True)
            with tf.GradientTape() as tape:
                d_loss = d_loss_fn(D(x, training=True), D(fake, training=True))
            d_opt.apply(tape.gradient(d_loss, D.trainable_variables), D.trainable_variables)
            return d_loss

        @tf.function
        def g_step(z):
            with tf.GradientTape() as tape:
                g_loss = g_loss_fn(D(G(z, training=True), training=True))
            g_opt.apply(tape.gradient(g_loss, G.trainable_variables), G.trainable_variables)
            return g_loss

        self.d_step, self.g_step = d_step, g_step

    def iteration(self, x, z_d, z_g) -> tuple[float, float]:
        # float(): fetch the losses each step, as sess.run returned them.
        return float(self.d_step(x, z_d)), float(self.g_step(z_g))

    def iteration_k(self, xs, z_ds, z_g) -> tuple[float, float]:
        """Algorithm 1: len(xs) D steps, then one G step; the last D loss."""
        for x, z in zip(xs, z_ds):
            d = float(self.d_step(x, z))
        return d, float(self.g_step(z_g))


def time_tf1_style(cfg, images: np.ndarray, iters: int, warmup: int = 20) -> float:
    """Iterations per second of the TF1-style loop (host batches, host z)."""
    from gan_tf.models import networks
    from gan_tf.models.losses import get_losses
    from gan_tf.training import loop
    G, D = networks.build_generator(cfg), networks.build_discriminator(cfg)
    steps = Tf1StyleSteps(G, D, loop.make_optimizer(cfg), loop.make_optimizer(cfg),
                          get_losses(cfg))
    rng = np.random.default_rng(cfg.seed)
    batches = HostBatches(images, cfg.batch_size, lambda e: rng.permutation(len(images)))

    def z():
        return rng.uniform(-1.0, 1.0, (cfg.batch_size, cfg.z_dim)).astype(np.float32)
    for t in range(warmup):
        steps.iteration(batches.get(t), z(), z())
    t0 = time.perf_counter()
    for t in range(warmup, warmup + iters):
        steps.iteration(batches.get(t), z(), z())
    return iters / (time.perf_counter() - t0)


def torch_available() -> bool:
    try:
        import torch  # noqa: F401
        return True
    except ImportError:
        return False


def time_torch(cfg, images: np.ndarray, iters: int, warmup: int = 20) -> float:
    """Iterations per second of the same GAN in PyTorch eager on the CPU."""
    import torch
    from torch import nn
    torch.manual_seed(cfg.seed)

    def mlp(i, h, o, out_act):
        net = nn.Sequential(nn.Linear(i, h), nn.ReLU(), nn.Linear(h, o), *out_act)
        for layer in (net[0], net[2]):   # the tutorial's xavier_init, zero biases
            nn.init.normal_(layer.weight, std=(2.0 / layer.in_features) ** 0.5)
            nn.init.zeros_(layer.bias)
        return net
    G = mlp(cfg.z_dim, cfg.g_hidden[0], 784, [nn.Sigmoid()])
    D = mlp(784, cfg.d_hidden[0], 1, [])
    adam = dict(lr=cfg.lr, betas=(cfg.beta1, cfg.beta2), eps=cfg.adam_eps)
    g_opt, d_opt = torch.optim.Adam(G.parameters(), **adam), \
        torch.optim.Adam(D.parameters(), **adam)
    bce = nn.functional.binary_cross_entropy_with_logits
    eps = cfg.log_eps

    def d_loss_fn(real, fake):
        if cfg.loss == "xent":
            return bce(real, torch.ones_like(real)) + bce(fake, torch.zeros_like(fake))
        pr, pf = torch.sigmoid(real), torch.sigmoid(fake)
        if eps > 0:
            pr, pf = pr.clamp(eps, 1 - eps), pf.clamp(eps, 1 - eps)
        return -torch.mean(torch.log(pr) + torch.log(1 - pf))

    def g_loss_fn(fake):
        if cfg.loss == "xent":
            return bce(fake, torch.ones_like(fake))
        pf = torch.sigmoid(fake)
        return -torch.mean(torch.log(pf.clamp(eps, 1 - eps) if eps > 0 else pf))

    rng = np.random.default_rng(cfg.seed)
    batches = HostBatches(images, cfg.batch_size, lambda e: rng.permutation(len(images)))

    def z():
        return torch.from_numpy(rng.uniform(-1, 1, (cfg.batch_size, cfg.z_dim))
                                .astype(np.float32))

    def iteration(t):
        x = torch.from_numpy(batches.get(t))
        fake = G(z()).detach()
        d_loss = d_loss_fn(D(x), D(fake))
        d_opt.zero_grad()
        d_loss.backward()
        d_opt.step()
        g_loss = g_loss_fn(D(G(z())))
        g_opt.zero_grad()
        g_loss.backward()
        g_opt.step()
        return d_loss.item(), g_loss.item()
    for t in range(warmup):
        iteration(t)
    t0 = time.perf_counter()
    for t in range(warmup, warmup + iters):
        iteration(t)
    return iters / (time.perf_counter() - t0)


def iteration_flops(cfg) -> dict:
    """Matmul FLOPs of one iteration (2 per multiply-add). A dense layer i->o on a
    batch of m costs 2mio forward, 2mio for its weight gradient and 2mio for its
    input gradient; backprop computes only the gradients the step needs."""
    if len(cfg.d_hidden) != 1 or cfg.d_hidden != cfg.g_hidden:
        raise ValueError("the FLOP count is for the tutorial's one-hidden-layer MLPs")
    b, z, h, x = cfg.batch_size, cfg.z_dim, cfg.d_hidden[0], 784

    def mm(m, i, o):
        return 2 * m * i * o
    g_fwd = mm(b, z, h) + mm(b, h, x)
    d_fwd = lambda m: mm(m, x, h) + mm(m, h, 1)            # noqa: E731
    # D step: G forward (no grad), D forward on real and fake, D's weight gradients
    # and the input gradient of D's second layer (to its hidden units).
    d_step = g_fwd + d_fwd(2 * b) + d_fwd(2 * b) + mm(2 * b, h, 1)
    # G step: G and D forward, D's input gradients (through both layers; not its
    # weight gradients), G's weight gradients and its second layer's input gradient.
    g_step = g_fwd + d_fwd(b) + d_fwd(b) + (g_fwd) + mm(b, h, x)
    return {"d_step": d_step, "g_step": g_step,
            "iteration": cfg.d_steps * d_step + g_step}


def time_matmul(n: int = 2048, repeats: int = 20) -> float:
    """GFLOP/s of an n x n float32 matmul in TensorFlow: the machine's practical peak."""
    import tensorflow as tf
    a = tf.random.normal([n, n])
    b = tf.random.normal([n, n])

    @tf.function
    def many(a, b):
        c = a
        for _ in range(repeats):
            c = tf.matmul(c, b) * (1.0 / n)  # rescaled to stay finite
        return c
    many(a, b).numpy()
    t0 = time.perf_counter()
    many(a, b).numpy()
    return 2 * n ** 3 * repeats / (time.perf_counter() - t0) / 1e9


def time_iteration_gemms(cfg, iters: int) -> float:
    """GFLOP/s of exactly the matmuls of `iteration_flops` (same shapes, same
    transposes), alone in an XLA while-loop: the ceiling the matmul shapes of this
    small model allow, without activations, losses, Adam, RNG or data gathering.
    Each result feeds the loop's carried tensors, so none is optimised away."""
    import tensorflow as tf
    b, zd, h, x = cfg.batch_size, cfg.z_dim, cfg.d_hidden[0], 784
    rnd = lambda *s: tf.random.normal(s, stddev=0.01)            # noqa: E731
    mm = tf.linalg.matmul

    @tf.function(jit_compile=True)
    def run(n, X, Z, Wd1, Wd2, Wg1, Wg2):
        def body(i, X, Z, Wd1, Wd2, Wg1, Wg2):
            # D step: G forward, D forward on 2B rows, D weight grads, hidden grad.
            xg = mm(mm(Z, Wg1), Wg2)
            x2 = tf.concat([X, xg], 0)
            hd = mm(x2, Wd1)
            o = mm(hd, Wd2)
            gWd1 = mm(x2, hd, transpose_a=True)
            gWd2 = mm(hd, o, transpose_a=True)
            ghd = mm(o, Wd2, transpose_b=True)
            # G step: G forward, D forward, D input grads, G weight grads, G input grad.
            hg = mm(Z, Wg1)
            xg2 = mm(hg, Wg2)
            o2 = mm(mm(xg2, Wd1), Wd2)
            gx = mm(mm(o2, Wd2, transpose_b=True), Wd1, transpose_b=True)
            gWg2 = mm(hg, gx, transpose_a=True)
            gWg1 = mm(Z, mm(gx, Wg2, transpose_b=True), transpose_a=True)
            eps = 1e-9
            return (i + 1, X + eps * ghd[:b, :1], Z, Wd1 + eps * gWd1, Wd2 + eps * gWd2,
                    Wg1 + eps * gWg1, Wg2 + eps * gWg2)
        return tf.while_loop(lambda i, *a: i < n, body,
                             (tf.constant(0), X, Z, Wd1, Wd2, Wg1, Wg2))[1:]
    args = (rnd(b, x), rnd(b, zd), rnd(x, h), rnd(h, 1), rnd(zd, h), rnd(h, x))
    tf.nest.map_structure(lambda t: t.numpy(), run(tf.constant(10), *args))
    t0 = time.perf_counter()
    tf.nest.map_structure(lambda t: t.numpy(), run(tf.constant(iters), *args))
    per_s = iters / (time.perf_counter() - t0)
    return per_s * iteration_flops(cfg)["iteration"] / 1e9
