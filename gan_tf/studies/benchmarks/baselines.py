"""Other ways to run the same tutorial iteration, for the benchmark and the tests.

  * `Tf1StyleSteps`: what the tutorial's `sess.run(D_solver, feed_dict=...)` then
    `sess.run(G_solver, ...)` amounts to in TF2: one tf.function per step, fed a
    NumPy minibatch from a host-side `next_batch`, losses fetched every iteration.
    It is also the plain reference the compiled loop is tested against.
  * `run_torch`: the same model and algorithm in PyTorch eager on the CPU.
  * `iteration_flops`: the matmul FLOPs of one iteration, counted by hand.
  * for the DCGAN (`make bench-dcgan`): `time_torch_dcgan` (the same DCGAN in PyTorch
    eager, float32 or bfloat16 autocast), `time_tf_tutorial_dcgan` (TensorFlow's DCGAN
    tutorial's train_step and tf.data input) and `dcgan_iteration_flops`.
They stay outside the family seam on purpose: each is another project's way of
running the same model, measured against ours, so it must not share our driver.
"""

from __future__ import annotations

import contextlib
import time

import numpy as np

from gan_tf import families

# TensorFlow, and the modules that bring it, are imported in the functions that use
# them: a PyTorch measurement runs in a process (bench.measure's worker) that imports
# this module, and must not have TensorFlow loaded beside torch. torch itself is an
# optional dependency, imported where it is used.


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
        import tensorflow as tf  # lazy: see the note at the top
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
    from gan_tf.families.mlp import get_losses  # lazy: see the note at the top
    from gan_tf.models.optimizers import make_optimizer
    family = families.get(cfg)
    G, D = family.build_generator(cfg), family.build_discriminator(cfg)
    steps = Tf1StyleSteps(G, D, make_optimizer(cfg), make_optimizer(cfg),
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
        import torch  # noqa: F401  (lazy: optional)
        return True
    except ImportError:
        return False


def time_torch(cfg, images: np.ndarray, iters: int, warmup: int = 20) -> float:
    """Iterations per second of the same GAN in PyTorch eager on the CPU."""
    import torch  # lazy: optional
    from torch import nn
    torch.manual_seed(cfg.seed)

    def mlp(i, h, o, out_act):
        net = nn.Sequential(nn.Linear(i, h), nn.ReLU(), nn.Linear(h, o), *out_act)
        for layer in (net[0], net[2]):   # the tutorial's xavier_init, zero biases
            nn.init.normal_(layer.weight, std=(2.0 / layer.in_features) ** 0.5)
            nn.init.zeros_(layer.bias)
        return net
    G = mlp(cfg.z_dim, cfg.params.g_hidden[0], 784, [nn.Sigmoid()])
    D = mlp(784, cfg.params.d_hidden[0], 1, [])
    p = cfg.params
    adam = dict(lr=p.lr, betas=(p.beta1, p.beta2), eps=p.adam_eps)
    g_opt, d_opt = torch.optim.Adam(G.parameters(), **adam), \
        torch.optim.Adam(D.parameters(), **adam)
    bce = nn.functional.binary_cross_entropy_with_logits
    eps = cfg.params.log_eps

    def d_loss_fn(real, fake):
        if cfg.params.loss == "xent":
            return bce(real, torch.ones_like(real)) + bce(fake, torch.zeros_like(fake))
        pr, pf = torch.sigmoid(real), torch.sigmoid(fake)
        if eps > 0:
            pr, pf = pr.clamp(eps, 1 - eps), pf.clamp(eps, 1 - eps)
        return -torch.mean(torch.log(pr) + torch.log(1 - pf))

    def g_loss_fn(fake):
        if cfg.params.loss == "xent":
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
    return time_iterations(iteration, iters, warmup)


def time_iterations(iteration, iters: int, warmup: int) -> float:
    """it/s of `iteration(t)` over t = warmup ... warmup + iters - 1, after `warmup`
    untimed calls (t = 0 ...)."""
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
    if len(cfg.params.d_hidden) != 1 or cfg.params.d_hidden != cfg.params.g_hidden:
        raise ValueError("the FLOP count is for the tutorial's one-hidden-layer MLPs")
    b, z, h, x = cfg.batch_size, cfg.z_dim, cfg.params.d_hidden[0], 784

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
            "iteration": cfg.params.d_steps * d_step + g_step}


