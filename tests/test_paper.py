"""The GAN paper's MNIST model (experiments/mnist_paper.py), piece by piece against
its authors' code (goodfeli/adversarial on pylearn2): the maxout layer, pylearn2's
dropout, the SGD schedules, the simultaneous update, the data split, the Parzen
protocol; then a short learning test."""

import math

import numpy as np
import pytest
import tensorflow as tf

from gan_tf import families
from gan_tf.core.config import Config, flat_values, override
from gan_tf.core.experiments import load_experiment
from gan_tf.core.errors import UserError
from gan_tf.data.datasets import with_split
from gan_tf.evaluation import metrics
from gan_tf.models import networks
from gan_tf.models import schedules
from gan_tf.training.build import build_trainer
from gan_tf.data.streams import STREAM_DROP_FAKE, STREAM_DROP_REAL, STREAM_Z_D, stream_seed

# A small model of the paper's kind, cheap enough to check numbers by hand.
SMALL = override(load_experiment("mnist-paper"), {
    "d_hidden": (12, 8), "maxout_pieces": 3, "g_hidden": (16,), "z_dim": 5,
    "batch_size": 10, "iters": 10, "snapshot_every": 10, "log_every": 10,
    "parzen_every": 0, "tensorboard": False})


# --- the maxout layer

def pylearn2_maxout(z, pieces):
    """Maxout.fprop of pylearn2, literally: the max over z[:, i:last+i+1:pieces]."""
    last = z.shape[1] - pieces
    p = None
    for i in range(pieces):
        cur = z[:, i:last + i + 1:pieces]
        p = cur if p is None else np.maximum(cur, p)
    return p


def test_maxout_layer_is_pylearn2s_maxout():
    x = np.random.default_rng(0).normal(size=(7, 11)).astype(np.float32)
    layer = networks.Maxout(4, 5, kernel_initializer="glorot_normal")
    out = layer(x).numpy()
    z = x @ layer.kernel.numpy() + layer.bias.numpy()
    assert out.shape == (7, 4)
    np.testing.assert_allclose(out, pylearn2_maxout(z, 5), rtol=1e-5, atol=1e-6)
    # Not a max over the wrong grouping (units interleaved instead of consecutive).
    assert not np.allclose(out, z.reshape(7, 5, 4).max(axis=1))


def test_the_papers_discriminator_has_its_shapes_and_initial_ranges():
    cfg = load_experiment("mnist-paper")
    D = families.build_discriminator(cfg)
    shapes = [tuple(v.shape) for v in D.weights]
    assert shapes == [(784, 1200), (1200,), (240, 1200), (1200,), (240, 1), (1,)]
    kernels = [v.numpy() for v in D.weights if len(v.shape) == 2]
    assert all(np.abs(k).max() <= 0.005 and np.abs(k).max() > 0.0049 for k in kernels)
    G = families.build_generator(cfg)
    g_kernels = [v.numpy() for v in G.weights if len(v.shape) == 2]
    assert [k.shape for k in g_kernels] == [(100, 1200), (1200, 1200), (1200, 784)]
    assert all(np.abs(k).max() <= 0.05 and np.abs(k).max() > 0.049 for k in g_kernels)


# --- pylearn2's dropout

def test_dropout_keeps_each_input_with_its_probability_and_scales_by_its_inverse():
    x = tf.ones([400, 500])
    out = networks.dropout(x, 0.8, tf.constant([3, 4], tf.int64)).numpy()
    assert set(np.unique(out)) == {0.0, 1.25}
    assert abs((out > 0).mean() - 0.8) < 0.005
    assert abs(out.mean() - 1.0) < 0.01           # E[mask * scale] = 1
    again = networks.dropout(x, 0.8, tf.constant([3, 4], tf.int64)).numpy()
    other = networks.dropout(x, 0.8, tf.constant([3, 5], tf.int64)).numpy()
    assert (out == again).all() and (out != other).any()   # a pure function of the seed
    assert (networks.dropout(x, 1.0, tf.constant([3, 4], tf.int64)).numpy() == 1).all()


