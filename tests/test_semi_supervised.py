"""The semi-supervised GAN (families/semi_supervised.py): its losses, weight norm,
data-dependent init, Adam and labelled subset against hand computations; its run
folder and evaluate's measure; and a learning test: with 100 labels, D's test error
after a short run is clearly below the same D trained on the 100 labels alone."""

from __future__ import annotations

import json

import keras
import numpy as np
import pytest
import tensorflow as tf

from gan_tf.core.config import Config, override

from gan_tf.core.experiments import load_experiment
from gan_tf.core.errors import UserError
from gan_tf.evaluation.evaluate import count_errors, evaluate_folder
from gan_tf.families import semi_supervised as ss
from gan_tf.training import run as train_lib
from gan_tf.training.build import build_trainer


def test_the_k_plus_1_losses_against_the_eleven_class_softmax():
    rng = np.random.default_rng(0)
    real, fake = rng.normal(size=(6, 10)) * 3, rng.normal(size=(5, 10)) * 3
    labels = rng.integers(0, 10, 6)

    def p_fake(logits):   # an 11th class whose logit is 0
        z = np.concatenate([logits, np.zeros((len(logits), 1))], axis=1)
        e = np.exp(z - z.max(axis=1, keepdims=True))
        return e[:, -1] / e.sum(axis=1)
    want_unl = (-0.5 * np.mean(np.log(1 - p_fake(real)))
                - 0.5 * np.mean(np.log(p_fake(fake))))
    got_unl = float(ss.unlabelled_loss(tf.constant(real, tf.float32),
                                       tf.constant(fake, tf.float32)))
    assert got_unl == pytest.approx(want_unl, rel=1e-5)
    e = np.exp(real - real.max(axis=1, keepdims=True))
    want_lab = -np.mean(np.log(e[np.arange(6), labels] / e.sum(axis=1)))
    got_lab = float(ss.labelled_loss(tf.constant(real, tf.float32), tf.constant(labels)))
    assert got_lab == pytest.approx(want_lab, rel=1e-5)
    assert int(ss.error_count(tf.constant(real), tf.constant(labels))) == int(
        np.sum(real.argmax(axis=1) != labels))


def test_feature_matching_is_the_squared_distance_of_the_batch_means():
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(7, 4)), rng.normal(size=(9, 4)) + 1.0
    want = np.mean((b.mean(axis=0) - a.mean(axis=0)) ** 2)
    got = float(ss.feature_matching_loss(tf.constant(a), tf.constant(b)))
    assert got == pytest.approx(want, rel=1e-6)


def test_weight_norm_and_the_data_dependent_init():
    layer = ss.WeightNormDense(5, "relu", train_scale=False, seed=3)
    x = tf.constant(np.random.default_rng(2).normal(size=(64, 8)), tf.float32)
    layer(x)
    v, g = layer.v.numpy(), np.arange(1.0, 6.0, dtype=np.float32)
    layer.g.assign(g)
    want = np.maximum(x.numpy() @ (v * g / np.sqrt((v ** 2).sum(axis=0))), 0.0)
    np.testing.assert_allclose(layer(x).numpy(), want, rtol=1e-5, atol=1e-6)
    assert [w.name for w in layer.trainable_weights] == ["v", "b"]   # g fixed
    # The init: the first layer's pre-activations on the (noisy) init batch have zero
    # mean and unit variance per unit; the noise is the stateless one, drawn again.
    cfg = override(Config.of(family="semi_supervised"), {"d_hidden": (6, 4)})
    D = ss.discriminator(cfg, iter(range(10)))
    images = tf.constant(np.random.default_rng(3).uniform(size=(200, 784)), tf.float32)
    seed = tf.constant([5, 7], tf.int64)
    ss.init_from_data(D, images, seed)
    first = D.get_layer("hidden1")
    pre = first.pre_activation(ss._noisy(images, ss.SIGMA_INPUT, seed, 0)).numpy() \
        + first.b.numpy()
    np.testing.assert_allclose(pre.mean(axis=0), 0.0, atol=1e-4)
    np.testing.assert_allclose(pre.std(axis=0), 1.0, rtol=1e-3)


