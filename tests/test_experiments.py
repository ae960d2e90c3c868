"""Every experiment trains on real data; the DCGAN's build; the cGAN's labels and what
it learns from them; Fashion-MNIST end to end."""

import numpy as np
import pytest

from gan_tf import families
from gan_tf.core.config import Config, override
from gan_tf.core.experiments import experiment_names, load_experiment
from gan_tf.models import networks
from gan_tf.train import default_run_dir
from gan_tf.training import run as train_lib
from gan_tf.training.build import build_trainer


def test_the_tutorials_experiments_are_all_there():
    assert {"mnist-basic", "mnist-xent", "mnist-deep", "mnist-dcgan",
            "mnist-cgan"} <= set(experiment_names())


def run_briefly(name, data, run_dir, **changes):
    base = load_experiment(name)
    # An experiment with a quality curve measures it at the end of this short run.
    tracked = {"eval_every": 4} if base.eval_every else {}
    cfg = override(base, {"iters": 4, "snapshot_every": 2, "log_every": 2, **tracked,
                          **changes})
    from gan_tf.evaluation.tracking import tracker  # what the train command passes
    summary = train_lib.train(cfg, run_dir, data=data, log=lambda line: None,
                              measure=tracker)
    assert summary["status"] == "complete" and summary["iteration"] == 4
    return cfg


@pytest.mark.parametrize("name", experiment_names())
def test_every_experiment_trains_on_real_data_with_outputs_in_range(name, mnist, tmp_path):
    run = tmp_path / name
    cfg = run_briefly(name, mnist, run)
    assert [p.name for p in sorted((run / "frames").iterdir())] == ["000.png", "001.png",
                                                                    "002.png"]
    for f in ("training.gif", "losses.png", "generator.keras", "checkpoint.npz"):
        assert (run / f).is_file(), f
    G = networks.load_generator(run / "generator.keras")
    assert networks.is_conditional(G) == cfg.conditional
    z, labels = train_lib.frame_inputs(cfg, 0)
    family = families.get(cfg)
    if family.measures != "samples":   # SRGAN's 7x7 images, CycleGAN's 28x28 ones, in [-1, 1]
        z = np.random.default_rng(0).uniform(-1, 1, (16, family.generator_input_dim(cfg))
                                             ).astype(np.float32)
    x = networks.unit_images(G, z, labels)
    assert x.shape == ((100 if cfg.conditional else 16), 784)
    assert 0 <= x.min() and x.max() <= 1 and x.std() > 0
    # G's raw output and the data D sees share one range: [0, 1] or [-1, 1].
    raw = G(z if labels is None else [z, networks.one_hot(labels)], training=False).numpy()
    real, y = build_trainer(cfg, mnist.train_images, mnist.train_labels).batch(0)
    low = -1.0 if cfg.g_output == "tanh" else 0.0
    assert real.numpy().min() == low and real.numpy().max() == 1.0
    assert low <= raw.min() and raw.max() <= 1.0
    assert (y is None) == (not cfg.conditional)


def test_dcgan_follows_the_dcgan_guidelines():
    import keras
    cfg = load_experiment("mnist-dcgan-10-epochs")
    G, D = families.build_generator(cfg), families.build_discriminator(cfg)
    kinds = lambda m, t: [l for l in m.layers if isinstance(l, t)]  # noqa: E731
    pooling = (keras.layers.MaxPooling2D, keras.layers.AveragePooling2D)
    # D: strided convolutions, LeakyReLU, batch norm except on the input layer,
    # no pooling, one dense layer (the output logit).
    convs = kinds(D, keras.layers.Conv2D)
    assert len(convs) == 2 and all(c.strides == (2, 2) for c in convs)
    assert [l.name for l in kinds(D, keras.layers.BatchNormalization)] == ["conv2_bn"]
    assert len(kinds(D, keras.layers.LeakyReLU)) == 2 and not kinds(D, pooling)
    assert [l.name for l in kinds(D, keras.layers.Dense)] == ["out"]
    # G: the projection of z is its one dense layer, then strided transposed
    # convolutions, batch norm and ReLU, and a tanh output.
    deconvs = kinds(G, keras.layers.Conv2DTranspose)
    assert len(deconvs) == 2 and all(c.strides == (2, 2) for c in deconvs)
    assert [l.name for l in kinds(G, keras.layers.Dense)] == ["project"]
    assert len(kinds(G, keras.layers.BatchNormalization)) == 2
    assert len(kinds(G, keras.layers.ReLU)) == 2 and not kinds(G, pooling)
    assert G.layers[-1].activation.__name__ == "tanh"
    assert G.output.shape[1:] == (784,) and D.output.shape[1:] == (1,)
    # N(0, 0.02) weights, the DCGAN paper's.
    w = G.get_layer("deconv1").kernel.numpy()
    assert w.std() == pytest.approx(0.02, rel=0.02) and abs(w.mean()) < 1e-3