def test_the_discriminator_drops_out_only_when_training_with_a_seed():
    D = families.build_discriminator(SMALL)
    x = np.random.default_rng(1).uniform(0, 1, (50, 784)).astype(np.float32)
    seed = tf.constant([1, 2], tf.int64)
    plain = D(x).numpy()
    assert (D(x, training=True).numpy() == plain).all()            # no seed: no masks
    a = D(x, training=True, dropout_seed=seed).numpy()
    b = D(x, training=True, dropout_seed=seed + 1).numpy()
    assert not np.allclose(a, plain) and not np.allclose(a, b)
    assert (D(x, training=True, dropout_seed=seed).numpy() == a).all()
    # Each layer's input is masked with its own keep probability: a D whose first
    # layer keeps everything differs from one that keeps 80%.
    keep_all = override(SMALL, {"d_keep": (1.0, 1.0, 1.0)})
    D1 = families.build_discriminator(keep_all)
    D1.set_weights(D.get_weights())
    assert (D1(x, training=True, dropout_seed=seed).numpy() == plain).all()


# --- the SGD schedules (pylearn2's ExponentialDecay and MomentumAdjustor)

def test_learning_rate_is_divided_after_every_update_down_to_its_floor():
    lr = schedules.DividedEachUpdate(0.1, 1.000004, 1e-6)
    assert float(lr(0)) == pytest.approx(0.1)                 # the first update: lr itself
    assert float(lr(1)) == pytest.approx(0.1 / 1.000004, rel=1e-7)
    assert float(lr(50_000)) == pytest.approx(0.1 / 1.000004 ** 50_000, rel=1e-5)
    floor_at = math.log(0.1 / 1e-6) / math.log(1.000004)     # ~2.88 million updates
    assert float(lr(int(floor_at) + 10)) == pytest.approx(1e-6)
    assert float(lr(10 ** 8)) == pytest.approx(1e-6)


def test_momentum_rises_linearly_from_epoch_1_to_epoch_250():
    at = lambda e: float(schedules.momentum_at(e, 0.5, 0.7, 250))   # noqa: E731
    assert at(0) == pytest.approx(0.5)                        # 1-based epoch 1
    assert at(1) == pytest.approx(0.5 + 0.2 / 249)
    assert at(124) == pytest.approx(0.5 + 0.2 * 124 / 249)
    assert at(249) == pytest.approx(0.7)                      # 1-based epoch 250
    assert at(1000) == pytest.approx(0.7)


