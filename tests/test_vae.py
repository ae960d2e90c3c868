"""The VAE: its ELBO terms by hand, the u -> z layer, the importance-weighted bound,
a short real training that must learn (and broken variants that must not), whole
runs (outputs, likelihood.json, stop and resume bit-identical) and the blur measure."""

import dataclasses
import json
import math
import os
import signal

import numpy as np
import pytest
import tensorflow as tf

from gan_tf import families, vae_likelihood
from gan_tf.core.config import Config, override
from gan_tf.core.errors import UserError
from gan_tf.evaluation import likelihood as lik
from gan_tf.evaluation import metrics
from gan_tf.models import losses, vae
from gan_tf.runs.folder import RunFolder
from gan_tf.training import run as train_lib
from gan_tf.training.loop import Driver

SHORT = Config.of(family="vae", iters=300, snapshot_every=100, log_every=50)
LEARN_ITERS = 400
TRAIN_SUBSET = 10_000


def t(values):
    return tf.constant(values, tf.float32)


# --- the ELBO's terms against values computed by hand

def test_elbo_terms_against_a_case_computed_by_hand():
    # Three pixels x with decoder logits l, two latents.
    x, l = [1.0, 0.0, 0.5], [0.0, 2.0, -1.0]
    mu, logvar = [0.5, -1.0], [0.0, math.log(2.0)]
    # -log p(x|z) = -sum x log p + (1 - x) log(1 - p), p = 1 / (1 + e^-l):
    # pixel 1: p = 1/2, x = 1: log 2; pixel 2: 1 - p = 1/(1 + e^2), x = 0: log(1 + e^2);
    # pixel 3: p = 1/(1 + e), x = 1/2: (log(1 + e) + log(1 + e^-1)) / 2.
    rec = math.log(2) + math.log(1 + math.e ** 2) + 0.5 * (math.log(1 + math.e)
                                                           + math.log(1 + 1 / math.e))
    assert rec == pytest.approx(3.633337, abs=1e-6)
    # KL = 1/2 sum (sigma^2 + mu^2 - 1 - log sigma^2) = 1/2 (0.25 + (2 + 1 - 1 - log 2)).
    kl = 0.5 * (0.25 + 2.0 - math.log(2))
    got_rec, got_kl = losses.vae_terms(t([x]), t([l]), t([mu]), t([logvar]))
    assert float(got_rec) == pytest.approx(rec, rel=1e-6)
    assert float(got_kl) == pytest.approx(kl, rel=1e-6)
    # Batch means: a second, identical row changes nothing.
    two = losses.vae_terms(t([x, x]), t([l, l]), t([mu, mu]), t([logvar, logvar]))
    assert [float(v) for v in two] == pytest.approx([rec, kl], rel=1e-6)
    # log N(z; mu, sigma^2) for z = (0, 0): -1/2 (2 log 2 pi + log 2 + 0.25 + 1/2).
    want = -0.5 * (2 * math.log(2 * math.pi) + math.log(2) + 0.25 + 0.5)
    got = losses.gaussian_log_density(t([[0.0, 0.0]]), t([mu]), t([logvar]))
    assert float(got[0]) == pytest.approx(want, rel=1e-6)


def test_continuous_bernoulli_constant_makes_a_density():
    logits = np.array([-30.0, -5.0, -0.5, -1e-4, 0.0, 1e-4, 0.3, 8.0])
    p = 1 / (1 + np.exp(-logits))
    direct = np.where(np.abs(1 - 2 * p) < 1e-6, 2.0,
                      2 * np.arctanh(np.clip(1 - 2 * p, -1 + 1e-15, 1 - 1e-15))
                      / np.where(np.abs(1 - 2 * p) < 1e-6, 1.0, 1 - 2 * p))
    got = [float(losses.continuous_bernoulli_log_norm(t([[v]]))[0]) for v in logits]
    np.testing.assert_allclose(got, np.log(direct), rtol=1e-4)
    assert got[4] == pytest.approx(math.log(2), rel=1e-6)
    # p(x) = C p^x (1-p)^(1-x) integrates to 1 over [0, 1] (midpoint rule).
    xs = (np.arange(20_000) + 0.5) / 20_000
    for v in (-5.0, 0.3, 8.0):
        q = 1 / (1 + math.exp(-v))
        logc = float(losses.continuous_bernoulli_log_norm(t([[v]]))[0])
        dens = np.exp(logc + xs * math.log(q) + (1 - xs) * math.log(1 - q))
        assert dens.mean() == pytest.approx(1.0, rel=1e-3)