def time_matmul(n: int = 2048, repeats: int = 20, dtype: str = "float32") -> float:
    """GFLOP/s of an n x n matmul in TensorFlow (float32, or bfloat16 on the CPU's
    bfloat16 units where it has them): the machine's practical peak."""
    import tensorflow as tf  # lazy: see the note at the top
    a = tf.cast(tf.random.normal([n, n]), dtype)
    b = tf.cast(tf.random.normal([n, n]), dtype)

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
    import tensorflow as tf  # lazy: see the note at the top
    b, zd, h, x = cfg.batch_size, cfg.z_dim, cfg.params.d_hidden[0], 784
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


# --- the DCGAN's baselines (make bench-dcgan)

def dcgan_iteration_flops(width: int = 64, batch: int = 128, z_dim: int = 100,
                          fc: int = 0) -> dict:
    """FLOPs of one mnist-dcgan iteration's convolutions and dense layers, counted by
    hand (2 per multiply-add; batch norm, activations and Adam left out). A layer's
    forward pass, its weight gradient and its input gradient cost the same; a D step
    needs D's weight gradients and the input gradients of all but D's first layer,
    a G step D's input gradients through every layer, G's weight gradients and the
    input gradients of all but G's first layer. `fc`: dcgan_fc's layer in both."""
    w = width
    d = [14 * 14 * w * 16 * 1, 7 * 7 * 2 * w * 16 * w]                        # conv1, conv2
    d += [7 * 7 * 2 * w * fc, fc] if fc else [7 * 7 * 2 * w]                 # [fc,] out
    g = [z_dim * fc, fc * 7 * 7 * 2 * w] if fc else [z_dim * 7 * 7 * 2 * w]  # [fc,] project
    g += [7 * 7 * 2 * w * 16 * w, 14 * 14 * w * 16 * 1]                        # deconv1, deconv2
    d, g = [2 * v for v in d], [2 * v for v in g]
    d_fwd, g_fwd = sum(d), sum(g)
    d_step = batch * (g_fwd + 2 * d_fwd + 2 * d_fwd + 2 * (d_fwd - d[0]))
    g_step = batch * (g_fwd + d_fwd + d_fwd + g_fwd + (g_fwd - g[0]))
    return {"d_step": d_step, "g_step": g_step, "iteration": d_step + g_step}