def test_the_noise_is_traced_once_per_shape_not_per_layer():
    """The init's eager calls (one per layer) traced the noise function for every
    (sigma, layer) pair, and TensorFlow warned of excessive retracing at every run's
    start; sigma and the layer index are tensors now, so new layers of one shape reuse
    a trace. The noise itself is unchanged: x + sigma N(0, 1) from the folded seed."""
    seed = tf.constant([5, 7], tf.int64)
    x = tf.zeros((4, 6))
    before = ss._add_noise.experimental_get_tracing_count()
    draws = [ss._noisy(x, sigma, seed, layer).numpy()
             for layer, sigma in enumerate([0.3, 0.5, 0.5, 0.5, 0.5])]
    assert ss._add_noise.experimental_get_tracing_count() - before <= 1
    @tf.function(jit_compile=True)      # ThreeFry has XLA kernels only
    def noise_of_layer_2():
        folded = tf.random.experimental.stateless_fold_in(seed, tf.constant(2, tf.int64),
                                                          alg="threefry")
        return 0.5 * tf.random.stateless_normal((4, 6), folded, alg="threefry")
    want = noise_of_layer_2().numpy()
    np.testing.assert_array_equal(draws[2], want)
    assert not np.array_equal(draws[1], draws[2])     # each layer its own noise


def test_adam_with_its_epsilon_inside_the_square_root():
    """nn.adam_updates, written out in NumPy for three steps."""
    opt = ss.SqrtEpsAdam(0.003, 0.5, 0.999, epsilon=1e-2)   # an epsilon that shows
    w = tf.Variable([1.0, -2.0, 0.5])
    opt.build([w])
    want, m, v = np.array([1.0, -2.0, 0.5]), 0.0, 0.0
    for t, grad in enumerate(([0.1, -0.3, 0.02], [0.2, 0.1, -0.05], [-0.1, 0.4, 0.0]), 1):
        g = np.array(grad)
        opt.apply([tf.constant(grad, tf.float32)], [w])
        m, v = 0.5 * m + 0.5 * g, 0.999 * v + 0.001 * g * g
        want = want - 0.003 * (m / (1 - 0.5 ** t)) / np.sqrt(v / (1 - 0.999 ** t) + 1e-2)
        np.testing.assert_allclose(w.numpy(), want, rtol=1e-5)


def test_the_labelled_images_are_the_first_of_each_digit_in_the_seeds_order():
    labels = np.random.default_rng(4).integers(0, 10, 500)
    chosen = ss.labelled_subset(labels, 3, 1)
    order = np.random.RandomState(1).permutation(500)
    for k in range(10):
        assert list(chosen[3 * k:3 * k + 3]) == [i for i in order if labels[i] == k][:3]
    assert list(ss.labelled_subset(labels, 3, 1)) == list(chosen)
    assert list(ss.labelled_subset(labels, 3, 2)) != list(chosen)


def small(**changes) -> Config:
    return override(load_experiment("mnist-semi-supervised"),
                    {"d_hidden": (64, 32), "g_hidden": (32,), "batch_size": 50,
                     "iters": 4, "snapshot_every": 2, "log_every": 2, "eval_every": 0,
                     **changes})


def test_every_labelled_batch_holds_the_labelled_images(mnist):
    """20 labels in batches of 100: every batch holds each labelled image 5 times and
    nothing else (the authors' 5 permutations a batch), in a new order each time."""
    cfg = small(labels_per_class=2, batch_size=100)
    steps = build_trainer(cfg, mnist.train_images, mnist.train_labels).steps
    labelled = sorted(steps.labelled_indices.tolist())
    assert len(labelled) == 20
    assert sorted(np.bincount(mnist.train_labels[labelled], minlength=10)) == [2] * 10
    orders = []
    for t in range(3):
        rows = steps.labelled_rows[steps.labelled.indices(tf.constant(t, tf.int64)).numpy()]
        assert sorted(rows.tolist()) == sorted(labelled * 5)
        orders.append(rows.tolist())
    assert orders[0] != orders[1] != orders[2]