def test_uniform_to_normal_is_the_normal_quantile():
    from gan_tf.models.networks import UniformToNormal
    phi = lambda v: 0.5 * (1 + math.erf(v / math.sqrt(2)))   # the normal CDF
    u = np.array([[0.0, 2 * phi(1.0) - 1, 2 * phi(-2.0) - 1, 1.0, -1.0]], np.float32)
    z = UniformToNormal()(u).numpy()[0]
    np.testing.assert_allclose(z[:3], [0.0, 1.0, -2.0], atol=1e-4)
    # float32 rounds 1 - 1e-6 and -1 + 1e-6 differently: symmetric to ~0.01.
    assert np.isfinite(z).all() and 4.8 < z[3] < 5.0 and -5.0 < z[4] < -4.8


# --- learning, and the criterion catching broken variants

def _z_free_baseline(train, test):
    """-log p(x) of the best model that ignores z: independent pixels, p = the mean."""
    m = np.clip(train.mean(0) / 255.0, 1e-3, 1 - 1e-3)
    return float(-np.mean((test * np.log(m) + (1 - test) * np.log(1 - m)).sum(1)))


def _trained(mnist, **variant):
    cfg = Config.of(family="vae")
    trainer = Driver(families.get(cfg).build(cfg, mnist.train_images[:TRAIN_SUBSET], **variant))
    test = mnist.test_images[:1000].astype(np.float32) / 255.0
    before = lik.summary(lik.likelihood(trainer.E, trainer.decoder, test, 1))["elbo"]
    trainer.chunk(LEARN_ITERS)
    return trainer, test, before


def _learned(mnist, trainer, test, before) -> bool:
    """The criterion: the test -ELBO fell by half, and is at least 10% below that of
    the best model that ignores z (a decoder that learned nothing from q(z|x) can
    reach that baseline, never go below it)."""
    after = -lik.summary(lik.likelihood(trainer.E, trainer.decoder, test, 1))["elbo"]
    return after < -before / 2 and after < 0.9 * _z_free_baseline(
        mnist.train_images[:TRAIN_SUBSET], test)


@pytest.fixture(scope="module")
def trained(mnist):
    return _trained(mnist)


def test_a_short_real_training_lowers_the_test_elbo(mnist, trained):
    assert _learned(mnist, *trained)


def _no_kl(x, logits, mu, logvar):
    rec, kl = losses.vae_terms(x, logits, mu, logvar)
    return rec, 0.0 * kl   # a plain autoencoder: q(z|x) drifts far from the prior


def _no_reparameterization(mu, logvar, eps):
    # Sampling without the trick: no gradient reaches the encoder through z.
    return tf.stop_gradient(vae.reparameterize(mu, logvar, eps))


@pytest.mark.parametrize("variant", [{"terms_fn": _no_kl},
                                     {"reparameterize_fn": _no_reparameterization}],
                         ids=["no-kl", "no-reparameterization"])
def test_the_learning_criterion_catches_a_broken_vae(mnist, variant):
    assert not _learned(mnist, *_trained(mnist, **variant))


def test_importance_weighted_bound_is_above_the_elbo_and_tightens_with_k(trained):
    trainer, test, _ = trained
    x = test[:200]
    got = {k: lik.summary(lik.likelihood(trainer.E, trainer.decoder, x, k, seed=1))
           for k in (1, 10, 100, 1000)}
    elbo = got[1000]["elbo"]   # reconstruction averaged over 1000 samples: exact to ~0.1
    # k = 1 is an unbiased estimate of the ELBO itself.
    assert got[1]["iw"] == pytest.approx(elbo, abs=3 * got[1]["iw_se"])
    assert elbo < got[10]["iw"] < got[100]["iw"] < got[1000]["iw"]
    assert got[1000]["cb_iw"] > got[1000]["cb_elbo"]


# --- whole runs

@pytest.mark.slow
def test_a_short_vae_run_leaves_every_output(mnist, mnist_dir, tmp_path):
    run = tmp_path / "run"
    summary = train_lib.train(SHORT, run, data=mnist, log=lambda line: None)
    assert summary["status"] == "complete"
    folder = RunFolder(run)
    assert [p.name for p in folder.frame_paths()] == ["000.png", "001.png", "002.png",
                                                      "003.png"]
    assert (run / "training.gif").is_file() and (run / "losses.png").is_file()
    recs = folder.read_stats()
    assert [r["iter"] for r in recs] == [50, 100, 150, 200, 250, 300]
    for r in recs:
        assert r["neg_elbo"] == pytest.approx(r["reconstruction"] + r["kl"], rel=1e-5)
    assert recs[-1]["neg_elbo"] < recs[0]["neg_elbo"] - 100
    from gan_tf.evaluation.evaluate import generate
    images, _ = generate(folder.load_generator(), 100, 0)   # U(-1, 1) in, as for a GAN
    assert images.shape == (100, 784) and 0 <= images.min() and images.max() <= 1
    assert vae_likelihood.main([str(run), "--k", "20", "--num-images", "50", "--data-dir",
                     str(mnist_dir)]) == 0
    result = json.loads((run / "likelihood.json").read_text())
    assert result["iw"] > result["elbo"] and result["k"] == 20
    train_lib.train(SHORT, run, overwrite=True, data=mnist, log=lambda line: None)
    assert not (run / "likelihood.json").exists()   # an evaluation file: cleared


