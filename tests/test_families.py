"""The model families' seam (gan_tf/families/): every registered family keeps one
contract; configs saved by every earlier version load through one migration; and
the least-squares GAN, added as one family file, computes and learns what its paper
says."""

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import ENV, REPO
from gan_tf import families
from gan_tf.core import migrate as migrate_module
from gan_tf.core import params as params_module
from gan_tf.core.config import Config, flat_values, override
from gan_tf.core.experiments import load_experiment
from gan_tf.core.migrate import ADDED_LATER, migrate
from gan_tf.core.errors import UserError
from gan_tf.families.adversarial import AdversarialFamily
from test_learning import Z, pca_fd  # noqa: F401  (pca_fd: the learning tests' fixture)

SAVED = sorted((Path(__file__).parent / "saved_configs").glob("2026-*.json"),
               key=lambda p: json.loads(p.read_text())["order"])


# --- one contract for every family

@pytest.mark.parametrize("family", sorted(families.FAMILIES))
def test_every_family_keeps_the_contract(family, mnist_dir, tmp_path):
    """Build, compiled steps, frames and GIF, a checkpoint, generator.keras loaded
    back, and a run stopped at 2 and resumed to 4 bit-identical to one run of 4."""
    out = subprocess.run([sys.executable, str(REPO / "tests" / "family_contract.py"), family,
                          str(mnist_dir), str(tmp_path)], env=ENV, capture_output=True,
                         text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    r = json.loads(out.stdout.strip().splitlines()[-1])
    assert r["family"] == family and r["config_round_trip"] and r["status"] == "complete"
    assert r["checkpoint_arrays"] > 4 and r["resume_differs"] == []
    assert r["frames"] == 3 and r["gif"]           # iterations 0, 2, 4
    assert r["generator_shape"] == [8, 784] and r["generator_finite"]
    if isinstance(families.get(family), AdversarialFamily):      # one logit a sample, or a pack
        # (AC-GAN's and InfoGAN's: the source logit and the class's or the codes'
        # negative log-likelihood)
        assert r["d_shape"] == [8 // (2 if family == "pacgan" else 1),
                                2 if family in ("acgan", "infogan") else 1]


def test_the_registry_and_the_configs_name_the_same_families():
    assert set(families.FAMILIES) == set(params_module.FAMILY_PARAMS)
    assert {"mlp", "dcgan", "dcgan_tutorial", "maxout", "vae", "lsgan", "pacgan", "wgan",
            "wgan_dcgan", "acgan", "infogan"} <= set(families.FAMILIES)
    for name, family in families.FAMILIES.items():
        assert family.name == name and family.Params.FAMILY == name
        cfg = Config.of(family=name)      # every family's defaults are a valid config
        assert type(cfg.params) is family.Params
        assert Config.from_json(cfg.to_json()) == cfg


def test_a_parameter_of_another_family_is_refused_by_name():
    with pytest.raises(UserError, match="conv_width is a parameter of families dcgan, "
                                        r"wgan_dcgan, not of 'mlp': drop conv_width \(or "
                                        "choose one of those families"):
        override(Config(), {"conv_width": 32})
    # the options only some families have: the GANs' shared step's, the tutorial's losses
    with pytest.raises(UserError, match="lr_decay is a parameter of families .*, not of "
                                        "'semi_supervised'"):
        override(Config.of(family="semi_supervised"), {"lr_decay": 1.5})
    with pytest.raises(UserError, match="loss is a parameter of families .*, not of 'lsgan'"):
        override(Config.of(family="lsgan"), {"loss": "xent"})
    with pytest.raises(UserError, match="info_weight is a parameter of family infogan, not of "
                                        r"'mlp'; add --family infogan \(or drop info_weight\)"):
        override(Config(), {"info_weight": 0.5})
    with pytest.raises(UserError, match="unknown family 'gan2'"):
        override(Config(), {"family": "gan2"})
    with pytest.raises(UserError, match="not family 'dcgan''s"):
        Config(family="dcgan", params=Config().params)
    # A new family starts from its own defaults; the flat flags still choose one.
    assert override(Config(), {"arch": "dcgan"}) == Config.of(family="dcgan")
    assert override(Config(), {"model": "vae"}).family == "vae"
    assert override(Config.of(family="vae"), {"model": "gan"}).family == "mlp"
    with pytest.raises(UserError, match="disagree"):
        override(Config(), {"family": "lsgan", "arch": "dcgan"})


# --- configs saved by every earlier version

def _variants(saved: dict) -> list[tuple[dict, str]]:
    """The version's default config, and where the version had them, a DCGAN, a VAE
    and the paper's maxout model as that version saved them (flat)."""
    out = [(saved, "mlp")]
    if "arch" in saved:
        out.append(({**saved, "arch": "dcgan", "conv_width": 32, "g_output": "tanh"}, "dcgan"))
    if "model" in saved:
        out.append(({**saved, "model": "vae"}, "vae"))
    if "maxout_pieces" in saved:
        out.append(({**saved, "arch": "maxout", "d_hidden": [240, 240], "g_hidden": [1200],
                     "maxout_pieces": 5, "d_keep": [0.8, 0.5, 0.5]}, "maxout"))
    return out


@pytest.mark.parametrize("path", SAVED, ids=[p.stem for p in SAVED])
def test_a_config_saved_by_every_earlier_version_loads_as_it_trained(path):
    """tests/saved_configs/DATE-COMMIT.json: Config() as each version that changed the
    set of fields saved it (config.json, sweep.json), read from that commit's source.
    Every value saved is the value loaded (flat keys into the family's parameters,
    'hidden' into both nets'), every key the version lacked is ADDED_LATER's."""
    saved = json.loads(path.read_text())["config"]
    for values, family in _variants(saved):
        cfg = Config.from_dict(json.loads(json.dumps(values)))    # lists, as JSON has
        assert cfg.family == family
        flat = flat_values(cfg)
        for key, value in values.items():
            if key == "hidden":
                assert flat["d_hidden"] == flat["g_hidden"] == (value,)
            elif key in flat:
                assert flat[key] == (tuple(value) if type(value) is list else value), key
            else:   # a flat key the family does not own (it did nothing for it), or
                # an option the family does not have now, at the default it had then
                assert (key in migrate_module.FLAT_FAMILY_KEYS
                        or value == migrate_module.SHARED_TO_PARAMS[key]), key
        for key, value in ADDED_LATER.items():
            if key not in values and key in flat and not (key.endswith("hidden")
                                                          and "hidden" in values):
                assert flat[key] == value, key
        # and it is saved again in this version's form, which loads as itself
        again = json.loads(cfg.to_json())
        assert again["family"] == family and isinstance(again["params"], dict)
        assert Config.from_dict(again) == cfg


def test_the_saved_versions_cover_every_field_set_in_history():
    """One file per distinct set of Config fields up to the families (7, from the
    first commit), the last being the flat version before them."""
    assert len(SAVED) == 7
    last = json.loads(SAVED[-1].read_text())["config"]
    # the flat version: today's shared fields and the keys the families took over, less
    # the run options and the parameters added since (each parameter records its
    # `before` value)
    since = {f.name for f in dataclasses.fields(Config().params) if "before" in f.metadata}
    assert set(last) == (set(flat_values(Config())) - {"family"} - since
                         - set(migrate_module.ADDED_TO_RUN_LAYOUT)) | set(
        migrate_module.FLAT_FAMILY_KEYS)
    assert migrate(last)["family"] == "mlp"


# Experiments changed on purpose since the shared layout was saved, with what they
# were: the semi-supervised GAN moved to its authors' 60,000 images and per-epoch test
# errors (issue 47).
EXPERIMENTS_CHANGED_SINCE_SHARED = {
    "mnist-semi-supervised": {"split": "tutorial", "snapshot_every": 550, "log_every": 550,
                              "eval_every": 0}}


def test_every_config_of_the_shared_layout_loads_as_it_trained():
    """tests/saved_configs/shared-1046afc.json: every family's smallest config and every
    experiment as the last version with forty options beside family and params saved
    them. Each value lands where it means the same (a family parameter now, or a run
    option); an option the family does not have now held the value it trained with."""
    saved = json.loads((Path(__file__).parent / "saved_configs"
                        / "shared-1046afc.json").read_text())
    assert len(saved["families"]) == len(families.FAMILIES)
    for name, values in saved["experiments"].items():
        then, now = Config.from_dict(values), load_experiment(name)
        changed = EXPERIMENTS_CHANGED_SINCE_SHARED.get(name, {})
        # An experiment changed since keeps its old values in its saved runs.
        assert {k: getattr(then, k) for k in changed} == changed, name
        assert then == dataclasses.replace(now, **changed), name
    for family, values in saved["families"].items():
        cfg = Config.from_dict(values)
        flat = flat_values(cfg)
        shared = {k: v for k, v in values.items() if k != "params"}
        for key, value in {**shared, **values["params"]}.items():
            value = tuple(value) if type(value) is list else value
            if key in flat:
                assert flat[key] == value, (family, key)
            else:
                assert value in (migrate_module.SHARED_TO_PARAMS[key],
                                 getattr(type(cfg.params), key, None)), (family, key)
        assert Config.from_dict(json.loads(cfg.to_json())) == cfg


def test_every_experiment_is_the_config_it_was_before_the_families():
    """experiments/*.py of the flat version, as they saved (tests/saved_configs/
    experiments-before-families.json), load as today's experiments."""
    saved = json.loads((Path(__file__).parent / "saved_configs"
                        / "experiments-before-families.json").read_text())
    for name, values in saved.items():
        assert Config.from_dict(values) == load_experiment(name), name


# --- the least-squares GAN

def test_least_squares_losses_against_hand_computed_values():
    from gan_tf.families import lsgan
    real, fake = np.array([[2.0], [0.0]], np.float32), np.array([[-1.0], [1.0]], np.float32)
    # a = -1, b = 1: 1/2 [((2-1)^2 + (0-1)^2)/2] + 1/2 [((-1+1)^2 + (1+1)^2)/2] = 0.5 + 1
    assert float(lsgan.d_loss(real, fake, a=-1.0, b=1.0)) == pytest.approx(1.5)
    # c = 0: 1/2 ((-1)^2 + 1^2)/2 = 0.5; the 0-1 coding's c = 1: 1/2 (4 + 0)/2 = 1
    assert float(lsgan.g_loss(fake, c=0.0)) == pytest.approx(0.5)
    assert float(lsgan.g_loss(fake, c=1.0)) == pytest.approx(1.0)
    d_loss, g_loss = families.get("lsgan").losses(override(Config.of(family="lsgan"),
                                                           {"ls_a": 0.0, "ls_c": 1.0}))
    # a = 0, b = 1: 1/2 ((2-1)^2 + (0-1)^2)/2 + 1/2 ((-1-0)^2 + (1-0)^2)/2 = 0.5 + 0.5
    assert float(d_loss(real, fake)) == pytest.approx(1.0)
    assert float(g_loss(fake)) == pytest.approx(1.0)


def test_least_squares_refuses_what_it_cannot_mean():
    for changes, words in (({"loss": "xent"}, "loss is a parameter of families"),
                           ({"g_loss": "minimax"}, "g_loss is a parameter of families"),
                           ({"ls_a": 1.0}, "ls_a and ls_b must differ"),
                           ({"ls_c": float("nan")}, "must be finite numbers")):
        with pytest.raises(UserError, match=None) as e:
            override(Config.of(family="lsgan"), changes)
        assert words in str(e.value)


# Measured here (PCA Frechet distance of tests/test_learning.py; 51 before training):
# 19.9 after 3,000 iterations; with G's target c moved to D's fake label (c = a = -1:
# G asks to be called fake, the least-squares term turned against it) 47.9.
LS_ITERS = 3000


def _lsgan_fd(pca_fd, mnist, **changes):
    from gan_tf.training.build import build_trainer
    cfg = override(load_experiment("mnist-lsgan"), changes)
    trainer = build_trainer(cfg, mnist.train_images)
    before = pca_fd(trainer.G(Z).numpy())
    trainer.chunk(LS_ITERS)
    return before, pca_fd(trainer.G(Z).numpy())


@pytest.mark.slow
def test_the_least_squares_gan_learns(pca_fd, mnist):
    before, after = _lsgan_fd(pca_fd, mnist)
    assert after < 0.5 * before, (before, after)


@pytest.mark.slow
def test_the_least_squares_criterion_fails_when_gs_target_is_turned_against_it(pca_fd,
                                                                              mnist):
    before, after = _lsgan_fd(pca_fd, mnist, ls_c=-1.0)
    assert not after < 0.5 * before, (before, after)


# --- the Wasserstein critic: WGAN and WGAN-GP

def test_wasserstein_losses_against_hand_computed_values():
    from gan_tf.models import wasserstein
    real, fake = np.array([[2.0], [0.0]], np.float32), np.array([[-1.0], [3.0]], np.float32)
    # E[f(G(z))] - E[f(x)] = (-1 + 3)/2 - (2 + 0)/2 = 0; G: -E[f(G(z))] = -1
    assert float(wasserstein.critic_loss(real, fake)) == pytest.approx(0.0)
    assert float(wasserstein.generator_loss(fake)) == pytest.approx(-1.0)
    fake = np.array([[-1.0], [-3.0]], np.float32)
    assert float(wasserstein.critic_loss(real, fake)) == pytest.approx(-3.0)   # -2 - 1
    assert families.get("wgan").losses(Config.of(family="wgan")) == (
        wasserstein.critic_loss, wasserstein.generator_loss)


def _critic(hidden=(16,), seed=3):
    cfg = override(Config.of(family="wgan"), {"d_hidden": hidden, "clip": 0.0,
                                           "gp_weight": 10.0, "seed": seed})
    return cfg, families.get(cfg).build_discriminator(cfg)


def test_the_gradient_penalty_against_finite_differences():
    """Each sample's slope ||grad f(x^)|| by central differences over its 784 pixels
    (float64 sums of the float32 critic's outputs), at x^ = real + eps (fake - real)."""
    import tensorflow as tf

    from gan_tf.models import wasserstein
    _, D = _critic()
    rng = np.random.default_rng(0)
    real = rng.uniform(0, 1, (3, 784)).astype(np.float32)
    fake = rng.uniform(0, 1, (3, 784)).astype(np.float32)
    eps = np.array([[0.0], [0.3], [1.0]], np.float32)
    x_hat = real + eps * (fake - real)
    h = 1e-2
    slopes = []
    for x in x_hat:
        steps = np.eye(784, dtype=np.float32) * h
        up = D(x + steps, training=True).numpy().astype(np.float64)[:, 0]
        down = D(x - steps, training=True).numpy().astype(np.float64)[:, 0]
        slopes.append(np.linalg.norm((up - down) / (2 * h)))
    by_hand = np.mean((np.array(slopes) - 1.0) ** 2)
    got = float(wasserstein.gradient_penalty(lambda v: D(v, training=True), real, fake, eps))
    assert got == pytest.approx(by_hand, rel=1e-3), (got, by_hand, slopes)
    assert 0.01 < min(slopes) and by_hand > 1e-3      # a test that could fail
    # eps picks the point: 0 is the real image, 1 the fake one.
    at_real = float(wasserstein.gradient_penalty(lambda v: D(v, training=True), real, fake,
                                                  np.zeros((3, 1), np.float32)))
    alone = float(wasserstein.gradient_penalty(lambda v: D(v, training=True), real, real,
                                                np.full((3, 1), 0.7, np.float32)))
    assert at_real == pytest.approx(alone, rel=1e-6)
    # The penalty's gradient reaches every kernel of the critic (a second derivative;
    # the biases move the slopes only through ReLU's kinks, the last one not at all).
    kernels = [v for v in D.trainable_variables if v.path.endswith("kernel")]
    with tf.GradientTape() as tape:
        p = wasserstein.gradient_penalty(lambda v: D(v, training=True), real, fake, eps)
    grads = tape.gradient(p, kernels)
    assert len(kernels) == 2 and all(g is not None and np.isfinite(g.numpy()).all()
                                     and float(tf.reduce_max(tf.abs(g))) > 0 for g in grads)


def test_the_critic_step_adds_the_penalty_and_clips_after_the_update(mnist):
    """One D step of the loop, by hand: the penalty is in D's loss at the eps of the
    GP stream; the clipped critic's weights all end inside [-c, c], and the reported
    d_real - d_fake is the critic's Wasserstein estimate, -d_loss."""
    from gan_tf.training.build import build_trainer
    from gan_tf.data.streams import interpolation_weights
    cfg = override(Config.of(family="wgan"), {"d_hidden": (16,), "g_hidden": (16,),
                                           "clip": 0.0, "gp_weight": 10.0, "batch_size": 8})
    trainer = build_trainer(cfg, mnist.train_images[:64])
    x, _ = trainer.batch(0)
    z = trainer.z_batch(1, 0)
    fake = trainer.G(z, training=True)
    from gan_tf.models import wasserstein
    eps = interpolation_weights(cfg.seed, 0, 8)
    expected = float(wasserstein.critic_loss(trainer.D(x, training=True),
                                             trainer.D(fake, training=True))
                     + 10.0 * wasserstein.gradient_penalty(
                         lambda v: trainer.D(v, training=True), x, fake, eps))
    out = trainer.d_step(x, None, z, 0)
    assert float(out["d_loss"]) == pytest.approx(expected, rel=1e-5)
    assert float(out["d_loss"]) > -(float(out["d_real"]) - float(out["d_fake"]))  # + penalty

    cfg = override(cfg, {"clip": 0.01, "gp_weight": 0.0, "optimizer": "rmsprop"})
    trainer = build_trainer(cfg, mnist.train_images[:64])
    for v in trainer.D.trainable_variables:       # start far outside the box
        v.assign(v * 0 + 0.5)
    out = trainer.d_step(x, None, z, 0)
    assert all(float(np.abs(v.numpy()).max()) <= 0.01 for v in trainer.D.trainable_variables)
    assert float(out["d_loss"]) == pytest.approx(
        -(float(out["d_real"]) - float(out["d_fake"])), rel=1e-6)
    # Weights inside the box are left as they are.
    inside = [np.full(v.shape, 0.004, np.float32) for v in trainer.D.trainable_variables]
    for v, w in zip(trainer.D.trainable_variables, inside):
        v.assign(w)
    families.get(cfg).after_d_update(cfg, trainer.D)
    for v, w in zip(trainer.D.trainable_variables, inside):
        np.testing.assert_array_equal(v.numpy(), w)


def test_the_wasserstein_families_refuse_what_they_cannot_mean():
    for family, changes, words in (
            ("wgan", {"gp_weight": 10.0}, "choose one way to keep the critic Lipschitz"),
            ("wgan", {"clip": float("nan")}, "clip must be a number in [0, 10]"),
            ("wgan", {"gp_weight": -1.0, "clip": 0.0}, "gp_weight must be a number"),
            ("wgan", {"loss": "xent"}, "loss is a parameter of families"),
            ("wgan", {"update": "simultaneous"}, "drop update='simultaneous'"),
            ("wgan_dcgan", {"gp_weight": 10.0, "clip": 0.0}, "add --no-d-batch-norm")):
        with pytest.raises(UserError) as e:
            override(Config.of(family=family), changes)
        assert words in str(e.value), str(e.value)
    # An unconstrained critic is allowed: it is the ablation below.
    assert override(Config.of(family="wgan"), {"clip": 0.0}).params.clip == 0.0


def test_rmsprop_is_the_wgan_authors():
    from gan_tf.models.optimizers import make_optimizer
    opt = make_optimizer(override(Config(), {"optimizer": "rmsprop", "lr": 5e-5}))
    assert type(opt).__name__ == "RMSprop"
    assert (opt.rho, opt.momentum, opt.epsilon) == (0.99, 0.0, 1e-8)
    assert float(opt.learning_rate) == pytest.approx(5e-5)


# Measured here (the PCA Frechet distance of tests/test_learning.py, 51 before
# training), after 1,500 G steps of 5 critic steps each: WGAN-GP 8.7, without its
# penalty 23.6; the clipped WGAN at 10x the paper's learning rate (5e-4, so that the
# test is short; at 5e-5 it moves from 51 to 23.5 in 3,000 steps, as does an
# unconstrained critic) 8.4, without the clipping 20.5.
WGAN_ITERS = 1500


def _wgan_fd(pca_fd, mnist, experiment, **changes):
    from gan_tf.training.build import build_trainer
    cfg = override(load_experiment(experiment), {"eval_every": 0, **changes})
    trainer = build_trainer(cfg, mnist.train_images)
    before = pca_fd(trainer.G(Z).numpy())
    trainer.chunk(WGAN_ITERS)
    return before, pca_fd(trainer.G(Z).numpy())


@pytest.mark.slow
@pytest.mark.parametrize("experiment, changes, learns", [
    ("mnist-wgan-gp", {}, True),
    ("mnist-wgan-gp", {"gp_weight": 0.0}, False),
    ("mnist-wgan", {"lr": 5e-4}, True),
    ("mnist-wgan", {"lr": 5e-4, "clip": 0.0}, False)])
def test_the_wasserstein_critic_learns_and_fails_without_its_constraint(pca_fd, mnist,
                                                                        experiment, changes,
                                                                        learns):
    before, after = _wgan_fd(pca_fd, mnist, experiment, **changes)
    assert (after < 0.25 * before) == learns, (before, after)


# --- AC-GAN: D also predicts the class

def test_acgan_losses_against_hand_computed_values():
    from gan_tf.families import acgan
    # (source logit, -log p(class | x)); softplus(-x) = -log sigmoid(x)
    real = np.array([[0.0, 0.5], [2.0, 1.5]], np.float32)
    fake = np.array([[0.0, 2.0], [-1.0, 0.0]], np.float32)
    sp = lambda v: np.log1p(np.exp(v))                   # noqa: E731
    source = np.mean([sp(-0.0), sp(-2.0)]) + np.mean([sp(0.0), sp(-1.0)])
    g = np.mean([sp(-0.0), sp(1.0)])
    d_loss, g_loss = families.get("acgan").losses(load_experiment("mnist-acgan"))
    assert float(d_loss(real, fake)) == pytest.approx(source + 1.0 + 1.0, rel=1e-6)
    assert float(g_loss(fake)) == pytest.approx(g + 1.0, rel=1e-6)
    d_loss, g_loss = families.get("acgan").losses(override(load_experiment("mnist-acgan"),
                                                           {"class_weight": 0.0}))
    assert float(d_loss(real, fake)) == pytest.approx(source, rel=1e-6)
    assert float(g_loss(fake)) == pytest.approx(g, rel=1e-6)
    assert float(acgan.g_loss(fake, lambda f: 0.0, class_weight=2.0)) == pytest.approx(2.0)


def test_acgans_d_predicts_the_label_it_is_not_shown():
    import tensorflow as tf
    cfg = override(Config.of(family="acgan"), {"d_hidden": (8,), "loss": "xent"})
    family = families.get(cfg)
    D = family.build_discriminator(cfg)
    assert cfg.conditional and len(D.inputs) == 1 and D.output_shape == (None, 11)
    assert len(family.build_generator(cfg).inputs) == 2          # G is told the label
    x = np.random.default_rng(0).uniform(0, 1, (4, 784)).astype(np.float32)
    y = np.eye(10, dtype=np.float32)[[3, 1, 4, 1]]
    out = family.d_logits(D, tf.constant(x), tf.constant(y)).numpy()
    raw = D(x, training=True).numpy()
    logp = raw[:, 1:] - np.log(np.exp(raw[:, 1:]).sum(1, keepdims=True))
    np.testing.assert_allclose(out[:, 0], raw[:, 0], rtol=1e-6)
    np.testing.assert_allclose(out[:, 1], -logp[np.arange(4), [3, 1, 4, 1]], rtol=1e-5)
    for changes, words in (({"update": "simultaneous"}, "trains with alternating updates"),
                           ({"class_weight": float("inf")}, "class_weight must be a number")):
        with pytest.raises(UserError, match=words):
            override(cfg, changes)


# Measured here (the committed classifier on 1,000 samples, 100 of each label): after
# 5,000 iterations of mnist-acgan 43% are read as the label G was asked for; with
# class_weight 0, 10%, chance (the cGAN's MLP, told the label instead: 24%, and 76%
# after 10,000).
ACGAN_ITERS = 5000


@pytest.mark.slow
@pytest.mark.parametrize("class_weight, draws_its_label", [(1.0, True), (0.0, False)])
def test_acgan_learns_to_draw_the_label_and_not_without_its_class_term(mnist, class_weight,
                                                                       draws_its_label):
    from gan_tf.evaluation.classifier import accuracy, load_classifier
    from gan_tf.models.networks import unit_images
    from gan_tf.training.build import build_trainer
    cfg = override(load_experiment("mnist-acgan"), {"class_weight": class_weight})
    trainer = build_trainer(cfg, mnist.train_images, mnist.train_labels)
    trainer.chunk(ACGAN_ITERS)
    labels = np.arange(1000) % 10
    acc = accuracy(load_classifier(), unit_images(trainer.G, Z[:1000], labels), labels)
    assert (acc > 0.3) == draws_its_label and (acc < 0.15) == (not draws_its_label), acc


# --- InfoGAN: codes read back by Q

def test_the_best_assignment_of_codes_to_digits_against_every_permutation():
    import itertools

    from gan_tf.evaluation.codes import best_assignment, code_accuracy
    rng = np.random.default_rng(0)
    for rows, cols in ((4, 4), (5, 5), (3, 6)):
        counts = rng.integers(0, 50, (rows, cols))
        brute = max(sum(counts[r, p[r]] for r in range(rows))
                    for p in itertools.permutations(range(cols), rows))
        assignment, matched = best_assignment(counts)
        assert matched == brute and len(set(assignment)) == rows
        assert sum(counts[r, c] for r, c in enumerate(assignment)) == matched
    # Two codes drawing the same digit: only one of them can be matched to it.
    r = code_accuracy(np.array([[90, 10], [80, 20]]))
    assert r["accuracy"] == pytest.approx((90 + 20) / 200) and r["assignment"] == [0, 1]
    assert r["purity"] == [0.9, 0.8]


def test_infogans_codes_go_into_g_and_come_back_out_of_q():
    import tensorflow as tf

    from gan_tf.families import infogan
    from gan_tf.models.networks import InfoCodes, category_index
    assert category_index(tf.constant([-1.0, -0.81, -0.79, 0.0, 0.99, 1.0]), 10).numpy(
    ).tolist() == [0, 0, 1, 5, 9, 9]
    z = np.array([[0.5, -0.3, -0.9, 0.25, -0.5]], np.float32)   # noise 2, code, 2 codes
    out = InfoCodes(2, 4)(z).numpy()
    np.testing.assert_array_equal(out, np.array([[0.5, -0.3, 1, 0, 0, 0, 0.25, -0.5]],
                                                np.float32))
    cfg = override(load_experiment("mnist-infogan"), {"d_hidden": (8,), "g_hidden": (8,)})
    family = families.get(cfg)
    G, D = family.build_generator(cfg), family.build_discriminator(cfg)
    assert G.input_shape == (None, 65) and D.output_shape == (None, 13)
    assert D.info_codes == (62, 10, 2)
    zs = np.random.default_rng(0).uniform(-1, 1, (4, 65)).astype(np.float32)
    x = G(zs)
    raw = D(x, training=True).numpy()
    out = family.d_logits(D, x, None, None, tf.constant(zs)).numpy()
    q = raw[:, 1:11]
    logp = q - np.log(np.exp(q).sum(1, keepdims=True))
    cat = np.clip(np.floor((zs[:, 62] + 1) * 5).astype(int), 0, 9)
    by_hand = -logp[np.arange(4), cat] + 0.5 * ((zs[:, 63:] - raw[:, 11:]) ** 2).sum(1)
    np.testing.assert_allclose(out[:, 0], raw[:, 0], rtol=1e-6)
    np.testing.assert_allclose(out[:, 1], by_hand, rtol=1e-5)
    real = family.d_logits(D, x, None).numpy()
    assert (real[:, 1] == 0).all()                       # no codes behind a real image
    d_loss, g_loss = family.losses(cfg)
    source_d, source_g = families.get("mlp").losses(cfg)
    assert float(d_loss(real, out)) == pytest.approx(
        float(source_d(real[:, :1], out[:, :1])) + by_hand.mean(), rel=1e-5)
    assert float(g_loss(out)) == pytest.approx(float(source_g(out[:, :1])) + by_hand.mean(),
                                               rel=1e-5)
    for changes, words in (({"z_dim": 3}, "must hold at least one noise value"),
                           ({"info_weight": float("nan")}, "info_weight must be a number"),
                           ({"categorical": 1}, "categorical must be an integer")):
        with pytest.raises(UserError, match=words):
            override(cfg, changes)


def test_the_codes_report_of_a_trained_infogan(mnist, tmp_path, capsys):
    from gan_tf.studies.reports import info_codes
    from gan_tf.training import run as train_lib
    cfg = override(load_experiment("mnist-infogan"), {"d_hidden": (8,), "g_hidden": (8,),
                                                     "iters": 2, "snapshot_every": 2,
                                                     "log_every": 1, "tensorboard": False})
    train_lib.train(cfg, tmp_path / "run", data=mnist, log=lambda line: None)
    out = info_codes.study(tmp_path / "run", tmp_path / "codes")
    row = out["seeds"]["0"]
    assert 0.1 <= row["accuracy"] <= 1 and len(set(row["assignment"])) == 10
    assert np.array(row["confusion"]).sum() == 10 * info_codes.PER_CODE
    assert sorted(p.name for p in (tmp_path / "codes").glob("*.png")) == [
        "codes-seed-0-c2.png", "codes-seed-0-c3.png"]
    assert "the categorical code's accuracy" in capsys.readouterr().out
    train_lib.train(override(Config(), {"iters": 2, "snapshot_every": 2, "log_every": 1,
                                        "tensorboard": False}), tmp_path / "plain",
                    data=mnist, log=lambda line: None)
    with pytest.raises(UserError, match="not an InfoGAN's: give a run of make mnist-infogan"):
        info_codes.study(tmp_path / "plain", tmp_path / "codes2")


# Measured here (the committed classifier, 100 samples per code value, the best
# assignment of code values to digits): after 10,000 iterations of mnist-infogan the
# categorical code picks a digit for 26% of the samples on seed 0 (38% on seed 1);
# with info_weight 0, 15% (chance is 10%; a G whose samples vary by digit at all
# scores above it by the assignment's choice).
INFO_ITERS = 10_000


@pytest.mark.slow
@pytest.mark.parametrize("info_weight, picks_digits", [(1.0, True), (0.0, False)])
def test_infogans_code_picks_digits_and_not_without_the_information_term(mnist, info_weight,
                                                                         picks_digits):
    from gan_tf.evaluation.classifier import load_classifier
    from gan_tf.studies.reports import info_codes
    from gan_tf.training.build import build_trainer
    cfg = override(load_experiment("mnist-infogan"), {"info_weight": info_weight})
    trainer = build_trainer(cfg, mnist.train_images)
    trainer.chunk(INFO_ITERS)
    acc = info_codes.measure(trainer.G, cfg, load_classifier(), per_code=100)["accuracy"]
    assert (acc > 0.2) == picks_digits and (acc < 0.18) == (not picks_digits), acc


# --- PacGAN's packed D

def test_the_packed_d_judges_packs_of_consecutive_samples():
    import tensorflow as tf
    cfg = override(Config.of(family="pacgan"), {"pack": 3, "batch_size": 6, "d_hidden": (8,)})
    family = families.get(cfg)
    D = family.build_discriminator(cfg)
    assert D.inputs[0].shape[-1] == 3 * 784
    x = tf.constant(np.random.default_rng(0).uniform(0, 1, (6, 784)), tf.float32)
    got = family.d_logits(D, x, None).numpy()
    by_hand = D(np.concatenate([x.numpy()[0:3].reshape(1, -1), x.numpy()[3:6].reshape(1, -1)]),
                training=True).numpy()
    np.testing.assert_array_equal(got, by_hand)
    with pytest.raises(UserError, match="batch_size .* must be a multiple of pack"):
        override(cfg, {"batch_size": 128})


# --- run folders of the flat version resume bit-identically

@pytest.mark.parametrize("name", ["mlp", "maxout", "vae", "dcgan"])
def test_a_run_folder_of_the_flat_version_resumes_bit_identically(name, mnist_dir, tmp_path,
                                                                  cpu_reference):
    """tests/saved_runs/NAME: stopped at 10 by the version before the families (its
    config.json flat). Resumed here to 20, every array equals that version's own
    uninterrupted run at 20; the config is then saved in today's form."""
    run = resume_saved_run(name, mnist_dir, tmp_path,
                           check_saved=lambda r: "arch" in json.loads(
                               (r / "config.json").read_text()))
    again = json.loads((run / "config.json").read_text())
    assert "params" in again and "arch" not in again


@pytest.mark.slow
@pytest.mark.parametrize("name", ["srgan", "cyclegan", "wgan_gp", "infogan"])
def test_a_run_folder_of_the_trainer_version_resumes_bit_identically(name, mnist_dir,
                                                                      tmp_path, cpu_reference):
    """tests/saved_runs/NAME: stopped at 10 by the version before the families owned
    their steps (27f895e: SRGAN's and CycleGAN's Trainer subclasses, the GAN loop's
    hooks). Resumed here to 20 by the family's own step, every array equals that
    version's uninterrupted run at 20: SRGAN crossing its switch from MSE to the
    adversarial steps (at 15), CycleGAN its pools and falling learning rate, WGAN-GP
    its 5 critic steps and penalty draws, InfoGAN its codes read back."""
    resume_saved_run(name, mnist_dir, tmp_path)


@pytest.mark.parametrize("name", ["semi_supervised", "lsgan"])
def test_a_run_folder_of_the_shared_layout_resumes_bit_identically(name, mnist_dir,
                                                                    tmp_path, cpu_reference):
    """tests/saved_runs/NAME: stopped at 10 by the last version whose config held forty
    options beside family and params (1046afc). Resumed here to 20, every array equals
    that version's uninterrupted run at 20: the semi-supervised GAN's Adam options now
    its parameters and the adversarial step's options dropped (it had none of them);
    the least-squares GAN's sigmoid-loss options dropped."""
    run = resume_saved_run(name, mnist_dir, tmp_path,
                           check_saved=lambda r: "lr" in json.loads(
                               (r / "config.json").read_text()))
    again = json.loads((run / "config.json").read_text())
    assert "lr" not in again and "lr" in again["params"] and "loss" not in again["params"]


def resume_saved_run(name, mnist_dir, tmp_path, check_saved=lambda run: True) -> Path:
    """A copy of tests/saved_runs/NAME (stopped at 10) resumed to 20 by today's code;
    every array must equal NAME-iteration-20.npz, the saving version's own run at 20.
    Those references were computed on a CPU: the callers take the `cpu_reference`
    fixture, which skips them on a GPU."""
    import shutil

    from gan_tf.runs.folder import RunFolder
    saved = Path(__file__).parent / "saved_runs"
    run = tmp_path / name
    shutil.copytree(saved / name, run)
    assert check_saved(run)
    out = subprocess.run([sys.executable, "-m", "gan_tf.train", "--resume", "--iters", "20",
                          "--run-dir", str(run), "--data-dir", str(mnist_dir)], env=ENV,
                         capture_output=True, text=True, timeout=600, cwd=REPO)
    assert out.returncode == 0, out.stderr[-2000:]
    got = RunFolder(run).read_checkpoint()
    want = dict(np.load(saved / f"{name}-iteration-20.npz"))
    assert sorted(got) == sorted(want) and int(got["iteration"]) == 20
    assert [k for k in want if not np.array_equal(got[k], want[k])] == []
    return run

