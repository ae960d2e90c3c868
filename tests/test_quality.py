"""What moves a DCGAN's quality, and what measures it while it trains: mixed
precision (bfloat16) for every model, the moving average of G, one-sided label
smoothing, the two time-scale learning rates, and eval_every's quality curve with
the best generator kept beside the final one."""

import dataclasses
import json

import keras
import numpy as np
import pytest
import tensorflow as tf

from conftest import QUIET
from gan_tf import families
from gan_tf.core.config import Config, flat_values, override
from gan_tf.core.experiments import load_experiment
from gan_tf.core.errors import UserError
from gan_tf.families import mlp as losses   # the tutorial's losses
from gan_tf.models import networks
from gan_tf.runs.folder import RunFolder
from gan_tf.training import run as train_lib
from gan_tf.training.build import build_trainer

BF16 = "mixed_bfloat16"


def small(name, **changes):
    base = {"iters": 4, "snapshot_every": 2, "log_every": 2, "tensorboard": False}
    if "dcgan" in name:
        base["conv_width"] = 8
    return override(load_experiment(name), {**base, **changes})


# --- mixed precision: bfloat16 compute, float32 weights and losses, for every model

@pytest.mark.parametrize("name", ["mnist-basic", "mnist-deep", "mnist-dcgan-10-epochs",
                                  "mnist-cgan", "mnist-paper", "mnist-vae"])
def test_every_model_computes_in_bfloat16_with_float32_weights_and_outputs(name, mnist):
    cfg = small(name, precision=BF16, **({"d_hidden": (12, 8), "g_hidden": (16,)}
                                         if name == "mnist-paper" else {}))
    trainer = build_trainer(cfg, mnist.train_images[:2000], mnist.train_labels[:2000])
    models = [trainer.G] + ([trainer.D] if hasattr(trainer, "D") else [])
    for m in models:
        assert all(v.dtype == "float32" for v in m.weights), m.name
        # The hidden layers compute in bfloat16 (a model's last layer may be float32).
        assert any(getattr(layer, "compute_dtype", None) == "bfloat16"
                   for layer in getattr(m, "layers", []) + getattr(m, "maxouts", [])), m.name
    z = tf.random.uniform((3, cfg.z_dim), -1, 1, seed=0)
    y = tf.constant(networks.one_hot([0, 1, 2]))
    out = trainer.G([z, y] if cfg.conditional else z, training=False)
    assert out.dtype == tf.float32
    if hasattr(trainer, "D"):
        logits = trainer.D([out, y] if cfg.conditional else out, training=False)
        assert logits.dtype == tf.float32
    values = trainer.chunk(4)
    assert all(np.isfinite(v) for v in values["sums"].values())
    # What a checkpoint holds stays float32 (the weights and optimizer slots).
    state = trainer.state()
    assert all(v.dtype in ("float32", "int64", "float64") for v in state.values())


def test_a_bfloat16_generator_saves_and_loads_as_bfloat16(tmp_path, mnist):
    cfg = small("mnist-dcgan-10-epochs", precision=BF16)
    G = families.build_generator(cfg)
    G.save(tmp_path / "g.keras")
    H = networks.load_generator(tmp_path / "g.keras")
    assert H.get_layer("deconv1").compute_dtype == "bfloat16"
    assert H.layers[-1].compute_dtype == "float32"
    z = np.random.default_rng(0).uniform(-1, 1, (4, cfg.z_dim)).astype(np.float32)
    np.testing.assert_array_equal(networks.unit_images(G, z), networks.unit_images(H, z))
    # bfloat16 rounds, but the image is the float32 model's to a few hundredths.
    f32 = families.build_generator(dataclasses.replace(cfg, precision="float32"))
    f32.set_weights(G.get_weights())
    assert np.abs(networks.unit_images(f32, z) - networks.unit_images(G, z)).max() < 0.05


def test_precision_refuses_what_it_was_not_measured_with():
    with pytest.raises(UserError, match="unknown precision 'float16'"):
        Config.of(precision="float16")
    with pytest.raises(UserError, match="precision 'mixed_bfloat16' is measured on one"):
        Config.of(precision=BF16, strategy="mirrored")
    from gan_tf.training.stack import stackable
    assert "precision" in stackable(Config.of(precision=BF16))


