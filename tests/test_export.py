"""`gan-tf export` (issue 49, item 3): a SavedModel whose serving signature takes z
(and an integer label) and gives uint8 (batch, 28, 28, 1), and a TFLite file whose
interpreter gives the same images, both used in a subprocess where gan_tf cannot be
imported, for the MLP, DCGAN, conditional and SRGAN generators."""

import json

import numpy as np
import pytest

from conftest import one_line_error, training_generator
from gan_tf.core.config import Config, override
from plain_keras import run_plain

# InfoGAN: its codes as Discretization (TFLite's BUCKETIZE, ONE_HOT); the VAE's
# decoder: z_normal in, as its file takes it (TFLite has no erfinv).
KINDS = [("mlp", {}), ("dcgan", {}), ("dcgan", {"conditional": True}), ("srgan", {}),
         ("infogan", {}), ("vae", {})]


def _saved(tmp_path, name, family, **changes):
    from gan_tf.models.portable import portable
    from gan_tf.runs.card import make_card
    cfg = override(Config.of(family=family), changes)
    G = training_generator(cfg)
    rng = np.random.default_rng(1)     # off the init, so a dropped weight shows
    G.set_weights([w + rng.normal(0, 0.05, w.shape).astype(w.dtype)
                   if "variance" not in v.path else np.abs(w) + 0.5
                   for w, v in zip(G.get_weights(), G.weights)])
    G = portable(G)
    path = tmp_path / f"{name}.keras"
    G.save(path)
    path.with_suffix(".json").write_text(json.dumps(
        {"iteration": 1, "card": make_card(cfg, G, 1, "samples", "keras")}))
    return G, path


def _export(*args):
    from gan_tf.export import main
    return main([str(a) for a in args])


def test_exports_give_the_keras_generator_s_images_without_gan_tf(tmp_path):
    from gan_tf.evaluation.sampling import to_uint8
    from gan_tf.runs.card import output_range
    want, inputs = {}, {}
    for i, (family, changes) in enumerate(KINDS):
        G, path = _saved(tmp_path, f"g{i}", family, **changes)
        assert _export(path, "--format", "savedmodel", tmp_path / f"sm{i}") == 0
        assert _export(path, "--format", "tflite", tmp_path / f"t{i}.tflite") == 0
        rng = np.random.default_rng(i)
        name = G.inputs[0].name.split(":")[0]
        x = rng.uniform(-1, 1, (5, int(G.inputs[0].shape[-1]))).astype(np.float32)
        feed = {name: x}
        keras_in = x
        if changes.get("conditional"):
            feed["label"] = np.array([0, 3, 7, 9, 2], np.int32)
            keras_in = [x, np.eye(10, dtype=np.float32)[feed["label"]]]
        want[str(i)] = to_uint8(G(keras_in, training=False), output_range(G))
        inputs[str(i)] = feed
        np.savez(tmp_path / f"in{i}.npz", **feed)
        card = json.loads((tmp_path / f"sm{i}.json").read_text())["card"]
        assert card["format"] == "savedmodel" and card["family"] == family
    run_plain(f"""
import numpy as np, tensorflow as tf
for i in range({len(KINDS)}):
    feed = dict(np.load(f'in{{i}}.npz'))
    sig = tf.saved_model.load(f'sm{{i}}').signatures['serving_default']
    images = sig(**{{k: tf.constant(v) for k, v in feed.items()}})['images'].numpy()
    assert images.dtype == np.uint8 and images.shape == (5, 28, 28, 1), images.shape
    np.save(f'sm{{i}}.npy', images)
    it = tf.lite.Interpreter(model_path=f't{{i}}.tflite')
    for d in it.get_input_details():
        it.resize_tensor_input(d['index'], [5, *d['shape'][1:]])
    it.allocate_tensors()
    for d in it.get_input_details():
        key = next(k for k in feed if d['name'].split(':')[0].endswith(k))
        it.set_tensor(d['index'], feed[key].astype(d['dtype']))
    it.invoke()
    np.save(f'tfl{{i}}.npy', it.get_tensor(it.get_output_details()[0]['index']))
""", tmp_path)
    for i, kind in enumerate(KINDS):
        assert np.array_equal(np.load(tmp_path / f"sm{i}.npy"), want[str(i)]), kind
        tfl = np.load(tmp_path / f"tfl{i}.npy").astype(int)
        # TFLite's kernels sum in their own order: a pixel may round to the next level
        assert np.abs(tfl - want[str(i)]).max() <= 1, kind
        assert (tfl != want[str(i)]).mean() < 0.01, kind


@pytest.mark.parametrize("family", ["mlp", "vae"])
def test_sample_reads_an_export_as_it_reads_the_keras_file(tmp_path, family):
    """The VAE's export takes z_normal, as its file does: sample maps its uniform z
    through erfinv for both, the same images."""
    G, path = _saved(tmp_path, "g", family)
    assert _export(path, "--format", "savedmodel", tmp_path / "sm") == 0
    from gan_tf.sample import main
    assert main([str(path), "--n", "12", "--out", str(tmp_path / "k.npz")]) == 0
    assert main([str(tmp_path / "sm"), "--n", "12", "--out", str(tmp_path / "s.npz")]) == 0
    card = json.loads((tmp_path / "sm.json").read_text())["card"]
    assert card["inputs"][0]["name"] == ("z_normal" if family == "vae" else "z")
    assert np.array_equal(np.load(tmp_path / "k.npz")["images"],
                          np.load(tmp_path / "s.npz")["images"]), family


def test_export_refuses_a_disagreeing_card_and_an_existing_out(tmp_path, capsys):
    G, path = _saved(tmp_path, "g", "mlp")
    info = json.loads(path.with_suffix(".json").read_text())
    info["card"]["output"]["shape"] = [28, 28]
    path.with_suffix(".json").write_text(json.dumps(info))
    assert _export(path, "--format", "savedmodel", tmp_path / "sm") == 2
    one_line_error(capsys, "does not match its model card", "(784,)")
    assert not (tmp_path / "sm").exists() and not (tmp_path / "sm.json").exists()
    (tmp_path / "taken.tflite").write_bytes(b"mine")
    assert _export(path, "--format", "tflite", tmp_path / "taken.tflite") == 2
    one_line_error(capsys, "exists", "never replaces")
    assert (tmp_path / "taken.tflite").read_bytes() == b"mine"
