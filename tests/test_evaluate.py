"""The evaluation pipeline on "generators" whose quality is known in advance."""

import json

import numpy as np
import pytest

from conftest import one_line_error
from gan_tf import evaluate as evaluate_command
from gan_tf import results as results_command
from gan_tf.core.errors import UserError
from gan_tf.evaluation import evaluate, results
from gan_tf.evaluation.classifier import MIN_TEST_ACCURACY, NOTE, accuracy, load_classifier
from gan_tf.families import FAMILIES
from gan_tf.runs.folder import RunFolder


@pytest.fixture(scope="module")
def classifier():
    return load_classifier()


@pytest.fixture(scope="module")
def real_reference(mnist, classifier):
    # The real-data side, computed once; each case below measures only its samples.
    return evaluate.evaluate_images(mnist.train_images[:100] / 255.0, mnist,
                                    classifier)["real"]


def test_committed_classifier_still_reaches_its_accuracy(mnist, classifier):
    acc = accuracy(classifier, mnist.test_images / 255.0, mnist.test_labels)
    assert acc >= MIN_TEST_ACCURACY
    assert acc == pytest.approx(json.loads(NOTE.read_text())["test_accuracy"], abs=1e-4)


@pytest.mark.slow
def test_real_images_score_like_real_data(mnist, classifier, real_reference):
    # 10,000 training images the reference never used, as a perfect "generator".
    fake = mnist.train_images[20_000:30_000] / 255.0
    g = evaluate.evaluate_images(fake, mnist, classifier,
                                 reference=real_reference)["generated"]
    r = real_reference
    assert g["mnist_score"] == pytest.approx(r["mnist_score"], rel=0.03)
    assert g["frechet_distance"] < 2 * r["frechet_distance"] + 0.5
    assert g["modes_covered"] == 10 and g["class_kl"] < 0.01
    assert g["confident_share"] == pytest.approx(r["confident_share"], abs=0.02)
    assert g["parzen_ll"] == pytest.approx(r["parzen_ll"], abs=5)
    assert r["mnist_score"] > 9.5 and 230 < r["parzen_ll"] < 260


def test_one_repeated_digit_covers_one_mode(mnist, classifier, real_reference):
    three = mnist.test_images[mnist.test_labels == 3][0] / 255.0
    fake = np.repeat(three[None], 2000, axis=0)
    g = evaluate.evaluate_images(fake, mnist, classifier,
                                 reference=real_reference)["generated"]
    assert g["modes_covered"] == 1 and g["class_histogram"][3] == 1.0
    assert g["class_kl"] > 2.0 and g["mnist_score"] < 1.1
    assert g["frechet_distance"] > 20 * real_reference["frechet_distance"]


def test_uniform_noise_scores_far_worse_than_both(mnist, classifier, real_reference):
    noise = np.random.default_rng(0).uniform(0, 1, (2000, 784))
    g = evaluate.evaluate_images(noise, mnist, classifier,
                                 reference=real_reference)["generated"]
    r = real_reference
    assert g["frechet_distance"] > 50 * r["frechet_distance"]
    assert g["parzen_ll"] < r["parzen_ll"] - 500
    assert g["mnist_score"] < r["mnist_score"] / 2


def test_images_outside_unit_range_are_refused(mnist, classifier):
    with pytest.raises(UserError, match=r"\[0, 1\].*543.4 nats"):
        evaluate.evaluate_images(np.full((10, 784), -0.5), mnist, classifier)


@pytest.mark.slow
def test_evaluate_command_on_a_short_run(mnist, mnist_dir, tmp_path, capsys):
    from gan_tf.core.config import Config
    from gan_tf.training import run as train_lib
    run = tmp_path / "run"
    train_lib.train(Config.of(iters=200, snapshot_every=100, log_every=50), run, data=mnist,
                    log=lambda line: None)
    assert evaluate_command.main([str(run), "--num-samples", "1000", "--data-dir",
                          str(mnist_dir)]) == 0
    m = json.loads((run / "metrics.json").read_text())
    assert m["num_samples"] == 1000 and m["seed"] == 0
    for side in ("generated", "real"):
        assert {"mnist_score", "frechet_distance", "modes_covered", "class_kl",
                "confident_share", "parzen_ll", "parzen_se", "parzen_sigma"} <= set(m[side])
    assert (run / "nearest_neighbours.png").exists()
    assert "Parzen log-likelihood" in capsys.readouterr().out
    # The same seed draws the same samples: the numbers are reproducible.
    a, labels = evaluate.generate(RunFolder(run).load_generator(), 50, seed=3)
    assert labels is None and np.array_equal(a, evaluate.generate(RunFolder(run).load_generator(), 50, seed=3)[0])


def test_evaluate_refuses_a_folder_without_generator(tmp_path, mnist_dir, capsys):
    assert evaluate_command.main([str(tmp_path), "--data-dir", str(mnist_dir)]) == 2
    assert "no generator at" in capsys.readouterr().err