# --- one-sided label smoothing, the two time-scale rule

def test_label_smoothing_targets_real_images_only():
    real = tf.constant([[2.0], [-1.0]])
    fake = tf.constant([[0.5], [-3.0]])
    sig = lambda v: 1 / (1 + np.exp(-v))  # noqa: E731
    r, f = sig(np.array([2.0, -1.0])), sig(np.array([0.5, -3.0]))
    by_hand = (-np.mean(0.9 * np.log(r) + 0.1 * np.log(1 - r))
               - np.mean(np.log(1 - f)))
    assert float(losses.xent_d_loss(real, fake, real_label=0.9)) == pytest.approx(by_hand,
                                                                                  rel=1e-6)
    assert float(losses.log_d_loss(real, fake, eps=0.0, real_label=0.9)) == \
        pytest.approx(by_hand, rel=1e-5)
    # t = 1 is the unsmoothed loss, and G's loss never sees the smoothing.
    assert float(losses.xent_d_loss(real, fake, real_label=1.0)) == \
        pytest.approx(float(losses.xent_d_loss(real, fake)))
    d_loss, g_loss = losses.get_losses(Config.of(loss="xent", real_label=0.9))
    assert float(d_loss(real, fake)) == pytest.approx(by_hand, rel=1e-6)
    assert float(g_loss(fake)) == pytest.approx(float(losses.xent_g_loss(fake)))


def test_the_discriminator_gets_its_own_learning_rate(mnist):
    trainer = build_trainer(small("mnist-basic", lr=1e-4, d_lr=4e-4), mnist.train_images)
    assert float(trainer.g_opt.learning_rate) == pytest.approx(1e-4)
    assert float(trainer.d_opt.learning_rate) == pytest.approx(4e-4)
    same = build_trainer(small("mnist-basic", lr=1e-4), mnist.train_images)
    assert float(same.d_opt.learning_rate) == pytest.approx(1e-4)


@pytest.mark.parametrize("changes, words", [
    ({"real_label": 0.4}, "real_label must be in (0.5, 1]"),
    ({"real_label": float("nan")}, "real_label must be finite"),
    ({"g_ema": 1.0}, "g_ema must be in [0, 1)"),
    ({"g_ema": float("nan")}, "g_ema must be finite"),
    ({"d_lr": -1.0}, "d_lr must be in [0, 10]"),
    ({"eval_every": 15, "log_every": 10, "snapshot_every": 10}, "eval_every (15) must be a"),
    ({"eval_every": -1}, "eval_every must be an integer from 0"),
    ({"g_ema": 0.9, "strategy": "mirrored"}, "g_ema 0.9 run on one device"),
    ({"eval_every": 100, "strategy": "mirrored"}, "eval_every runs on one device"),
    ({"model": "vae", "g_ema": 0.9}, "g_ema is a parameter of families"),
    ({"model": "vae", "eval_every": 100}, "family 'vae' needs eval_every=0"),
    ({"dcgan_fc": 1024}, "dcgan_fc is a parameter of family dcgan, not of 'mlp'"),
    ({"arch": "dcgan", "dcgan_fc": -1}, "dcgan_fc must be an integer from 0"),
])
def test_bad_values_are_refused_by_name(changes, words):
    with pytest.raises(UserError) as e:
        override(Config(), changes)
    assert words in str(e.value)


# --- the moving average of G

def test_the_moving_average_follows_g_with_tensorflows_warm_up(mnist):
    """A small g_ema, so that both decide: the warm-up (1 + n) / (10 + n) at update 1
    (0.18), g_ema from update 2 on (the warm-up is 0.25 there, above 0.2)."""
    cfg = small("mnist-basic", g_ema=0.2, xla=False)
    trainer = build_trainer(cfg, mnist.train_images)
    ema = [w.copy() for w in trainer.G.get_weights()]
    np.testing.assert_array_equal(ema[0], trainer.G_ema.get_weights()[0])  # starts as G
    for n in range(1, 4):
        trainer.chunk(1)
        decay = min(0.2, (1 + n) / (10 + n))
        ema = [decay * e + (1 - decay) * w for e, w in zip(ema, trainer.G.get_weights())]
        for got, want in zip(trainer.G_ema.get_weights(), ema):
            np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-7)
    # It is not G (G moved on), and it draws the frames.
    assert not np.array_equal(trainer.G_ema.get_weights()[0], trainer.G.get_weights()[0])
    assert trainer.sampler is trainer.G_ema