@pytest.mark.slow
def test_vae_stopped_and_resumed_equals_uninterrupted(mnist, tmp_path):
    train_lib.train(SHORT, tmp_path / "straight", data=mnist, log=lambda line: None)

    def stop_after_first_snapshot(line):
        if line.startswith("Iter: 100"):
            os.kill(os.getpid(), signal.SIGTERM)
    cut = train_lib.train(SHORT, tmp_path / "cut", data=mnist, log=stop_after_first_snapshot)
    assert cut["status"] == "interrupted" and cut["iteration"] < 300
    cfg = train_lib.resume_config(tmp_path / "cut", {})
    assert train_lib.train(cfg, tmp_path / "cut", resume=True, data=mnist,
                           log=lambda line: None)["status"] == "complete"
    a = RunFolder(tmp_path / "straight").read_checkpoint()
    b = RunFolder(tmp_path / "cut").read_checkpoint()
    assert a.keys() == b.keys() and any(k.startswith("E/") for k in a)
    for k in a:
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)


def test_vae_refuses_gan_only_options():
    for change in ({"g_output": "tanh"}, {"d_steps": 2}, {"g_ema": 0.9}):
        with pytest.raises(UserError, match=f"{next(iter(change))} is a parameter of "
                                            f"families .*, not of 'vae'"):
            override(SHORT, change)
    with pytest.raises(UserError, match="family 'vae' needs strategy='default'"):
        override(SHORT, {"strategy": "mirrored"})
    # The VAE's networks are MLPs of its own, unconditional: no such parameters.
    with pytest.raises(UserError, match="conditional is a parameter of families dcgan, mlp"):
        override(SHORT, {"conditional": True})
    with pytest.raises(UserError, match="model 'vae' is an MLP: drop arch 'dcgan'"):
        override(Config(), {"model": "vae", "arch": "dcgan"})
    with pytest.raises(UserError, match="unknown model"):
        override(SHORT, {"model": "flow"})


def test_load_vae_refuses_a_gan_run(mnist, tmp_path):
    run = tmp_path / "gan"
    train_lib.train(Config.of(iters=100, snapshot_every=100, log_every=50), run, data=mnist,
                    log=lambda line: None)
    with pytest.raises(UserError, match="not a VAE"):
        RunFolder(run).load_vae()


# --- blur

def test_blur_measures_rank_a_blurred_copy_above_the_originals(mnist):
    x = mnist.test_images[:1000].astype(np.float64) / 255.0
    sharp, soft = metrics.blur(x), metrics.blur(metrics.gaussian_blur(x, 1.0))
    assert soft["blur_length"] > 1.3 * sharp["blur_length"]
    assert soft["grey_share"] > sharp["grey_share"] + 0.2
    # Contrast does not change the blur length; a binarised copy is sharper still.
    assert metrics.blur(0.5 * x)["blur_length"] == pytest.approx(sharp["blur_length"])
    assert metrics.blur((x > 0.5) * 1.0)["blur_length"] < sharp["blur_length"]


def test_gan_vs_vae_table_has_a_row_per_model_and_the_likelihoods():
    from gan_tf.studies.reports.gan_vs_vae import table
    base = {"mnist_score": 9.0, "frechet_distance": 1.0, "modes_covered": 10,
            "confident_share": 0.9, "parzen_ll": 200.0, "parzen_se": 2.0,
            "blur_length": 1.2, "grey_share": 0.5}
    vae_row = {**base, "elbo": -104.0, "iw": -99.0, "iw_se": 0.2, "k": 1000,
               "cb_iw": 1950.0, "cb_iw_se": 1.7}
    text = table({"real test images": base, "VAE (x)": vae_row, "GAN (y)": base})
    lines = text.splitlines()
    assert [l.split(" | ")[0] for l in lines[2:5]] == ["| real test images", "| VAE (x)",
                                                       "| GAN (y)"]
    assert "-99.0 (k = 1,000)" in lines[3] and "1950.0 ± 1.7" in text