def test_tanh_generators_are_rescaled_to_unit_range(tmp_path):
    import keras
    G = keras.Sequential([keras.Input((5,)), keras.layers.Dense(
        784, activation="tanh", kernel_initializer=keras.initializers.RandomNormal(stddev=3))])
    G.save(tmp_path / "generator.keras")
    x, _ = evaluate.generate(RunFolder(tmp_path).load_generator(), 200, seed=0)
    assert 0 <= x.min() < 0.2 and 0.8 < x.max() <= 1


def test_results_table_is_built_from_metrics_files(tmp_path):
    gen = {"mnist_score": 4.5, "frechet_distance": 80.0, "modes_covered": 8,
           "class_kl": 0.5, "confident_share": 0.7, "parzen_ll": 90.0, "parzen_se": 1.8}
    real = {**gen, "mnist_score": 9.75, "parzen_ll": 241.2}
    cgan = {**gen, "label_accuracy": 0.97, "label_accuracy_min": 0.951}
    for name, g in (("b-run", gen), ("a-run", cgan)):
        (tmp_path / name).mkdir()
        (tmp_path / name / "metrics.json").write_text(json.dumps({"generated": g,
                                                                   "real": real}))
    page = tmp_path / "docs" / results.PAGES["results"]
    page.parent.mkdir()
    page.write_text("intro\n<!-- results:start -->\nold table\n<!-- results:end -->\noutro\n")
    assert results_command.main([str(tmp_path / "b-run"), str(tmp_path / "a-run"), "--docs",
                                 str(tmp_path / "docs"), "--outputs", str(tmp_path)]) == 0
    text = page.read_text()
    assert "old table" not in text and text.startswith("intro") and text.endswith("outro\n")
    rows = [l for l in text.splitlines() if l.startswith("| `")]
    assert [r.split("`")[1] for r in rows] == ["a-run", "b-run"]
    assert "| 9.75 |" in text and "241.2 ± 1.8" in text
    # Neither metrics.json says how it was evaluated, nor is a config.json beside it.
    unknown = "| ? samples, z seed ?, ? split | ? |"
    assert rows[0].endswith("| 97.0% (95.1%) " + unknown)
    assert rows[1].endswith("| 90.0 ± 1.8 |  " + unknown)
    assert results.CAPTION in text


def test_toy_sections_are_built_from_their_result_files(tmp_path):
    (tmp_path / "gaussian-1d").mkdir()
    (tmp_path / "gaussian-1d" / "metrics.json").write_text(json.dumps({
        "iters": 100, "wasserstein_1": 0.09, "wasserstein_1_data_vs_data": 0.01,
        "g_mean": 1.97, "g_std": 0.55, "mu": 2.0, "sigma": 0.5, "d_mean_on_data": 0.48,
        "d_mean_gap_from_half_on_data": 0.03}))
    (tmp_path / "mode-collapse").mkdir()
    (tmp_path / "mode-collapse" / "results.json").write_text(json.dumps({
        "iters": 20000, "seeds": [0, 1], "results": {"ring/vanilla": {
            "modes_covered_mean": 7.0, "modes_covered_std": 0.5, "modes_total": 8,
            "high_quality_mean": 0.93, "high_quality_std": 0.01}}}))
    sections = results.toy_sections(tmp_path)
    assert "| 100 | 0.090 | 0.010 |" in sections["gaussian"]
    assert "| ring | vanilla | 7.0 ± 0.5 of 8 | 93.0% ± 1.0% |" in sections["modes"]
    assert results.toy_sections(tmp_path / "nothing") == {}


@pytest.mark.slow
def test_latent_walks_and_arithmetic_on_a_trained_generator(mnist, mnist_dir, tmp_path,
                                                            capsys):
    from gan_tf import latent as latent_command
    from gan_tf.core.config import Config
    from gan_tf.evaluation import latent
    from gan_tf.training import run as train_lib
    run = tmp_path / "run"
    train_lib.train(Config.of(iters=3000), run, data=mnist, log=lambda line: None)
    from gan_tf.models.networks import load_generator
    G = load_generator(run / "generator.keras")
    walks, z = latent.interpolations(G, 100, 3, 5, np.random.default_rng(0))
    assert walks.shape == (3, 5, 784) and 0 <= walks.min() and walks.max() <= 1
    np.testing.assert_allclose(z[:, 2], (z[:, 0] + z[:, 4]) / 2, atol=1e-6)  # straight
    out = latent.arithmetic(G, load_classifier(), 100, np.random.default_rng(0))
    a, b = out["digits"]
    assert a != b and out["label"][:2] == [a, a] and out["label"][2] == b
    k = out["kind_ink"]
    assert k["thick_a"] > k["thin_a"]        # the kinds are what their names say
    assert latent_command.main([str(run)]) == 0
    for name in ("interpolation.png", "arithmetic.png", "latent.json"):
        assert (run / name).exists()
    assert "classified as" in capsys.readouterr().out


