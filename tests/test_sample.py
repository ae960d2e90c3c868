"""`gan-tf sample` (issue 49, item 4) and the model card it reads (item 5): a run
folder, a .keras file or an exported SavedModel; a grid, one PNG per image or an npz;
the same seed the same images; a card that disagrees with its file refused in one
line, with nothing written."""

import json

import numpy as np
import pytest

from conftest import one_line_error, training_generator
from gan_tf.core.config import Config, override


def _saved(tmp_path, name="g", family="dcgan", **changes):
    """A tiny G of `family`, saved as gan-tf saves one: NAME.keras, NAME.json's card."""
    from gan_tf.models.portable import portable
    from gan_tf.runs.card import make_card
    cfg = override(Config.of(family=family), changes)
    G = portable(training_generator(cfg))
    path = tmp_path / f"{name}.keras"
    G.save(path)
    card = make_card(cfg, G, 7, "samples", "keras")
    path.with_suffix(".json").write_text(json.dumps({"iteration": 7, "card": card}))
    return G, path


def _main(*args):
    from gan_tf.sample import main
    return main([str(a) for a in args])


@pytest.fixture(scope="module")
def mlp(tmp_path_factory):
    return _saved(tmp_path_factory.mktemp("mlp"), family="mlp")


def test_the_same_seed_gives_the_same_images_in_every_form(tmp_path, mlp):
    from gan_tf.evaluation.sampling import draw_z, to_uint8
    from gan_tf.runs.pictures import read_image
    G, path = mlp
    for name in ("a.npz", "b.npz"):
        assert _main(path, "--n", 10, "--seed", 3, "--out", tmp_path / name) == 0
    a, b = np.load(tmp_path / "a.npz"), np.load(tmp_path / "b.npz")
    assert a["images"].shape == (10, 28, 28, 1) and a["images"].dtype == np.uint8
    assert np.array_equal(a["images"], b["images"]) and np.array_equal(a["z"], b["z"])
    # what a user's own code computes from the card: z from numpy's default generator
    z = draw_z(10, 3, 100)
    assert np.array_equal(a["z"], z)
    lo_hi = json.loads(path.with_suffix(".json").read_text())["card"]["output"]["range"]
    assert np.array_equal(a["images"], to_uint8(G(z, training=False), lo_hi))
    assert _main(path, "--n", 10, "--seed", 4, "--out", tmp_path / "c.npz") == 0
    assert not np.array_equal(np.load(tmp_path / "c.npz")["images"], a["images"])
    # one PNG per image, and the grid
    assert _main(path, "--n", 10, "--seed", 3, "--out", f"{tmp_path / 'each'}/") == 0
    files = sorted((tmp_path / "each").iterdir())
    assert [f.name for f in files] == [f"{i:03d}.png" for i in range(10)]
    assert np.array_equal(read_image(files[4]), a["images"][4, :, :, 0])
    assert _main(path, "--n", 64, "--out", tmp_path / "grid.png") == 0
    assert read_image(tmp_path / "grid.png").ndim >= 2


def test_a_run_folder_samples_its_generator(tmp_path, mlp):
    from gan_tf.runs.folder import RunFolder
    G, path = mlp
    run = tmp_path / "run"
    run.mkdir()
    (run / "generator.keras").write_bytes(path.read_bytes())
    card = json.loads(path.with_suffix(".json").read_text())["card"]
    RunFolder(run).write_generator_info(7, info={"card": card})
    assert _main(run, "--n", 5, "--out", tmp_path / "r.npz") == 0
    assert _main(path, "--n", 5, "--out", tmp_path / "f.npz") == 0
    assert np.array_equal(np.load(tmp_path / "r.npz")["images"],
                          np.load(tmp_path / "f.npz")["images"])


