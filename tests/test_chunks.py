"""The loop's chunks (issue 48 item 4): a GPU's fixed-length programs (trip count
known to XLA, epoch orders computed once a chunk, no conditional) train as the CPU's
one program does; a chunk spans several logging windows and is fetched once; the
log does not depend on how the iterations were chunked."""

import re
import sys
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

from conftest import QUIET, TINY
from gan_tf import families
from gan_tf.core.config import Config, override
from gan_tf.runs.folder import RunFolder
from gan_tf.training import run as train_lib
from gan_tf.training.loop import WINDOWS_PER_CHUNK, Driver

sys.path.insert(0, str(Path(__file__).parent))
from family_contract import SMALL  # noqa: E402  (each family at its smallest)

# Conv families off XLA reproduce bit for bit only with the thread pools set before
# TensorFlow starts (tests/family_contract.py), which this process did not do, and
# two XLA programs (the CPU's, a GPU's) may fuse and round differently; a wrong batch
# moves the weights by far more than this.
CONV_RTOL = 1e-4


def build(cfg, images, labels, fixed):
    return Driver(families.get(cfg).build(cfg, images, labels), cfg, fixed_length=fixed)


def state(driver) -> dict:
    return {k: v.numpy() for k, v in driver.state().items()}


def assert_same_training(a, b, exact):
    sa, sb = state(a), state(b)
    assert sa.keys() == sb.keys()
    for k in sa:
        if exact:
            np.testing.assert_array_equal(sa[k], sb[k], err_msg=k)
        else:
            np.testing.assert_allclose(sa[k], sb[k], rtol=CONV_RTOL, atol=1e-6, err_msg=k)


def small_config(family) -> Config:
    # CycleGAN's smallest decays its rate within 4 iterations; here over the 40.
    decay = {"decay_start": 20, "decay_iters": 20} if family == "cyclegan" else {}
    return override(Config(), {"family": family, "batch_size": 16, "iters": 40,
                               **SMALL.get(family, {}), **decay})


def _family_cases():
    fast = {"mlp", "wgan"}   # the tutorial's loop and k = 2 D steps a step
    return [f if f in fast else pytest.param(f, marks=pytest.mark.slow)
            for f in sorted(families.FAMILIES)]


@pytest.mark.parametrize("family", _family_cases())
def test_fixed_length_programs_train_every_family_as_the_one_program(family, mnist):
    """40 iterations over 1.25 epochs of 512 images (and k D steps a step where the
    family takes them). A GPU's fixed-length programs, each reading the epoch orders
    computed at its start, in chunks of 7, 1 and 32 train bit for bit as one chunk
    of 40 (where XLA compiles them); and as the CPU's one program, up to the last
    bits (another program, another fusion): the same batches, the same training."""
    cfg = small_config(family)
    images, labels = mnist.train_images[:512], mnist.train_labels[:512]
    cpu, one = build(cfg, images, labels, False), build(cfg, images, labels, True)
    gpu = build(cfg, images, labels, True)
    out, whole = cpu.chunk(40), one.chunk(40)
    sums = None
    for n in (7, 1, 32):
        sums = gpu.chunk(n, sums)["sums"]
    assert sorted(gpu._programs) == [1, 7, 32] and list(cpu._programs) == [None]
    assert int(gpu.iteration.numpy()) == 40
    assert_same_training(one, gpu, exact=cfg.xla)
    assert_same_training(cpu, gpu, exact=False)
    for k in out["sums"]:
        assert sums[k] == (whole["sums"][k] if cfg.xla else
                           pytest.approx(whole["sums"][k], rel=CONV_RTOL, abs=1e-6)), k
        assert sums[k] == pytest.approx(out["sums"][k], rel=CONV_RTOL, abs=1e-6), k


