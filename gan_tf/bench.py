"""`python -m gan_tf.bench`: parses its flags and calls studies/benchmarks/bench.py,
whose docstring is this command's --help."""

from __future__ import annotations

import argparse
import sys

from gan_tf.core import cli
from gan_tf.runs.outputs import BENCH, study_dir


def main(argv=None) -> int:
    p = cli.Parser("gan_tf.bench", library="gan_tf.studies.benchmarks.bench")
    p.add_argument("--repeats", type=cli.count(1, 100), default=3, help="repeats of each (default 3)")
    p.add_argument("--iters", type=cli.count(1, 10**7), default=5000,
                   help="iterations per (a) measurement (default 5000)")
    p.add_argument("--baseline-iters", type=cli.count(1, 10**7), default=1000,
                   help="iterations per (b) and (c) measurement (default 1000)")
    p.add_argument("--data-dir", help="folder with the four MNIST IDX .gz files")
    p.add_argument("--out", default=study_dir(BENCH), help="folder for bench.json")
    p.add_argument("--docs", help="also put the report into its section of this docs "
                   "folder's pages (docs/speed.md, docs/sweeps.md)")
    p.add_argument("--seeds", type=cli.count(1, 64), help="instead: N seeds of mnist-basic as one "
                   "stack against N runs one after another (make bench-sweep: 8)")
    p.add_argument("--dcgan", action="store_true", help="instead: the DCGAN in float32 "
                   "and bfloat16 against PyTorch eager and TensorFlow's DCGAN tutorial "
                   "(make bench-dcgan; --iters / 100 iterations per measurement)")
    p.add_argument("--profile", action="store_true", help="instead: where mnist-dcgan's "
                   "iteration spends its time, op by op, in float32 and bfloat16, and its "
                   "loop with and without XLA (make profile-dcgan; --iters / 250 "
                   "iterations per profile)")
    p.add_argument("--worker", help=argparse.SUPPRESS)   # internal: one measurement
    p.add_argument("--loss", default="log", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    return cli.run(lambda: _work(args))


def _work(args):
    # lazy (each): imported after parsing, so --help answers without TensorFlow
    if args.profile or (args.worker or "").startswith("profile:"):
        from gan_tf.studies.benchmarks import profile_dcgan
        if args.worker:
            return print(profile_dcgan.worker(args.worker.split(":", 1)[1], args.iters,
                                              args.data_dir))
        return profile_dcgan.bench(max(4, args.iters // 250), args.data_dir, args.out,
                                   args.docs)
    if args.dcgan or (args.worker or "").startswith("dcgan:"):
        from gan_tf.studies.benchmarks.bench_dcgan import bench as bench_dcgan
        worker = args.worker.split(":", 1)[1] if args.worker else None
        # --iters is the MLP's scale; the DCGAN runs about 100x fewer per measurement.
        iters = args.iters if worker else max(10, args.iters // 100)
        return bench_dcgan(args.repeats, iters, args.data_dir, args.out, args.docs, worker)
    from gan_tf.studies.benchmarks.bench import bench
    return bench(args.repeats, args.iters, args.baseline_iters, args.data_dir, args.out,
                 args.docs, args.seeds, args.worker, args.loss)


if __name__ == "__main__":
    sys.exit(main())
