"""The WGAN paper's claim measured on trained runs (studies/reports/wasserstein_curves.py):
the rank correlation and the pairing of the loss with the quality curve, on run
folders written by hand."""

import json

import numpy as np
import pytest

from gan_tf.core.config import Config
from gan_tf.core.errors import UserError
from gan_tf.studies.reports import wasserstein_curves as wc


def test_spearman_against_hand_computed_values():
    assert wc.spearman([1, 2, 3, 4], [10, 20, 30, 40]) == pytest.approx(1.0)
    assert wc.spearman([1, 2, 3, 4], [4, 3, 2, 1]) == pytest.approx(-1.0)
    # ranks (1, 2, 3, 4) against (2, 1, 4, 3): 1 - 6 * (1 + 1 + 1 + 1) / (4 * 15) = 0.6
    assert wc.spearman([1, 2, 3, 4], [5, 1, 9, 7]) == pytest.approx(0.6)
    assert wc.ranks([3.0, 1.0, 3.0]) == [2.5, 1.0, 2.5]           # ties share their mean
    assert np.isnan(wc.spearman([1, 1, 1], [1, 2, 3]))
    with pytest.raises(ValueError):
        wc.spearman([1, 2], [1, 2])


def _run(folder, family, rows):
    """A run folder with config.json and stats.jsonl: rows of (iter, d_real, d_fake,
    d_loss, fd or None)."""
    folder.mkdir(parents=True)
    (folder / "config.json").write_text(Config.of(family=family).to_json())
    with open(folder / "stats.jsonl", "w") as f:
        for it, real, fake, loss, fd in rows:
            rec = {"iter": it, "d_loss": loss, "d_real": real, "d_fake": fake,
                   "g_loss": 0.0, "g_grad_norm": 1.0}
            if fd is not None:
                rec["quality_fd"] = fd
            f.write(json.dumps(rec) + "\n")


def test_the_critics_estimate_and_a_gans_d_loss_are_paired_with_the_quality_curve(tmp_path,
                                                                                  capsys):
    # A critic whose estimate falls with the distance (two log records per point: the
    # point's estimate is their mean), and a GAN whose D loss does the opposite.
    critic_rows, gan_rows = [], []
    for k, fd in enumerate([90.0, 50.0, 30.0, 20.0]):
        w = 4.0 - k
        critic_rows += [(10 * k + 5, w + 1.0, 0.0, 0.0, None), (10 * k + 10, w - 1.0, 0.0, 0.0, fd)]
        gan_rows += [(10 * k + 10, 0.5, 0.5, 0.1 * k, fd)]
    _run(tmp_path / "critic", "wgan", critic_rows)
    _run(tmp_path / "gan", "mlp", gan_rows)
    table = wc.study([tmp_path / "critic", tmp_path / "gan"], tmp_path / "out")
    critic, gan = table[str(tmp_path / "critic")], table[str(tmp_path / "gan")]
    assert critic["critic"] and not gan["critic"]
    assert critic["curves"]["0"] == {"iter": [10, 20, 30, 40], "fd": [90.0, 50.0, 30.0, 20.0],
                                     "loss": [4.0, 3.0, 2.0, 1.0]}
    assert critic["spearman_mean"] == pytest.approx(1.0)
    assert gan["spearman_mean"] == pytest.approx(-1.0)
    assert (tmp_path / "out" / "curves.png").stat().st_size > 1000
    assert json.loads((tmp_path / "out" / "curves.json").read_text())[str(tmp_path / "gan")][
        "spearman"] == {"0": pytest.approx(-1.0)}
    assert "Wasserstein estimate" in capsys.readouterr().out


def test_a_run_without_a_quality_curve_is_refused_with_the_fix(tmp_path):
    _run(tmp_path / "plain", "wgan", [(10, 1.0, 0.0, -1.0, None), (20, 1.0, 0.0, -1.0, None)])
    with pytest.raises(UserError, match="fewer than 3: train it with --eval-every"):
        wc.study([tmp_path / "plain"], tmp_path / "out")
    with pytest.raises(UserError, match="not a trained run"):
        wc.study([tmp_path / "missing"], tmp_path / "out")
    # A semi-supervised run's eval_every curve is its test errors, not sample quality.
    _run(tmp_path / "ssl", "semi_supervised", [(10, 1.0, 0.0, -1.0, None)] * 3)
    with pytest.raises(UserError, match="'semi_supervised' run, whose quality is not its "
                                        "samples'"):
        wc.study([tmp_path / "ssl"], tmp_path / "out")


@pytest.mark.parametrize("study", ["wasserstein_curves", "semi_supervised_table"])
def test_a_study_folder_in_use_is_refused_naming_out(tmp_path, study):
    """Two studies into one --out: the second is refused in one line that names the
    holder and the flag that chooses another folder, and writes nothing."""
    from gan_tf.runs.files import FolderLock
    from gan_tf.studies.reports import semi_supervised_table as ssl
    if study == "wasserstein_curves":
        _run(tmp_path / "run", "wgan", [(10 * i, 1.0, 0.0, -1.0, 5.0 - i) for i in (1, 2, 3)])
        work = wc.study
    else:
        folder = tmp_path / "run"
        folder.mkdir()
        (folder / "config.json").write_text(Config.of(family="semi_supervised",
                                                      split="all").to_json())
        (folder / "stats.jsonl").write_text("".join(
            json.dumps({"iter": i * 600, "d_loss": 1.0, "g_loss": 2.0, "test_errors": 900 - i,
                        "d_test_errors": 800 - i, "elapsed_s": 60.0 * i}) + "\n"
            for i in (1, 2)))
        work = ssl.study
    out = tmp_path / "out"
    out.mkdir()
    held = FolderLock(out)
    held.acquire("study folder")
    try:
        with pytest.raises(UserError, match=r"is in use: another process \(pid \d+\) is "
                                            r"writing this study folder; wait for it to "
                                            r"finish, stop it, or choose another --out"):
            work([tmp_path / "run"], out)
    finally:
        held.release()
    assert sorted(p.name for p in out.iterdir() if p.name != ".lock") == []
    work([tmp_path / "run"], out)          # free again: written
    assert (out / "curves.png").is_file()


def test_the_table_sums_training_time_over_resumes():
    """elapsed_s counts from each start or resume: the run's time is the sum of each
    stretch's last value (20 s, then 15 s after a resume), not the last record's."""
    from gan_tf.studies.reports import semi_supervised_table as ssl
    records = [{"elapsed_s": t} for t in (10.0, 20.0, 5.0, 15.0)]
    assert ssl.training_seconds(records) == 35.0
    assert ssl.training_seconds([{"iter": 1}]) == 0.0
