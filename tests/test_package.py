"""gan-tf as an installable package (issue 49, item 1): pyproject.toml pins what
requirements.txt pins and lists every package; its wheel, installed into a fresh
virtualenv outside the checkout (seeing the installed TensorFlow through a .pth, no
index), gives `gan-tf --help` and trains 20 iterations of an experiment from a folder
that is not the checkout."""

import os
import shutil
import subprocess
import sys
import sysconfig
import tomllib
from pathlib import Path

import pytest

from conftest import REPO

PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())


def _pins(path: Path) -> list[str]:
    return [line.strip() for line in path.read_text().splitlines()
            if line.strip() and not line.startswith(("#", "-r"))]


def test_the_dependencies_are_requirements_txt_s_pins():
    assert PYPROJECT["project"]["dependencies"] == _pins(REPO / "requirements.txt")
    assert PYPROJECT["project"]["optional-dependencies"]["test"] == \
        _pins(REPO / "requirements-test.txt")


def test_every_package_on_disk_is_in_the_wheel():
    on_disk = {".".join(p.parent.relative_to(REPO).parts)
               for p in (REPO / "gan_tf").rglob("__init__.py")}
    listed = set(PYPROJECT["tool"]["setuptools"]["packages"])
    assert on_disk | {"gan_tf.assets", "gan_tf.experiments"} == listed
    assert PYPROJECT["project"]["scripts"] == {"gan-tf": "gan_tf.__main__:main"}


def _run(args, cwd, env=None, timeout=600):
    r = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True,
                       text=True, timeout=timeout)
    assert r.returncode == 0, (args, r.stdout[-2000:], r.stderr[-3000:])
    return r


@pytest.mark.slow
def test_the_wheel_installs_and_trains_outside_the_checkout(tmp_path, mnist_dir):
    # the wheel, built from a copy (a build leaves build/ and *.egg-info beside the sources)
    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, src / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(REPO / "gan_tf", src / "gan_tf", ignore=ignore)
    shutil.copytree(REPO / "experiments", src / "experiments", ignore=ignore)
    _run([sys.executable, "-m", "pip", "wheel", ".", "--no-deps", "--no-build-isolation",
          "-w", tmp_path / "dist", "-q"], src)
    wheel, = (tmp_path / "dist").glob("gan_tf-*.whl")
    # a fresh virtualenv that sees this one's packages (TensorFlow...) through a .pth
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", venv], tmp_path)
    py = venv / "bin" / "python"
    site = Path(_run([py, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                     tmp_path).stdout.strip())
    (site / "tested_env.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    # --no-index: every pinned dependency must already be there, at its pin
    _run([py, "-m", "pip", "install", "--no-index", "-q", wheel], tmp_path)
    work = tmp_path / "work"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update(PATH=f"{venv / 'bin'}{os.pathsep}{env['PATH']}", TF_CPP_MIN_LOG_LEVEL="2")
    where = _run([py, "-c", "import gan_tf; print(gan_tf.__file__)"], work, env).stdout
    assert str(venv) in where and str(REPO) not in where
    listing = _run(["gan-tf", "--help"], work, env).stdout
    assert "train" in listing and "sample" in listing and "evaluate" in listing
    _run(["gan-tf", "train", "--experiment", "mnist-basic", "--iters", "20",
          "--snapshot-every", "10", "--log-every", "10", "--no-tensorboard",
          "--data-dir", mnist_dir, "--run-dir", "run"], work, env)
    assert (work / "run" / "generator.keras").is_file()
    _run(["gan-tf", "sample", "run", "--n", "16", "--out", "s.png"], work, env)
    assert (work / "s.png").is_file()
    assert sorted(p.name for p in work.iterdir()) == ["run", "s.png"]