def test_without_g_ema_g_draws_the_frames_and_nothing_is_averaged(mnist):
    trainer = build_trainer(small("mnist-basic"), mnist.train_images)
    assert trainer.G_ema is None and trainer.sampler is trainer.G
    assert not any(k.startswith(("G_ema/", "G_best/", "best/")) for k in trainer.state())


# --- eval_every: the quality curve and the best generator

def test_keep_if_best_copies_the_sampler_on_improvement_only(mnist):
    trainer = build_trainer(small("mnist-basic", eval_every=2, g_ema=0.5), mnist.train_images)
    trainer.chunk(2)
    assert trainer.keep_if_best(50.0, 2)
    first = trainer.G_best.get_weights()
    np.testing.assert_array_equal(first[0], trainer.G_ema.get_weights()[0])
    trainer.chunk(2)
    assert not trainer.keep_if_best(60.0, 4) and not trainer.keep_if_best(float("nan"), 4)
    np.testing.assert_array_equal(trainer.G_best.get_weights()[0], first[0])
    assert int(trainer.best_iteration.numpy()) == 2
    assert trainer.keep_if_best(40.0, 4)
    assert int(trainer.best_iteration.numpy()) == 4
    assert trainer.extra_generators()["generator-best.keras"][1]["iteration"] == 4


def test_the_quality_measure_reads_real_digits_as_real(mnist, monkeypatch):
    """quality() of a 'generator' whose samples are real digits (training images the
    distance is not measured against): a small distance, a high score, nearly all
    read with confidence; of an untrained G: a large distance, none confident."""
    from gan_tf.evaluation.tracking import QUALITY_SAMPLES, quality
    cfg = small("mnist-basic")
    measure = quality(cfg, mnist)
    untrained = measure(families.build_generator(cfg))
    assert untrained["quality_fd"] > 100 and untrained["quality_confident"] < 0.2
    real = mnist.train_images[:QUALITY_SAMPLES].astype(np.float32) / 255.0
    served = []

    def real_digits(G, z, labels=None):   # the samples, in the order they are drawn
        start = sum(len(s) for s in served)
        served.append(real[start:start + len(z)])
        return served[-1]
    monkeypatch.setattr(networks, "unit_images", real_digits)
    digits = quality(cfg, mnist)(None)
    assert sum(len(s) for s in served) == QUALITY_SAMPLES
    assert digits["quality_fd"] < 2 and digits["quality_score"] > 9
    assert digits["quality_confident"] > 0.95 and digits["quality_class_kl"] < 0.01


def test_tracker_measures_each_generator_at_its_cadence(mnist):
    from gan_tf.evaluation.tracking import tracker
    cfg = small("mnist-basic", eval_every=4, parzen_every=2, log_every=2, snapshot_every=4)
    track = tracker(cfg, mnist)
    G = families.build_generator(cfg)
    at2, at4 = track({"": G, "ema_": G}, 2), track({"": G, "ema_": G}, 4)
    assert set(at2) == {"parzen_quick", "parzen_quick_sigma"}
    assert {"quality_fd", "ema_quality_fd", "quality_score", "ema_quality_confident",
            "quality_class_kl"} <= set(at4)
    assert at4["quality_fd"] == at4["ema_quality_fd"]   # the same G, the same z


TEST_SAMPLES = 1000