def test_label_accuracy_by_hand():
    probs = np.eye(10)[[0, 0, 1, 1, 2, 3]]          # classifier's answers
    labels = np.array([0, 0, 1, 2, 2, 2])           # what G was asked for
    got = evaluate.label_accuracy(probs, labels)
    assert got["label_accuracy"] == pytest.approx(4 / 6)
    assert got["label_accuracy_per_label"] == {"0": 1.0, "1": 1.0, "2": pytest.approx(1 / 3)}
    assert got["label_accuracy_min"] == pytest.approx(1 / 3)


@pytest.mark.slow
def test_conditional_runs_are_evaluated_per_label(mnist, mnist_dir, tmp_path, capsys):
    from gan_tf.core.config import Config, override
    from gan_tf.evaluation import latent
    from gan_tf.models import networks
    from gan_tf.training import run as train_lib
    run = tmp_path / "cgan"
    train_lib.train(override(Config(), dict(conditional=True, loss="xent", iters=200,
                                            snapshot_every=100)), run, data=mnist, log=lambda line: None)
    images, labels = evaluate.generate(RunFolder(run).load_generator(), 1000, seed=0)
    assert list(np.bincount(labels)) == [100] * 10     # every label equally often
    assert evaluate_command.main([str(run), "--num-samples", "1000", "--data-dir",
                          str(mnist_dir)]) == 0
    m = json.loads((run / "metrics.json").read_text())["generated"]
    assert set(m["label_accuracy_per_label"]) == {str(k) for k in range(10)}
    assert 0 <= m["label_accuracy_min"] <= m["label_accuracy"] <= 1
    assert "classified as their label" in capsys.readouterr().out
    # The latent tool conditions interpolation row r on digit r mod 10.
    G = networks.load_generator(run / "generator.keras")
    walks, z = latent.interpolations(G, 100, 3, 4, np.random.default_rng(0))
    np.testing.assert_allclose(walks[2], networks.unit_images(G, z[2], [2] * 4), atol=1e-6)


@pytest.mark.slow
def test_fashion_mnist_runs_are_measured_against_fashion_mnist(fashion_dir, tmp_path,
                                                              capsys):
    from gan_tf.core.config import Config
    from gan_tf.data.datasets import load_dataset
    from gan_tf.evaluation.classifier import MIN_TEST_ACCURACIES, weights_path
    from gan_tf.training import run as train_lib
    fashion = load_dataset("fashion_mnist", fashion_dir)
    clf = load_classifier(dataset="fashion_mnist")
    acc = accuracy(clf, fashion.test_images / 255.0, fashion.test_labels)
    note = json.loads(weights_path("fashion_mnist").with_suffix(".json").read_text())
    assert acc >= MIN_TEST_ACCURACIES["fashion_mnist"]
    assert acc == pytest.approx(note["test_accuracy"], abs=1e-4)
    run = tmp_path / "run"
    train_lib.train(Config.of(dataset="fashion_mnist", iters=100, snapshot_every=100), run,
                    data=fashion, log=lambda line: None)
    assert evaluate_command.main([str(run), "--num-samples", "1000", "--data-dir",
                          str(fashion_dir)]) == 0
    m = json.loads((run / "metrics.json").read_text())
    assert m["dataset"] == "fashion_mnist"
    # The real side is Fashion-MNIST's own: its classifier's score and its Parzen
    # baseline, not MNIST's (9.75 and 241 nats).
    assert 7.5 < m["real"]["mnist_score"] < 9.0 and m["real"]["parzen_ll"] > 300
    assert "Fashion-MNIST score" in capsys.readouterr().out


@pytest.mark.parametrize("family", sorted(
    {f.measures: name for name, f in FAMILIES.items() if f.measures != "samples"}.values()))
def test_results_names_what_a_metrics_file_of_another_measure_holds(family, tmp_path,
                                                                    capsys):
    """Issue 50 item 3: the metrics.json evaluate writes for a family that measures
    something other than samples (super-resolution, translation, a classifier) is
    named in one line, not called "not a metrics file ... evaluate the run again"."""
    kind = FAMILIES[family].measures
    run = tmp_path / "run"
    run.mkdir()
    # as evaluate writes it: the measures under the family's `measures`
    (run / "metrics.json").write_text(json.dumps(
        {"run": str(run), "iteration": 4, "dataset": "mnist", "split": "paper",
         kind: {"errors": 1.0}, "seconds": 1.0}))
    before = (run / "metrics.json").read_bytes()
    assert results_command.main(["--print", "--docs", str(tmp_path / "docs"), str(run)]) == 2
    line = one_line_error(capsys, kind, "results tables are for sample-quality runs")
    assert "evaluate the run again" not in line
    assert (run / "metrics.json").read_bytes() == before