def test_fixed_length_seed_stack_trains_as_the_one_program(mnist):
    """The stack of seeds reads one epoch order per seed: computed once a chunk too."""
    from gan_tf.training.stack import SeedSteps
    cfg = override(Config(), {"batch_size": 16, "d_hidden": (8,), "g_hidden": (8,)})
    images = mnist.train_images[:512]
    a = Driver(SeedSteps(cfg, [0, 1], images), cfg, fixed_length=False)
    b = Driver(SeedSteps(cfg, [0, 1], images), cfg, fixed_length=True)
    a.chunk(40)
    b.chunk(9)
    b.chunk(31)
    for x, y in zip(a.G.weights + a.D.weights + a.d_opt.variables + a.g_opt.variables,
                    b.G.weights + b.D.weights + b.d_opt.variables + b.g_opt.variables):
        np.testing.assert_array_equal(x.numpy(), y.numpy())


def test_fixed_length_semi_supervised_reads_its_three_orders_once(mnist):
    """The semi-supervised step reads three DeviceData (the labelled set, whose epoch
    is one batch, and two orders of the unlabelled images)."""
    from gan_tf.core.experiments import load_experiment
    cfg = override(load_experiment("mnist-semi-supervised"),
                   {"d_hidden": (16, 8), "g_hidden": (8,), "batch_size": 20,
                    "labels_per_class": 2, "eval_every": 0, "log_every": 1,
                    "snapshot_every": 1})
    images, labels = mnist.train_images[:200], mnist.train_labels[:200]
    cpu, one = build(cfg, images, labels, False), build(cfg, images, labels, True)
    gpu = build(cfg, images, labels, True)
    cpu.chunk(14)
    one.chunk(14)
    gpu.chunk(5)
    gpu.chunk(9)
    assert_same_training(one, gpu, exact=True)
    assert_same_training(cpu, gpu, exact=False)     # 1 ulp apart here


def _compiled(driver, fixed: bool, n: int) -> str:
    driver.chunk(n)
    sums = {k: tf.zeros(()) for k in driver.VALUES}
    args = (sums, tf.constant(0, tf.int64), tf.constant(100, tf.int64))
    if not fixed:
        args = (tf.constant(n, tf.int64),) + args
    program = driver._programs[n if fixed else None]
    return program.experimental_get_compiler_ir(*args)(stage="optimized_hlo")


def test_the_gpu_program_knows_its_trip_count_and_branches_nowhere(mnist):
    """What the fixed-length program is for: XLA reads the loop's trip count (on a GPU
    a while-loop of unknown count, and a conditional, are decided on the host, a stop
    at every iteration). The CPU's program has the epoch cache's conditional and a
    trip count only known at run time; the GPU's has neither."""
    cfg = Config.of(xla=True, d_hidden=(16,), g_hidden=(16,))
    images = mnist.train_images[:512]
    gpu = _compiled(build(cfg, images, None, True), True, 5)
    cpu = _compiled(build(cfg, images, None, False), False, 5)
    assert re.search(r'known_trip_count":\{"n":"5"\}', gpu)
    assert " conditional(" not in gpu
    assert "known_trip_count" not in cpu and " conditional(" in cpu


def test_one_chunk_spanning_windows_sums_each_as_its_own_chunks(mnist):
    """A chunk of 25 iterations 3 into a window of 10 touches three windows (7, 10, 8
    iterations): each window's sums, and the first values of those that open inside
    it, are bit for bit those of chunks that stop at every window's end; all of it
    comes back as one array."""
    cfg = Config.of(xla=True, d_hidden=(16,), g_hidden=(16,))
    images = mnist.train_images[:512]
    a, b = build(cfg, images, None, False), build(cfg, images, None, False)
    out = a.chunk(25, None, window=10, phase=3)
    parts = [b.chunk(n) for n in (7, 10, 8)]
    assert len(out["windows"]) == 3 and out["opening"][0] is None
    for j, part in enumerate(parts):
        for k in a.VALUES:
            assert out["windows"][j][k] == part["sums"][k], (j, k)
            if j:
                assert out["opening"][j][k] == part["first"][k], (j, k)
    assert out["sums"] == out["windows"][-1]
    concrete = a._chunk.get_concrete_function()
    assert len(tf.nest.flatten(concrete.structured_outputs)) == 1
    with pytest.raises(ValueError, match="spans more than"):
        a.chunk(WINDOWS_PER_CHUNK * 10, window=10, phase=1)