@pytest.fixture(scope="module")
def quality_runs(mnist, tmp_path_factory):
    """A 30-iteration tutorial GAN with g_ema and eval_every 10, straight through and
    stopped at 20 then resumed: what both leave."""
    from gan_tf.evaluation import tracking
    root = tmp_path_factory.mktemp("quality")
    cfg = Config.of(iters=30, snapshot_every=10, log_every=5, eval_every=10, g_ema=0.9,
                 tensorboard=False)
    with pytest.MonkeyPatch.context() as mp:   # 1,000 samples a measure: a faster test
        mp.setattr(tracking, "QUALITY_SAMPLES", TEST_SAMPLES)
        train_lib.train(cfg, root / "a", data=mnist, measure=tracking.tracker, **QUIET)
        train_lib.train(dataclasses.replace(cfg, iters=20), root / "b", data=mnist,
                        measure=tracking.tracker, **QUIET)
        cfg_b = train_lib.resume_config(root / "b", {"iters": 30})
        train_lib.train(cfg_b, root / "b", data=mnist, measure=tracking.tracker,
                        resume=True, **QUIET)
    return RunFolder(root / "a"), RunFolder(root / "b")


def test_the_curve_and_the_best_generator_are_in_the_run_folder(quality_runs, mnist):
    a, _ = quality_runs
    records = [r for r in a.read_stats() if "ema_quality_fd" in r]
    assert [r["iter"] for r in records] == [10, 20, 30]
    best = min(records, key=lambda r: r["ema_quality_fd"])
    info = a.generator_info("generator-best.keras")
    assert info["iteration"] == best["iter"] and info["of"] == "generator-ema"
    assert info["val_frechet_distance"] == pytest.approx(best["ema_quality_fd"])
    assert (a / "quality.png").is_file() and (a / "generator-ema.keras").is_file()
    # The saved best G is the average as it was at that iteration: measured again, the
    # same distance.
    from gan_tf.evaluation.tracking import quality
    measure = quality(a.read_config(), mnist, samples=TEST_SAMPLES)
    again = measure(a.load_generator("generator-best.keras"))["quality_fd"]
    assert again == pytest.approx(best["ema_quality_fd"], rel=1e-4)
    # The final G and the average are different generators, both kept.
    final = a.load_generator().get_weights()[0]
    assert not np.array_equal(final, a.load_generator("generator-ema.keras").get_weights()[0])


def test_a_resumed_run_keeps_its_curve_and_its_best_bit_for_bit(quality_runs):
    a, b = quality_runs
    strip = lambda rs: [{k: v for k, v in r.items() if k != "elapsed_s"} for r in rs]  # noqa: E731
    assert strip(a.read_stats()) == strip(b.read_stats())
    ca, cb = a.read_checkpoint(), b.read_checkpoint()
    assert sorted(ca) == sorted(cb) and any(k.startswith("G_best/") for k in ca)
    assert [k for k in ca if not np.array_equal(ca[k], cb[k])] == []
    assert a.generator_info("generator-best.keras")["iteration"] == \
        b.generator_info("generator-best.keras")["iteration"]


def test_evaluate_reports_every_generator_of_a_run_beside_the_final_one(quality_runs, capsys):
    from gan_tf.evaluation import results
    from gan_tf.evaluation.evaluate import evaluate_run
    a, _ = quality_runs
    result = evaluate_run(a, num_samples=200, seed=0)
    assert set(result["generators"]) == {"ema", "best"}
    assert result["generators"]["best"]["file"] == "generator-best.keras"
    assert "generator-ema.keras (iteration 30)" in capsys.readouterr().out
    saved = json.loads((a / "metrics.json").read_text())
    assert saved["generators"]["ema"]["generated"]["frechet_distance"] == \
        result["generators"]["ema"]["generated"]["frechet_distance"]
    table = results.table([a / "metrics.json"])
    assert "· G's moving average" in table and "· best G by validation FD" in table


def test_a_tracked_run_or_sweep_without_the_measure_is_refused_before_writing(mnist,
                                                                              tmp_path):
    from gan_tf.training import sweep
    cfg = small("mnist-basic", eval_every=2)
    with pytest.raises(UserError, match="eval_every need the measures"):
        train_lib.train(cfg, tmp_path / "r", data=mnist, **QUIET)
    with pytest.raises(UserError, match="eval_every need the measures"):
        sweep.train_sweep(cfg, [0, 1], tmp_path / "s", data=mnist, **QUIET)
    assert not (tmp_path / "r").exists() and not (tmp_path / "s").exists()


# --- TensorFlow's DCGAN tutorial, and the DCGAN benchmark's pieces