def test_ramped_sgd_is_pylearn2s_momentum_rule():
    """Three updates, two steps an epoch, against vel = m vel - lr g; p += vel."""
    v = tf.Variable([1.0, -2.0])
    opt = schedules.RampedMomentumSGD(schedules.DividedEachUpdate(0.1, 1.5, 1e-6), 0.5,
                                      0.9, 3, steps_per_epoch=2)
    p, vel = np.array([1.0, -2.0]), np.zeros(2)
    for t, g in enumerate([np.array([0.3, 0.1]), np.array([-0.2, 0.4]),
                           np.array([0.5, 0.5])]):
        opt.apply([tf.constant(g, tf.float32)], [v])
        m = 0.5 + 0.4 * min(1.0, (t // 2) / 2)     # epochs 0, 0, 1 of saturate 3
        vel = m * vel - 0.1 / 1.5 ** t * g
        p = p + vel
        np.testing.assert_allclose(v.numpy(), p, rtol=1e-6)


# --- the simultaneous update

def test_both_nets_step_from_the_same_pass_with_the_pre_update_discriminator(mnist):
    """One iteration of the Trainer against the update computed here from the paper's
    objectives: D's gradient of 0.5 (xent real + xent fake), G's of -log D(G(z)),
    both at the weights before the step, both from the dropped-out pass."""
    cfg = override(SMALL, {"momentum_saturate": 0, "momentum": 0.0, "lr_decay": 1.0})
    data = with_split(mnist, "paper")
    tr = build_trainer(cfg, data.train_images[:200])
    louder(tr)
    g0, d0 = [v.numpy() for v in tr.G.trainable_variables], \
        [v.numpy() for v in tr.D.trainable_variables]
    x, _ = tr.batch(tf.constant(0, tf.int64))
    z = tr.z_batch(STREAM_Z_D, tf.constant(0, tf.int64))
    sce = tf.nn.sigmoid_cross_entropy_with_logits
    with tf.GradientTape(persistent=True) as tape:
        real = tr.D(x, training=True, dropout_seed=stream_seed(cfg.seed, STREAM_DROP_REAL, 0))
        fake = tr.D(tr.G(z, training=True), training=True,
                    dropout_seed=stream_seed(cfg.seed, STREAM_DROP_FAKE, 0))
        d_obj = 0.5 * (tf.reduce_mean(sce(labels=tf.ones_like(real), logits=real))
                       + tf.reduce_mean(sce(labels=tf.zeros_like(fake), logits=fake)))
        g_obj = tf.reduce_mean(sce(labels=tf.ones_like(fake), logits=fake))
    d_grads = tape.gradient(d_obj, tr.D.trainable_variables)
    g_grads = tape.gradient(g_obj, tr.G.trainable_variables)
    out = tr.chunk(1)
    assert out["sums"]["d_loss"] == pytest.approx(float(d_obj), rel=1e-5)
    assert out["sums"]["g_loss"] == pytest.approx(float(g_obj), rel=1e-5)
    for vs, before, grads in ((tr.D.trainable_variables, d0, d_grads),
                              (tr.G.trainable_variables, g0, g_grads)):
        for v, w, g in zip(vs, before, grads):
            step, want = v.numpy() - w, -0.1 * g.numpy()
            assert np.abs(want).max() > 1e-4      # a step worth comparing
            np.testing.assert_allclose(step, want, rtol=2e-3, atol=2e-3 * np.abs(want).max())


def louder(trainer):
    """D's initial weights (±0.005) pass G almost no gradient at the first step;
    scaled up, the step of every variable is large enough to compare."""
    for v in trainer.D.trainable_variables:
        v.assign(v * 200.0)


def test_alternating_update_differs_so_the_test_above_can_fail(mnist):
    """The same check fails for the tutorials' alternating update: G's step there
    is taken through the updated D, with other masks."""
    cfg = override(SMALL, {"momentum_saturate": 0, "momentum": 0.0, "lr_decay": 1.0})
    data = with_split(mnist, "paper")
    a = build_trainer(cfg, data.train_images[:200])
    b = build_trainer(override(cfg, {"update": "alternating"}), data.train_images[:200])
    louder(a), louder(b)
    g0 = [v.numpy() for v in a.G.trainable_variables]
    a.chunk(1), b.chunk(1)
    steps = [(va.numpy() - w, vb.numpy() - w)
             for va, vb, w in zip(a.G.trainable_variables, b.G.trainable_variables, g0)]
    # G's steps differ by far more than the tolerance the test above allows.
    assert max(np.abs(sa - sb).max() / np.abs(sa).max() for sa, sb in steps) > 0.05


# --- data, output bias

def test_paper_split_trains_on_the_first_50000_and_validates_on_the_last_10000(mnist):
    paper = with_split(mnist, "paper")
    full = np.concatenate([mnist.train_images, mnist.val_images])    # the 60,000, in order
    assert (paper.train_images == full[:50_000]).all()
    assert (paper.val_images == full[50_000:]).all()
    assert with_split(paper, "paper") is paper and paper.split == "paper"
    assert (paper.test_images == mnist.test_images).all()


def test_sigmoid_output_bias_gives_the_pixel_marginals():
    images = np.array([[0, 255, 51], [0, 255, 102]], np.uint8)
    b = networks.sigmoid_bias_from_marginals(images)
    np.testing.assert_allclose(1 / (1 + np.exp(-b.astype(np.float64))),
                               [1e-7, 1 - 1e-7, 0.3], rtol=1e-5)


# --- the Parzen protocol (parzen_ll.py)

def test_parzen_matches_a_case_computed_by_hand():
    # Two centres in 2-D, sigma 1: log p(x) = log((N(x; c1) + N(x; c2)) / 2).
    centres = np.array([[0.0, 0.0], [2.0, 0.0]])
    x = np.array([[0.0, 0.0], [1.0, 1.0]])
    ll = metrics.parzen_log_likelihood(centres, x, 1.0)
    norm = -math.log(2 * math.pi)          # -d/2 log(2 pi sigma^2), d = 2
    by_hand = [math.log((1 + math.exp(-2)) / 2) + norm, math.log(math.exp(-1)) + norm]
    np.testing.assert_allclose(ll, by_hand, rtol=1e-12)


def test_parzen_chooses_sigma_on_validation_and_reports_the_standard_error():
    rng = np.random.default_rng(0)
    centres = rng.normal(0, 0.3, (300, 4))
    val = rng.normal(0, 0.3, (100, 4))
    test = rng.normal(0, 0.3, (80, 4))
    out = metrics.parzen(centres, val, test)
    per_sigma = [metrics.parzen_log_likelihood(centres, val, s).mean()
                 for s in metrics.PARZEN_SIGMAS]
    assert out["parzen_sigma"] == pytest.approx(metrics.PARZEN_SIGMAS[np.argmax(per_sigma)])
    ll = metrics.parzen_log_likelihood(centres, test, out["parzen_sigma"])
    assert out["parzen_ll"] == pytest.approx(ll.mean())
    assert out["parzen_se"] == pytest.approx(ll.std() / math.sqrt(80))   # ddof 0
    np.testing.assert_allclose(metrics.PARZEN_SIGMAS, np.logspace(-1, 0, 10))


# --- config refusals

@pytest.mark.parametrize("changes, words", [
    ({"d_keep": (0.8, 0.5)}, "one keep probability"),
    ({"d_keep": (0.8, 0.5, 1.5)}, "in (0, 1]"),
    ({"family": "mlp", "d_keep": (0.8, 0.5, 0.5)}, "d_keep is a parameter of family maxout"),
    ({"optimizer": "adam"}, "add --optimizer sgd"),
    ({"momentum": 0.0}, "must then be above 0"),
    ({"d_steps": 2}, "d_steps 1"),
    ({"lr_min": 0.5}, "must not exceed lr"),
    ({"lr_decay": float("nan")}, "must be finite"),
    ({"strategy": "mirrored"}, "one device"),
    ({"parzen_every": 250}, "multiple of log_every"),
    ({"maxout_pieces": 64, "d_hidden": (16_000, 240)}, "more than 65,536 columns"),
    ({"d_keep": (float("nan"), 0.5, 0.5)}, "one keep probability"),
])
def test_the_papers_options_refuse_what_they_cannot_do(changes, words):
    base = load_experiment("mnist-paper")
    with pytest.raises(UserError, match=None) as e:
        override(base, changes)
    assert words in str(e.value)


def test_a_config_saved_before_these_options_keeps_its_behaviour():
    # a flat config (before the families) of the version before the paper's options
    saved = {k: v for k, v in {**flat_values(Config()), "model": "gan", "arch": "mlp"}.items()
             if k not in ("family", "noise", "split", "update", "d_keep", "d_loss_scale",
                          "lr_decay", "momentum_saturate", "parzen_every", "maxout_pieces")}
    cfg = Config.from_dict(saved)
    assert (cfg.family, cfg.params.noise, cfg.split, cfg.params.update, cfg.params.d_loss_scale) == \
        ("mlp", "uniform", "tutorial", "alternating", 1.0)
    assert cfg == Config()


# --- the quick Parzen curve, a generator file, the study: one tiny run, end to end

TINY_PAPER = ["--experiment", "mnist-paper", "--g-hidden", "16", "--d-hidden", "12,8",
              "--maxout-pieces", "3", "--batch-size", "10", "--parzen-every", "20"]


@pytest.fixture(scope="module")
def paper_run(tmp_path_factory, mnist_dir):
    from conftest import cli
    run = tmp_path_factory.mktemp("paper") / "run"
    assert cli(run, mnist_dir, *TINY_PAPER) == 0
    return run


def test_quick_parzen_is_recorded_with_the_losses_and_survives_a_resume(paper_run,
                                                                       mnist_dir, tmp_path):
    import shutil

    from conftest import cli
    from gan_tf.runs.folder import RunFolder
    records = RunFolder(paper_run).read_stats()
    quick = [(r["iter"], r["parzen_quick"]) for r in records if "parzen_quick" in r]
    assert [it for it, _ in quick] == [20, 40]
    assert all(np.isfinite(v) for _, v in quick)
    assert (paper_run / "parzen.png").stat().st_size > 1000
    # Resumed to 60: the records up to 40 as they were, one more at 60, none twice.
    copy = tmp_path / "run"
    shutil.copytree(paper_run, copy)
    assert cli(copy, mnist_dir, "--resume", "--iters", "60") == 0
    again = [(r["iter"], r["parzen_quick"]) for r in RunFolder(copy).read_stats()
             if "parzen_quick" in r]
    assert [it for it, _ in again] == [20, 40, 60] and again[:2] == quick


def test_a_generator_file_is_evaluated_like_its_run(paper_run, mnist_dir, tmp_path):
    import json
    import shutil

    from gan_tf.evaluation.evaluate import evaluate_folder
    run_result = evaluate_folder(paper_run, num_samples=200, data_dir=mnist_dir)[0]
    gen = tmp_path / "g.keras"
    shutil.copyfile(paper_run / "generator.keras", gen)
    (tmp_path / "g.json").write_text(json.dumps({"dataset": "mnist", "split": "paper"}))
    file_result = evaluate_folder(gen, num_samples=200, data_dir=mnist_dir)[0]
    assert file_result["generated"] == run_result["generated"]
    assert file_result["split"] == "paper"
    # Without its .json the tutorial split's validation images choose sigma: the
    # same samples, another validation set.
    (tmp_path / "g.json").unlink()
    plain = evaluate_folder(gen, num_samples=200, data_dir=mnist_dir)[0]
    assert plain["generated"]["mnist_score"] == run_result["generated"]["mnist_score"]
    assert plain["split"] == "tutorial"
    (tmp_path / "g.json").write_text("[1]")
    with pytest.raises(UserError, match="must be a JSON object"):
        evaluate_folder(gen, num_samples=200, data_dir=mnist_dir)
    (tmp_path / "g.json").unlink()
    (tmp_path / "bad.keras").write_bytes(b"not a zip")
    with pytest.raises(UserError, match="is not a Keras model file"):
        evaluate_folder(tmp_path / "bad.keras", num_samples=200, data_dir=mnist_dir)
    with pytest.raises(UserError, match="no generator file"):
        evaluate_folder(tmp_path / "missing.keras", num_samples=200, data_dir=mnist_dir)


def test_the_study_tables_each_seed_against_the_paper_and_keeps_the_generator(
        paper_run, mnist_dir, tmp_path, monkeypatch):
    from conftest import cli
    from gan_tf.evaluation.evaluate import evaluate_folder
    from gan_tf.studies.replications import paper
    from gan_tf.studies.replications.paper import paper_study
    monkeypatch.setattr(paper, "DIAGNOSTIC_SAMPLES", 500)   # the protocol's 10,000: ~1 min
    if not (paper_run / "metrics.json").is_file():
        evaluate_folder(paper_run, num_samples=200, data_dir=mnist_dir)
    variant = tmp_path / "gaussian"
    assert cli(variant, mnist_dir, *TINY_PAPER, "--noise", "gaussian") == 0
    evaluate_folder(variant, num_samples=200, data_dir=mnist_dir)
    docs = tmp_path / "docs"
    docs.mkdir()
    for page, section in (("paper.md", "paper"), ("results.md", "paper-results")):
        (docs / page).write_text(f"# x\n<!-- {section}:start -->\nold\n"
                                 f"<!-- {section}:end -->\nend\n")
    text = paper_study(paper_run, tmp_path / "out", docs, data_dir=mnist_dir,
                       variants=[variant])
    page = (docs / "paper.md").read_text()
    # Evaluated with 200 samples, the rows are labelled off the paper's protocol.
    off = " (off the paper's protocol: 200 centres, not 10,000)"
    assert "\nold\n" not in page and f"| this reproduction, seed 0{off} | 40 |" in page
    assert page.split("<!-- paper:start -->\n")[1].startswith("Parzen protocol")
    assert "| GAN paper, Table 1 | ? | 225 ± 2 (se)" in text
    assert f"| variant: --noise gaussian (seed 0){off} | 40 |" in text
    assert "mean ± std" not in text                 # no row on the protocol to average
    assert "| 20 | 0 |" in text and "| 40 | 0 |" in text       # the quick curve rows
    assert "| samples of seed 0 |" in text and "| real training images |" in text
    assert "| samples of --noise gaussian (seed 0) |" in text
    results = (docs / "results.md").read_text()
    assert "\nold\n" not in results and f"| `run` seed 0{off} | 40 |" in results
    assert "`gaussian/gaussian`" not in results
    assert ("(--noise gaussian (seed 0); off the paper's protocol: 200 centres, not "
            "10,000) | 40 |") in results
    for name in ("paper-samples.png", "paper-parzen-curve.png", "models/mnist-paper-seed-0.keras",
                 "models/mnist-paper-seed-0.json"):
        assert (docs / name).stat().st_size > 100, name
    # A run of another model is refused by name.
    other = tmp_path / "basic"
    assert cli(other, mnist_dir) == 0
    with pytest.raises(UserError, match="not a run of the paper's model"):
        paper_study(other, tmp_path / "out2", data_dir=mnist_dir)


def test_the_papers_noise_is_uniform_with_unit_variance_from_the_same_z():
    """mnist.yaml's noise 'uniform': U(-sqrt 3, sqrt 3), from the U(-1, 1) z that every
    saved generator takes; 'gaussian' (the one commit without that line) maps it to
    N(0, 1)."""
    u = np.random.default_rng(0).uniform(-1, 1, (20000, 100)).astype(np.float32)
    G = families.build_generator(load_experiment("mnist-paper"))
    z = G.get_layer("to_unit_variance")(u).numpy()
    np.testing.assert_allclose(z, math.sqrt(3) * u, rtol=1e-6)
    assert abs(z.std() - 1) < 0.01 and abs(np.abs(z).max() - math.sqrt(3)) < 0.01
    gauss = families.build_generator(override(SMALL, {"noise": "gaussian"}))
    n = gauss.get_layer("to_normal")(u).numpy()
    assert abs(n.std() - 1) < 0.01 and abs(((n > 1) & (n < 2)).mean() - 0.1359) < 0.005


def test_quick_parzen_draws_a_conditional_generator_for_every_digit(mnist):
    from gan_tf.evaluation.tracking import quick_parzen
    cfg = load_experiment("mnist-cgan")
    out = quick_parzen(cfg, mnist)(families.build_generator(cfg))
    assert np.isfinite(out["parzen_quick"]) and out["parzen_quick_sigma"] in \
        list(metrics.PARZEN_SIGMAS)


def test_training_time_adds_up_the_sessions_of_a_resumed_run():
    from gan_tf.studies.replications.paper import training_seconds
    records = [{"elapsed_s": t} for t in (1.0, 2.0, 3.0, 0.5, 1.5, 0.2)]
    assert training_seconds(records) == pytest.approx(3.0 + 1.5 + 0.2)
    assert training_seconds([]) is None


def test_isolated_pixels_are_removed_and_strokes_are_kept():
    from gan_tf.studies.replications.paper import isolated_pixels_removed
    x = np.zeros((1, 28, 28), np.float32)
    x[0, 5, 5] = 1.0                  # alone: removed
    x[0, 10, 10:13] = 0.9             # a short stroke: kept
    x[0, 0, 27] = 0.7                 # alone in a corner: removed
    x[0, 20, 20] = 0.4                # faint: not ink, kept
    out = isolated_pixels_removed(x.reshape(1, -1)).reshape(28, 28)
    assert out[5, 5] == 0 and out[0, 27] == 0 and out[20, 20] == pytest.approx(0.4)
    np.testing.assert_allclose(out[10, 10:13], 0.9)
    assert (out != 0).sum() == 4