def _run(mnist, path, monkeypatch, *, chunk_seconds=None, fixed=None):
    calls = []
    original = Driver.chunk

    def chunk(self, steps, sums=None, **kw):
        calls.append((steps, kw.get("phase", 0), kw.get("window")))
        return original(self, steps, sums, **kw)
    with monkeypatch.context() as m:
        m.setattr(Driver, "chunk", chunk)
        m.setattr(Driver, "FIXED_LENGTH", fixed)
        if chunk_seconds is not None:
            m.setattr(train_lib, "CHUNK_SECONDS", chunk_seconds)
        lines = []
        train_lib.train(TINY, path, data=mnist, log=lines.append)
    log = [{k: v for k, v in r.items() if k != "elapsed_s"}
           for r in RunFolder(path).read_stats()]
    return log, [l for l in lines if l.startswith("Iter:")], calls


def test_the_log_does_not_depend_on_how_a_run_was_chunked(mnist, tmp_path, monkeypatch):
    """TINY (40 iterations, windows of 10, snapshots every 20) in chunks of one
    iteration, in chunks that span windows up to the snapshot grid, and in a GPU's
    fixed-length chunks: the same stats records and 'Iter:' lines, the same final
    weights; the fixed-length run compiles three programs (the first, timed
    chunks' of one iteration, the one that reaches the run's grid, the run's
    length)."""
    one, one_lines, one_calls = _run(mnist, tmp_path / "one", monkeypatch, chunk_seconds=0.0)
    wide, wide_lines, wide_calls = _run(mnist, tmp_path / "wide", monkeypatch,
                                        chunk_seconds=1e9)
    fixed, fixed_lines, fixed_calls = _run(mnist, tmp_path / "fixed", monkeypatch,
                                           chunk_seconds=1e9, fixed=True)
    assert {n for n, _, _ in one_calls} == {1}
    assert any(phase + n > window for n, phase, window in wide_calls)   # spans windows
    assert max(n for n, _, _ in wide_calls) == 20                       # the snapshot grid
    assert [n for n, _, _ in fixed_calls] == [1, 1, 18, 20]
    assert one == wide == fixed and len(one) == 4
    assert one_lines == wide_lines == fixed_lines and len(one_lines) == 2
    ca, cb, cc = (RunFolder(tmp_path / r).read_checkpoint() for r in ("one", "wide", "fixed"))
    for k in ca:
        np.testing.assert_array_equal(ca[k], cb[k])
        np.testing.assert_array_equal(ca[k], cc[k])


def test_chunk_sizes_stop_on_every_grid():
    """Chunks end on the snapshot and measuring grids and the last iteration, within
    WINDOWS_PER_CHUNK windows; a fixed length divides the grids' spacing."""
    cfg = Config.of(iters=1050, snapshot_every=200, log_every=10, eval_every=300)
    sizes = train_lib.ChunkSizes(cfg, track=True)
    assert sizes.spacing == 100
    assert sizes.next(0, 10 ** 6, False) == 200
    assert sizes.next(200, 10 ** 6, False) == 100        # eval at 300
    assert sizes.next(1000, 10 ** 6, False) == 50        # the last iteration
    assert sizes.next(5, 7, False) == 7                  # the timed limit
    untracked = train_lib.ChunkSizes(cfg, track=False)
    assert untracked.next(200, 10 ** 6, False) == 200    # nothing measured at 300
    wide = train_lib.ChunkSizes(Config.of(iters=10 ** 6, snapshot_every=10 ** 5,
                                          log_every=10), track=False)
    assert wide.next(3, 10 ** 9, False) == WINDOWS_PER_CHUNK * 10 - 3
    assert sizes.next(0, 10 ** 6, True) == 1             # untimed: one iteration
    sizes.adapt(1, 0.5 / 30)                             # 30 iterations take 0.5 s
    assert sizes.length == 25                            # the largest divisor of 100
    assert sizes.next(0, 30, True) == 25 and sizes.next(3, 30, True) == 197
    assert train_lib.divisors(100) == [1, 2, 4, 5, 10, 20, 25, 50, 100]
    # Under a strategy the workers run the same chunks, chosen untimed.
    strategy = train_lib.ChunkSizes(cfg, track=True)
    strategy.choose(cfg.log_every)
    assert strategy.length == 10 and strategy.next(0, 10, True) == 10