def test_the_tf_tutorials_dcgan_has_its_published_shapes():
    cfg = load_experiment("mnist-dcgan-tf-tutorial")
    G, D = families.build_generator(cfg), families.build_discriminator(cfg)
    assert G.get_layer("to_maps").output.shape[1:] == (7, 7, 256)
    assert [(G.get_layer(f"deconv{i}").filters, G.get_layer(f"deconv{i}").strides)
            for i in (1, 2, 3)] == [(128, (1, 1)), (64, (2, 2)), (1, (2, 2))]
    assert all(G.get_layer(f"deconv{i}").kernel_size == (5, 5) for i in (1, 2, 3))
    assert not any(isinstance(layer, keras.layers.BatchNormalization) for layer in D.layers)
    assert [layer.rate for layer in D.layers if isinstance(layer, keras.layers.Dropout)] == \
        [0.3, 0.3]
    # Keras' LeakyReLU default, as the tutorial leaves it.
    assert G.get_layer("project_lrelu").negative_slope == pytest.approx(0.3)
    assert cfg.batch_size == 256 and cfg.params.update == "simultaneous" and cfg.params.noise == "gaussian"
    with pytest.raises(UserError, match="conditional is a parameter of families dcgan, mlp, "
                                        "not of 'dcgan_tutorial'"):
        override(cfg, {"conditional": True})


@pytest.mark.parametrize("fc", [0, 1024])
def test_the_dcgan_flop_count_matches_the_keras_layers(fc):
    """dcgan_iteration_flops' forward costs against each Keras layer's own shapes."""
    from gan_tf.studies.benchmarks.baselines import dcgan_iteration_flops
    cfg = override(load_experiment("mnist-dcgan-10-epochs"), {"dcgan_fc": fc})
    G, D = families.build_generator(cfg), families.build_discriminator(cfg)

    def fwd(model):
        total = 0
        for layer in model.layers:
            if isinstance(layer, keras.layers.Conv2DTranspose):   # per input position
                h, w, c = layer.input.shape[1:]
                total += 2 * h * w * c * np.prod(layer.kernel_size) * layer.filters
            elif isinstance(layer, keras.layers.Conv2D):        # per output position
                h, w, c = layer.output.shape[1:]
                total += 2 * h * w * c * np.prod(layer.kernel.shape[:3])
            elif isinstance(layer, keras.layers.Dense):
                total += 2 * np.prod(layer.kernel.shape)
        return total
    f = dcgan_iteration_flops(batch=1, fc=fc)
    d, g = fwd(D), fwd(G)
    first_d, first_g = 2 * 14 * 14 * 64 * 16, 2 * 100 * (fc or 7 * 7 * 128)
    assert f["d_step"] == g + 4 * d + 2 * (d - first_d)
    assert f["g_step"] == 3 * g - first_g + 2 * d


@pytest.mark.skipif(not __import__("gan_tf.studies.benchmarks.baselines", fromlist=["x"])
                    .torch_available(), reason="PyTorch is not installed")
def test_the_torch_dcgan_is_the_projects_layer_for_layer():
    from gan_tf.studies.benchmarks.baselines import _torch_dcgan
    cfg = load_experiment("mnist-dcgan")
    G, D = _torch_dcgan(64, 100, cfg.params.dcgan_fc)
    ours = [families.build_generator(cfg), families.build_discriminator(cfg)]
    for theirs, mine in zip((G, D), ours):
        assert sum(p.numel() for p in theirs.parameters()) == networks.count_params(mine)


def test_the_benchmarks_loops_run_and_time(mnist):
    from gan_tf.studies.benchmarks import baselines
    from gan_tf.studies.benchmarks import bench_dcgan
    images = mnist.train_images[:1024]
    cfg = dataclasses.replace(load_experiment("mnist-dcgan-tf-tutorial"), batch_size=32)
    assert baselines.time_tf_tutorial_dcgan(cfg, images, 2, warmup=1) > 0
    small_cfg = override(load_experiment("mnist-dcgan-10-epochs"), {"conv_width": 8,
                                                                     "log_every": 1})
    assert bench_dcgan.time_trainer(small_cfg, images, 2) > 0
    assert baselines.time_matmul(256, 2, "bfloat16") > 0


