"""Run-folder plumbing and pictures: atomic files, refusal, stats, grids and GIFs."""

import json
import os

import imageio.v3 as iio
import numpy as np
import pytest

from gan_tf.core.errors import UserError
from gan_tf.runs import folder as runs
from gan_tf.runs import pictures as snapshots
from gan_tf.runs.folder import RunFolder
from gan_tf.runs.writer import StatsLog


def test_grid_png_has_the_tutorials_look(tmp_path):
    images = np.zeros((16, 784), np.float32)
    images[0] = 1.0                      # one white sample top-left, the rest black
    snapshots.save_grid(images, tmp_path / "000.png")
    png = iio.imread(tmp_path / "000.png")
    # 4x4 inches at 100 dpi, trimmed by bbox_inches='tight': close to 400 px square.
    assert 300 < png.shape[0] <= 400 and abs(png.shape[0] - png.shape[1]) <= 4
    gray = png[..., :3].mean(axis=-1)
    h, w = gray.shape
    assert gray[h // 8, w // 8] > 200     # inside the white sample
    assert gray[h // 2 + h // 8, w // 2 + w // 8] < 50   # a black sample
    assert [p.name for p in tmp_path.iterdir()] == ["000.png"]  # no temporary left


def test_gif_holds_every_frame_in_order(tmp_path):
    paths = []
    for k in range(3):
        images = np.full((16, 784), k / 2, np.float32)
        paths.append(tmp_path / f"{k:03d}.png")
        snapshots.save_grid(images, paths[-1])
    snapshots.write_gif(paths, tmp_path / "training.gif", fps=5)
    frames = iio.imread(tmp_path / "training.gif", index=None)
    assert frames.shape[0] == 3
    centre = [f[f.shape[0] // 8, f.shape[1] // 8, :3].mean() for f in frames]
    assert centre[0] < centre[1] < centre[2]


def test_loss_plot_is_written(tmp_path):
    recs = [{"iter": i, "d_loss": 1 / i, "g_loss": 2.0} for i in range(100, 1100, 100)]
    snapshots.plot_losses(recs, tmp_path / "losses.png")
    assert iio.imread(tmp_path / "losses.png").shape[:2] == (450, 800)


def test_new_run_refuses_an_existing_one_and_overwrite_spares_other_runs(tmp_path):
    RunFolder(tmp_path / "fresh").check_new(overwrite=False)     # nothing there: fine
    (tmp_path / "config.json").write_text("{}")
    (tmp_path / "frames").mkdir()
    (tmp_path / "frames" / "000.png").write_bytes(b"png")
    (tmp_path / "other-run").mkdir()
    (tmp_path / "other-run" / "config.json").write_text("{}")
    folder = RunFolder(tmp_path)
    with pytest.raises(UserError, match="already holds a run.*--resume.*--overwrite"):
        folder.check_new(overwrite=False)
    folder.check_new(overwrite=True)
    folder.clear()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["other-run"]
    assert (tmp_path / "other-run" / "config.json").exists()


def test_checkpoint_round_trip_and_atomic_replace(tmp_path):
    folder = RunFolder(tmp_path)
    folder.save_checkpoint({"iteration": np.int64(5), "G/out/kernel": np.ones((2, 3))})
    folder.save_checkpoint({"iteration": np.int64(7), "G/out/kernel": np.zeros((2, 3))})
    got = folder.read_checkpoint()
    assert got["iteration"] == 7 and not got["G/out/kernel"].any()
    assert sorted(os.listdir(tmp_path)) == [runs.CHECKPOINT]
    (tmp_path / runs.CHECKPOINT).write_bytes(b"garbage")
    with pytest.raises(UserError, match="unreadable"):
        folder.read_checkpoint()


def test_stats_survive_a_torn_last_line_and_truncate_for_resume(tmp_path):
    path = tmp_path / runs.STATS
    log = StatsLog(path)
    for i in (100, 200, 300):
        log.write({"iter": i, "d_loss": 0.5, "g_loss": 1.0})
    log.close()
    with open(path, "a") as f:
        f.write('{"iter": 400, "d_lo')      # what a kill -9 mid-write leaves
    folder = RunFolder(tmp_path)
    assert [r["iter"] for r in folder.read_stats()] == [100, 200, 300]
    folder.truncate_after(200, snapshot_every=100)
    assert [json.loads(l)["iter"] for l in path.read_text().splitlines()] == [100, 200]