@pytest.mark.parametrize("family", ["infogan", "vae"])
def test_infogan_and_vae_files_sample_the_training_g_s_images(tmp_path, family):
    """The portable InfoGAN G (its codes as stock layers) and VAE decoder (z_normal in,
    its erfinv front dropped): `sample` of the file gives, for a seed, the training
    G's images of that seed's uniform z, and the card says what the file takes."""
    from gan_tf.evaluation.sampling import NORMAL_Z, draw_z, to_uint8
    from gan_tf.models import portable as portable_module
    from gan_tf.models.portable import portable
    from gan_tf.runs.card import make_card
    assert NORMAL_Z == portable_module.NORMAL_Z       # sampling's copy of the name
    cfg = Config.of(family=family)
    G = training_generator(cfg)
    rng = np.random.default_rng(2)      # off the init, so that each z gives its own image
    G.set_weights([w + rng.normal(0, 0.3, w.shape).astype(w.dtype) for w in G.get_weights()])
    P = portable(G)
    path = tmp_path / "g.keras"
    P.save(path)
    card = make_card(cfg, P, 7, "samples", "keras")
    path.with_suffix(".json").write_text(json.dumps({"iteration": 7, "card": card}))
    name, dist = card["inputs"][0]["name"], card["inputs"][0]["distribution"]
    assert (name, dist.split(",")[0]) == (("z_normal", "normal(0") if family == "vae"
                                          else ("z", "uniform(-1"))
    assert _main(path, "--n", 16, "--seed", 5, "--out", tmp_path / "s.npz") == 0
    got = np.load(tmp_path / "s.npz")
    z = draw_z(16, 5, cfg.z_dim)
    want = to_uint8(G(z, training=False), card["output"]["range"])
    assert np.array_equal(got["images"], want) and np.array_equal(got["z"], z)
    assert len({im.tobytes() for im in want}) == 16


def test_a_conditional_generator_draws_the_label_asked(tmp_path):
    from gan_tf.evaluation.sampling import draw_z, to_uint8
    G, path = _saved(tmp_path, family="mlp", conditional=True)
    assert _main(path, "--n", 6, "--label", 7, "--out", tmp_path / "s.npz") == 0
    got = np.load(tmp_path / "s.npz")
    z = draw_z(6, 0, 100)
    want = G([z, np.eye(10, dtype=np.float32)[[7] * 6]], training=False)
    card = json.loads(path.with_suffix(".json").read_text())["card"]
    assert np.array_equal(got["images"], to_uint8(want, card["output"]["range"]))
    assert list(got["labels"]) == [7] * 6


def test_a_card_that_disagrees_with_its_file_is_refused_in_one_line(tmp_path, capsys, mlp):
    G, path = mlp
    bad = tmp_path / "g.keras"
    bad.write_bytes(path.read_bytes())
    info = json.loads(path.with_suffix(".json").read_text())
    info["card"]["inputs"][0]["shape"] = [64]
    bad.with_suffix(".json").write_text(json.dumps(info))
    assert _main(bad, "--out", tmp_path / "s.npz") == 2
    one_line_error(capsys, str(bad), "does not match its model card", "(100,)", "(64,)")
    assert not (tmp_path / "s.npz").exists()


@pytest.mark.parametrize("args, words", [
    (["--label", "3"], ["is not conditional", "--label"]),
    (["--out", "samples.jpg"], ["--out", ".png", ".npz"]),
    (["--n", "0"], ["--n", "from 1 to 10,000"]),
])
def test_bad_input_is_one_line(tmp_path, capsys, mlp, args, words):
    _, path = mlp
    argv = [path, *args] if "--out" in args else [path, "--out", tmp_path / "s.npz", *args]
    try:
        code = _main(*argv)
    except SystemExit as e:          # a flag's own error: argparse exits
        code = e.code
    assert code == 2
    one_line_error(capsys, *words)
    assert list(tmp_path.iterdir()) == []


def test_a_generator_of_images_from_images_is_refused(tmp_path, capsys):
    _, path = _saved(tmp_path, family="srgan")
    assert _main(path, "--out", tmp_path / "s.npz") == 2
    one_line_error(capsys, "maps images", "gan_tf.evaluate")