def test_dcgan_batch_norm_trains_its_statistics_and_samples_use_them(mnist):
    cfg = override(load_experiment("mnist-dcgan-10-epochs"), {"conv_width": 8})
    trainer = build_trainer(cfg, mnist.train_images)
    G, bn = trainer.G, trainer.D.get_layer("conv2_bn")
    assert not bn.moving_mean.numpy().any()
    trainer.chunk(3)
    assert bn.moving_mean.numpy().any()      # updated by training=True calls
    z = np.random.default_rng(0).uniform(-1, 1, (8, cfg.z_dim)).astype(np.float32)
    # Samples (training=False) use the moving statistics: no dependence on the batch.
    alone = networks.unit_images(G, z[:1])
    np.testing.assert_allclose(alone, networks.unit_images(G, z)[:1], atol=1e-5)


def test_cgan_batches_carry_the_labels_of_their_own_images():
    images = np.repeat(np.arange(50, dtype=np.uint8)[:, None], 784, axis=1)  # image i = i
    labels = (np.arange(50) * 7) % 10
    cfg = override(Config(), dict(conditional=True, batch_size=16, xla=False))
    trainer = build_trainer(cfg, images, labels)
    for b in range(8):   # crosses epoch boundaries
        x, y = trainer.batch(b)
        index = np.round(x.numpy()[:, 0] * 255).astype(int)
        assert np.array_equal(y.numpy().argmax(1), labels[index])
        assert np.array_equal(y.numpy().sum(1), np.ones(16))
    with pytest.raises(ValueError, match="one label per training image"):
        build_trainer(cfg, images)


@pytest.mark.slow
def test_cgan_learns_to_draw_the_digit_it_is_asked_for(mnist):
    """Label conditioning measurably works: after 10,000 iterations (~15 s) the
    classifier reads most samples as the digit they were conditioned on (measured:
    77% overall, every digit at 55% or more; chance is 10%, and an untrained or
    label-blind G stays near it)."""
    from gan_tf.evaluation.classifier import load_classifier, predict
    from gan_tf.evaluation.evaluate import label_accuracy
    cfg = override(load_experiment("mnist-cgan"), {"iters": 10_000})
    trainer = build_trainer(cfg, mnist.train_images, mnist.train_labels)
    G = trainer.G
    z = np.random.default_rng(1).uniform(-1, 1, (1000, cfg.z_dim)).astype(np.float32)
    labels = np.arange(1000) % 10
    classifier = load_classifier()

    def accuracy():
        return label_accuracy(predict(classifier, networks.unit_images(G, z, labels))[0],
                              labels)
    before = accuracy()
    for _ in range(10):
        trainer.chunk(1000)
    after = accuracy()
    assert before["label_accuracy"] < 0.2
    assert after["label_accuracy"] > 0.6 and after["label_accuracy_min"] > 0.35, after


@pytest.mark.slow
def test_fashion_mnist_trains_into_its_own_folder(fashion_dir, tmp_path):
    from gan_tf.data.datasets import load_dataset
    assert default_run_dir("mnist-dcgan", "fashion_mnist") == \
        "outputs/mnist-dcgan-fashion-mnist"
    assert default_run_dir(None, "fashion_mnist") == "outputs/vanilla-fashion-mnist"
    assert default_run_dir(None, None) == "outputs"
    data = load_dataset("fashion_mnist", fashion_dir)
    cfg = run_briefly("mnist-cgan", data, tmp_path / "run", dataset="fashion_mnist")
    saved = Config.from_json((tmp_path / "run" / "config.json").read_text())
    assert saved == cfg and saved.dataset == "fashion_mnist"