def test_the_family_refuses_what_its_step_does_not_do():
    for changes, words in (({"d_steps": 2}, "d_steps is a parameter of families"),
                           ({"g_ema": 0.9}, "g_ema is a parameter of families"),
                           ({"lr_decay": 1.5}, "lr_decay is a parameter of families"),
                           ({"parzen_every": 600}, "needs parzen_every=0"),
                           ({"precision": "mixed_bfloat16"}, "needs precision='float32'"),
                           ({"unlabeled_weight": -1.0}, "unlabeled_weight must be")):
        with pytest.raises(UserError, match=words):
            override(Config.of(family="semi_supervised"), changes)


def test_the_experiment_trains_on_all_60000_and_counts_test_errors_every_epoch():
    """The authors' data (T:97-98) and their per-epoch test error (T:150-154); a
    family that measures samples against validation images cannot take split 'all'."""
    cfg = load_experiment("mnist-semi-supervised")
    assert (cfg.split, cfg.eval_every, cfg.log_every, cfg.iters) == ("all", 600, 600,
                                                                     300 * 600)
    for family, words in (("mlp", "eval_every measure against validation images"),
                          ("dcgan", "eval_every measure against validation images")):
        with pytest.raises(UserError, match=words):
            Config.of(family=family, split="all", eval_every=100, log_every=100,
                      snapshot_every=100)
    with pytest.raises(UserError, match="parzen_every measure against validation"):
        Config.of(family="mlp", split="all", parzen_every=100, log_every=100,
                  snapshot_every=100)
    Config.of(family="mlp", split="all")     # training alone needs no validation


def test_eval_every_records_the_test_errors_of_the_average_and_of_d(mnist, tmp_path):
    """Every eval_every iterations the stats record holds the test errors of the
    classifier (D's average) and of D itself; the last ones are those of the files
    the run saves, and the curve is drawn."""
    from gan_tf.evaluation.tracking import tracker
    from gan_tf.runs.folder import RunFolder
    from gan_tf.runs.writer import QUALITY_CURVE
    cfg = small(eval_every=2, average_rate=0.5)
    train_lib.train(cfg, tmp_path / "run", data=mnist, log=lambda line: None,
                    measure=tracker)
    records = RunFolder(tmp_path / "run").read_stats()
    assert [r["iter"] for r in records if "test_errors" in r] == [2, 4]
    assert all("d_test_errors" in r for r in records)
    last = records[-1]
    saved = keras.saving.load_model(tmp_path / "run" / "classifier.keras")
    assert last["test_errors"] == count_errors(saved, mnist.test_images, mnist.test_labels)
    assert last["test_errors"] != last["d_test_errors"]    # two models, two counts
    assert (tmp_path / "run" / QUALITY_CURVE).is_file()
    # The run is measured by its classifier, its G by its samples: each file's card
    # says what it takes and gives (G's once said 'classifier' with 784 'logits', and
    # evaluate of the G file fed it images).
    g_info = json.loads((tmp_path / "run" / "generator.json").read_text())
    c_info = json.loads((tmp_path / "run" / "classifier.json").read_text())
    assert g_info["measures"] == g_info["card"]["measures"] == "samples"
    assert g_info["card"]["output"]["image_shape"] == [28, 28, 1]
    assert c_info["measures"] == c_info["card"]["measures"] == "classifier"
    assert c_info["card"]["output"]["range"] == "logits"
    # The table of such runs: the row of each, grouped by labels beside the paper's.
    from gan_tf.semi_supervised_table import main as table
    assert table([str(tmp_path / "run"), "--out", str(tmp_path / "table")]) == 0
    made = json.loads((tmp_path / "table" / "table.json").read_text())
    [row] = made["runs"]
    assert (row["labels"], row["iteration"], row["per_epoch"]) == (100, 4, 1200)
    assert (row["test_errors"], row["d_test_errors"]) == (last["test_errors"],
                                                           last["d_test_errors"])
    assert made["groups"][0]["paper"] == [93, 6.5]
    assert (tmp_path / "table" / "curves.png").is_file()
    assert "| 100 | 1 | " in (tmp_path / "table" / "table.md").read_text()