# --- the DCGAN study's reading of the curves (studies/dcgan.py), on hand-made runs

def fake_run(path, cfg, fds, every=10):
    """A run folder holding only cfg and stats records with the given EMA distances."""
    path.mkdir(parents=True)
    (path / "config.json").write_text(cfg.to_json())
    lines = [json.dumps({"iter": every * (i + 1), "d_loss": 1.0, "g_loss": 1.0,
                         "quality_fd": fd + 1, "quality_score": 5.0,
                         "ema_quality_fd": fd, "ema_quality_score": 10 - fd / 10})
             for i, fd in enumerate(fds)]
    (path / "stats.jsonl").write_text("\n".join(lines) + "\n")
    return RunFolder(path)


def test_a_curve_flattens_where_it_stays_within_ten_percent_of_its_best():
    from gan_tf.studies.reports.dcgan import flattens_at
    assert flattens_at([(10, 100.0), (20, 50.0), (30, 21.0), (40, 20.0), (50, 21.5)]) == 30
    # A late dip below 90% of an earlier plateau moves the point to the dip.
    assert flattens_at([(10, 30.0), (20, 30.0), (30, 20.0)]) == 30
    assert flattens_at([]) is None


def test_ablations_are_paired_with_the_same_seed_at_the_same_iteration(tmp_path):
    from gan_tf.core.config import differences
    from gan_tf.studies.reports.dcgan import ablation_rows
    base = Config.of(family="dcgan", g_output="tanh", eval_every=10, log_every=10,
                  snapshot_every=10, iters=40, tensorboard=False)
    runs = {s: fake_run(tmp_path / f"main-{s}", dataclasses.replace(base, seed=s),
                        [80.0, 60.0, 50.0 + s, 40.0]) for s in (0, 1)}
    smooth = override(base, {"real_label": 0.9, "iters": 30})
    short = {s: fake_run(tmp_path / f"smooth-{s}", dataclasses.replace(smooth, seed=s),
                         [80.0, 60.0, 47.0 + s]) for s in (0, 1)}
    label = differences(smooth, base, ignore=("iters",))
    assert label == "--real-label 0.9"
    row = ablation_rows(runs, {label: short}).splitlines()[-1]
    # main at iteration 30: 50, 51; changed: 47, 48; paired differences -3, -3.
    assert "| --real-label 0.9 (2) | this recipe | 30 | 50.50 ± 0.71 → 47.50 ± 0.71 | -3.00 ± 0.00 |" in row
    late = {0: fake_run(tmp_path / "late", dataclasses.replace(smooth, seed=0, iters=50),
                        [1.0] * 5)}
    with pytest.raises(UserError, match="no quality record at iteration 50"):
        ablation_rows(runs, {label: late})


def test_dcgan_fc_adds_infogans_fully_connected_layers():
    cfg = override(load_experiment("mnist-dcgan-10-epochs"), {"dcgan_fc": 32})
    G, D = families.build_generator(cfg), families.build_discriminator(cfg)
    assert G.get_layer("fc").units == 32 and G.get_layer("project").input.shape[-1] == 32
    assert D.get_layer("fc").units == 32 and D.get_layer("out").input.shape[-1] == 32
    assert isinstance(G.get_layer("fc_bn"), keras.layers.BatchNormalization)
    plain = families.build_generator(load_experiment("mnist-dcgan-10-epochs"))
    assert "fc" not in [layer.name for layer in plain.layers]


def test_the_mnist_dcgan_recipe_changes_only_what_its_docstring_lists():
    new, old = load_experiment("mnist-dcgan"), load_experiment("mnist-dcgan-10-epochs")
    changed = {k: v for k, v in flat_values(new).items() if v != flat_values(old)[k]}
    assert changed == {"dcgan_fc": 1024, "g_ema": 0.999, "eval_every": 215,
                       "precision": "mixed_bfloat16", "iters": 6880}
    assert new.iters == 16 * 430 and new.eval_every % new.log_every == 0
    # mnist-cdcgan's results were made on the first recipe, and it still builds on it.
    assert load_experiment("mnist-cdcgan") == override(old, {"conditional": True})