def _torch_dcgan(width: int, z_dim: int, fc: int = 0):
    """mnist-dcgan's networks (models/networks.py) in PyTorch: the same layers,
    shapes, N(0, 0.02) weights and batch norm settings (Keras' momentum 0.99 is
    PyTorch's 0.01, epsilon 1e-3); `fc` as dcgan_fc."""
    from torch import nn  # lazy: optional
    w = width
    bn2, bn1 = (lambda c: nn.BatchNorm2d(c, eps=1e-3, momentum=0.01),
                lambda c: nn.BatchNorm1d(c, eps=1e-3, momentum=0.01))
    d_fc = [nn.Linear(2 * w * 7 * 7, fc, bias=False), bn1(fc), nn.LeakyReLU(0.2)] if fc else []
    D = nn.Sequential(nn.Conv2d(1, w, 4, 2, 1), nn.LeakyReLU(0.2),
                      nn.Conv2d(w, 2 * w, 4, 2, 1, bias=False), bn2(2 * w), nn.LeakyReLU(0.2),
                      nn.Flatten(), *d_fc, nn.Linear(fc or 2 * w * 7 * 7, 1))
    g_fc = [nn.Linear(z_dim, fc, bias=False), bn1(fc), nn.ReLU()] if fc else []
    G = nn.Sequential(*g_fc, nn.Linear(fc or z_dim, 7 * 7 * 2 * w, bias=False),
                      bn1(7 * 7 * 2 * w), nn.ReLU(), nn.Unflatten(1, (2 * w, 7, 7)),
                      nn.ConvTranspose2d(2 * w, w, 4, 2, 1, bias=False), bn2(w), nn.ReLU(),
                      nn.ConvTranspose2d(w, 1, 4, 2, 1), nn.Tanh())
    for m in list(D) + list(G):
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.normal_(m.weight, std=0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
    return G, D


def time_torch_dcgan(images: np.ndarray, iters: int, bfloat16: bool, warmup: int = 3,
                     width: int = 64, batch: int = 128, z_dim: int = 100,
                     fc: int = 0) -> float:
    """it/s of mnist-dcgan's iteration in PyTorch eager on the CPU: a D step on a real
    and a fake batch, then a G step on fresh z (Adam 2e-4, beta1 0.5), with
    bfloat16 autocast (torch.autocast('cpu', torch.bfloat16)) or in float32."""
    import torch  # lazy: optional
    from torch import nn
    torch.manual_seed(0)
    G, D = _torch_dcgan(width, z_dim, fc)
    adam = dict(lr=2e-4, betas=(0.5, 0.999), eps=1e-8)
    g_opt, d_opt = torch.optim.Adam(G.parameters(), **adam), \
        torch.optim.Adam(D.parameters(), **adam)
    bce = nn.functional.binary_cross_entropy_with_logits
    rng = np.random.default_rng(0)
    batches = HostBatches(images, batch, lambda e: rng.permutation(len(images)))
    cast = (lambda: torch.autocast("cpu", dtype=torch.bfloat16)) if bfloat16 \
        else contextlib.nullcontext

    def z():
        return torch.from_numpy(rng.uniform(-1, 1, (batch, z_dim)).astype(np.float32))

    def iteration(t):
        x = torch.from_numpy(batches.get(t) * 2 - 1).reshape(-1, 1, 28, 28)
        with cast():
            fake = G(z()).detach()
            real_l, fake_l = D(x), D(fake)
            d_loss = bce(real_l.float(), torch.ones_like(real_l, dtype=torch.float32)) + \
                bce(fake_l.float(), torch.zeros_like(fake_l, dtype=torch.float32))
        d_opt.zero_grad()
        d_loss.backward()
        d_opt.step()
        with cast():
            out = D(G(z()))
            g_loss = bce(out.float(), torch.ones_like(out, dtype=torch.float32))
        g_opt.zero_grad()
        g_loss.backward()
        g_opt.step()
        return d_loss.item(), g_loss.item()
    return time_iterations(iteration, iters, warmup)


def time_tf_tutorial_dcgan(cfg, images: np.ndarray, iters: int, warmup: int = 3) -> float:
    """it/s of TensorFlow's DCGAN tutorial as written there (from its published
    description): a tf.data pipeline (from_tensor_slices, shuffle, batch) feeding a
    @tf.function train_step that draws normal noise, makes one forward pass under two
    GradientTapes and applies both optimizers; its networks are family
    'dcgan_tutorial' (cfg: experiments/mnist_dcgan_tf_tutorial.py)."""
    import tensorflow as tf  # lazy: see the note at the top
    family = families.get(cfg)
    G, D = family.build_generator(cfg), family.build_discriminator(cfg)
    bce = tf.keras.losses.BinaryCrossentropy(from_logits=True)
    lr = cfg.params.lr
    g_opt, d_opt = tf.keras.optimizers.Adam(lr), tf.keras.optimizers.Adam(lr)
    x = (images.astype(np.float32) - 127.5) / 127.5
    data = tf.data.Dataset.from_tensor_slices(x).shuffle(len(x)).batch(cfg.batch_size)

    @tf.function
    def train_step(batch):
        noise = tf.random.normal([cfg.batch_size, cfg.z_dim])
        with tf.GradientTape() as gen_tape, tf.GradientTape() as disc_tape:
            fake = G(noise, training=True)
            real_out, fake_out = D(batch, training=True), D(fake, training=True)
            g_loss = bce(tf.ones_like(fake_out), fake_out)
            d_loss = bce(tf.ones_like(real_out), real_out) + bce(tf.zeros_like(fake_out),
                                                                 fake_out)
        g_opt.apply_gradients(zip(gen_tape.gradient(g_loss, G.trainable_variables),
                                  G.trainable_variables))
        d_opt.apply_gradients(zip(disc_tape.gradient(d_loss, D.trainable_variables),
                                  D.trainable_variables))
    # Full batches only: the tutorial's last partial batch would retrace the step.
    stream = iter(data.repeat().filter(lambda b: tf.shape(b)[0] == cfg.batch_size))
    for _ in range(warmup):
        train_step(next(stream))
    t0 = time.perf_counter()
    for _ in range(iters):
        train_step(next(stream))
    # (train_step returns nothing, as the tutorial's: wait for the last update)
    G.weights[0].numpy()
    return iters / (time.perf_counter() - t0)
