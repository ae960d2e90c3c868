"""Running a saved model where gan_tf cannot be imported: a fresh Python, its working
folder a temporary one, the checkout off sys.path and `gan_tf` blocked in
sys.modules (so an installed copy cannot stand in either), asserting that
`import gan_tf` fails before it loads anything."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from conftest import REPO

BLOCK = f"""
import sys
sys.path[:] = [p for p in sys.path if p not in ('', {str(REPO)!r})]
sys.modules['gan_tf'] = None
try:
    import gan_tf
except ImportError:
    pass
else:
    raise SystemExit('gan_tf is importable')
"""


def plain_env(backend: str = "tensorflow") -> dict:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return {**env, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "3"}


def run_plain(script: str, cwd: Path, backend: str = "tensorflow", timeout: int = 300):
    """`script` after BLOCK in a subprocess; its CompletedProcess (checked)."""
    r = subprocess.run([sys.executable, "-c", BLOCK + script], cwd=cwd, env=plain_env(backend),
                       capture_output=True, text=True, timeout=timeout)
    assert r.returncode == 0, r.stderr[-3000:]
    return r


def plain_outputs_of(models: dict, tmp: Path, backend="tensorflow") -> dict:
    """{name: (model file, inputs)} -> {name: keras.saving.load_model(file)(inputs)},
    computed without gan_tf, all in one subprocess."""
    for name, (path, inputs) in models.items():
        np.savez(tmp / f"{name}.inputs.npz", *inputs)
    paths = {name: str(path) for name, (path, _) in models.items()}
    run_plain(f"""
import numpy as np, keras
for name, path in {paths!r}.items():
    m = keras.saving.load_model(path, compile=False)
    xs = list(np.load(name + '.inputs.npz').values())
    y = m(xs if len(xs) > 1 else xs[0], training=False)
    np.save(name + '.outputs.npy', np.asarray(keras.ops.convert_to_numpy(y), np.float32))
""", tmp, backend)
    return {name: np.load(tmp / f"{name}.outputs.npy") for name in models}


def plain_outputs(model_path: Path, inputs: list, tmp: Path, backend="tensorflow"):
    """keras.saving.load_model(model_path)(inputs) computed without gan_tf."""
    return plain_outputs_of({"model": (model_path, inputs)}, tmp, backend)["model"]