def test_evaluate_measures_the_runs_classifier(mnist, mnist_dir, tmp_path, capsys):
    cfg = small(average_rate=0.0)
    train_lib.train(cfg, tmp_path / "run", data=mnist, log=lambda line: None)
    assert (tmp_path / "run" / "classifier.keras").is_file()
    [result] = evaluate_folder(tmp_path / "run", data_dir=mnist_dir)
    saved = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert saved["classifier"] == result["classifier"]
    steps = build_trainer(cfg, mnist.train_images, mnist.train_labels)
    assert "test digits" in capsys.readouterr().out
    assert 0 < result["classifier"]["test_errors"] <= 10_000
    card = json.loads((tmp_path / "run" / "classifier.json").read_text())["card"]
    assert card["output"] == {"shape": [10], "range": "logits",
                              "meaning": "one logit per digit; the argmax is the class"}
    assert card["inputs"][0]["shape"] == [784] and "pixels in [0, 1]" in card["inputs"][0][
        "distribution"]
    per = result["classifier"]["per_class_errors"]
    assert sum(per.values()) == result["classifier"]["test_errors"] and len(per) == 10
    del steps


def test_a_generator_file_with_the_familys_own_layer_loads_in_evaluate(mnist_dir, tmp_path):
    """A G saved before generators were converted to Keras' own layers holds the
    family's WeightNormDense: evaluate, in a fresh process that has imported no
    family, still reads it (runs/folder.read_generator registers every family's
    layers first)."""
    import subprocess
    import sys
    from conftest import ENV
    G = ss.generator(small(), iter(range(10)))
    assert any(isinstance(layer, ss.WeightNormDense) for layer in G.layers)
    G.save(tmp_path / "old.keras")                  # as saved before, not converted
    out = subprocess.run([sys.executable, "-m", "gan_tf.evaluate", str(tmp_path / "old.keras"),
                          "--num-samples", "100", "--data-dir", str(mnist_dir)], env=ENV,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "generated" in out.stdout and "real data" in out.stdout   # its measures


def test_the_committed_classifier_repeats_its_row(mnist_dir, capsys):
    """docs/models' averaged D of seed 2 (100 labels, 100 epochs): evaluate reads the
    file as a classifier (its card says so) and counts the errors its .json records."""
    from conftest import REPO
    from gan_tf.evaluation.evaluate import evaluate_file
    path = REPO / "docs" / "models" / "mnist-semi-supervised-100-labels-seed-2-classifier.keras"
    saved = json.loads(path.with_suffix(".json").read_text())
    result = evaluate_file(path, 10_000, 0, mnist_dir)
    assert result["classifier"]["test_errors"] == saved["test_errors"] == 98
    assert result["classifier"]["per_class_errors"] == saved["per_class_errors"]
    assert "98 errors on 10,000 test digits" in capsys.readouterr().out


def test_error_counts_per_digit_and_the_ensemble_by_hand(mnist_dir, tmp_path, capsys):
    from gan_tf.evaluation import evaluate as ev
    logits = np.array([[5, 0, 0], [0, 5, 0], [0, 5, 0], [0, 0, 5], [5, 0, 0]], float)
    logits = np.pad(logits, ((0, 0), (0, 7)), constant_values=-9)
    got = ev.error_counts(logits, np.array([0, 1, 2, 2, 1]))
    assert (got["test_errors"], got["test_error"]) == (2, 0.4)   # rows 2 and 4
    assert [got["per_class_errors"][k] for k in "012"] == [0, 1, 1]
    # The ensemble averages probabilities, it does not vote: two models give digit 1
    # p = 0.6 (and 0.2 to 0 and 2), one is sure of 2: the mean is highest for 2.
    runs = []
    for i, out in enumerate(([0, np.log(3), 0], [0, np.log(3), 0], [0, 0, 9])):
        x = keras.Input((784,))
        bias = np.full(10, -30.0, np.float32)
        bias[:3] = out
        y = keras.layers.Dense(10, kernel_initializer="zeros",
                               bias_initializer=keras.initializers.Constant(bias))(x)
        run = tmp_path / f"r{i}"
        train_lib.train(small(iters=2, snapshot_every=2, log_every=2), run,
                        data=None, data_dir=mnist_dir, log=lambda line: None)
        keras.Model(x, y).save(run / "classifier.keras")
        runs.append(run)
    labels = ev.load_dataset("mnist", mnist_dir).test_labels
    result = ev.ensemble(runs, mnist_dir)["classifier"]
    assert result["test_errors"] == int(np.sum(labels != 2))
    assert result["per_class_errors"]["2"] == 0
    result = ev.ensemble(runs[:2], mnist_dir)["classifier"]     # the two alone: 1
    assert result["test_errors"] == int(np.sum(labels != 1))
    # Probabilities, not logits: one model all but sure of 1 (logit 30), two fairly
    # sure of 0 (1's logit -5). The mean probability of 1 is 0.34: 0 wins; the mean
    # logit of 1 is 6.7: averaging logits would say 1.
    for run, out in zip(runs, ([0, 30, -30], [0, -5, -30], [0, -5, -30])):
        x = keras.Input((784,))
        bias = np.full(10, -30.0, np.float32)
        bias[:3] = out
        keras.Model(x, keras.layers.Dense(10, kernel_initializer="zeros",
                                          bias_initializer=keras.initializers.Constant(
                                              bias))(x)).save(run / "classifier.keras")
    result = ev.ensemble(runs, mnist_dir)["classifier"]
    assert result["test_errors"] == int(np.sum(labels != 0))
    with pytest.raises(UserError, match="two or more runs whose product is a classifier"):
        ev.ensemble(runs[:1], mnist_dir)


# 5,000 iterations (9 epochs): the GAN's D gets better epoch after epoch (test errors
# 2,384, 2,158, 1,937, 1,688, 1,427 at 1,000 .. 5,000 here), while D on the labels alone
# has fit them by 2,000 and stays near 2,200 (2,601, 2,278, 2,222, 2,169 at 1,000 ..
# 4,000): 413 s for both on 2 cores (1,427 against 2,414 errors).
LEARN_ITERS = 5000


def errors_after(mnist, unlabeled_weight: float) -> int:
    """D's test errors after LEARN_ITERS iterations with 100 labels (D itself: the
    average's 1e-4 rate needs tens of thousands of steps to forget its zero start)."""
    cfg = override(load_experiment("mnist-semi-supervised"),
                   {"iters": LEARN_ITERS, "unlabeled_weight": unlabeled_weight,
                    "average_rate": 0.0})
    driver = build_trainer(cfg, mnist.train_images, mnist.train_labels)
    driver.chunk(LEARN_ITERS)
    return count_errors(driver.classifier, mnist.test_images, mnist.test_labels)


@pytest.mark.slow
def test_the_unlabelled_images_teach_d_beyond_its_100_labels(mnist):
    with_gan = errors_after(mnist, 1.0)
    labels_alone = errors_after(mnist, 0.0)
    print(f"test errors after {LEARN_ITERS}: {with_gan} with the GAN, {labels_alone} "
          f"with the 100 labels alone")
    assert with_gan < 0.8 * labels_alone, (with_gan, labels_alone)
