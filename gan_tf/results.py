"""`python -m gan_tf.results`: the README's Results table, made from metrics.json files.

Reads every `outputs/**/metrics.json` (or the run folders given), and rewrites the
part of README.md between the results markers. Never typed by hand: rerun it after
evaluating a run.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from gan_tf.errors import UserError
from gan_tf.runs import atomic_write_text

START, END = "<!-- results:start -->", "<!-- results:end -->"
HEADER = ("| run | iterations | MNIST score | Fréchet dist. | digits ≥1% | class KL "
          "| p>0.9 | Parzen (nats) |\n|---|---|---|---|---|---|---|---|")


def _row(name, iters, m) -> str:
    return (f"| {name} | {iters} | {m['mnist_score']:.2f} | {m['frechet_distance']:.2f} "
            f"| {m['modes_covered']} | {m['class_kl']:.3f} | {m['confident_share']:.3f} "
            f"| {m['parzen_ll']:.1f} ± {m['parzen_se']:.1f} |")


def table(metric_files: list[Path]) -> str:
    if not metric_files:
        raise UserError("no metrics.json found; run python -m gan_tf.evaluate RUN_DIR first")
    rows, real = [], None
    for path in sorted(metric_files):
        m = json.loads(path.read_text())
        cfg_path = path.parent / "config.json"
        iters = json.loads(cfg_path.read_text())["iters"] if cfg_path.exists() else "?"
        rows.append(_row(f"`{path.parent.name}`", iters, m["generated"]))
        real = m["real"]
    rows.append(_row("real MNIST (same pipeline)", "", real))
    rows.append("| GAN paper, Table 1 (Parzen only) | | | | | | | 225 ± 2 |")
    return HEADER + "\n" + "\n".join(rows)


def update_readme(readme: Path, text: str, start: str = START, end: str = END) -> None:
    """Replace what stands between the markers start and end in readme."""
    content = readme.read_text()
    if start not in content or end not in content:
        raise UserError(f"{readme} lacks the markers {start} ... {end}")
    head, rest = content.split(start, 1)
    tail = rest.split(end, 1)[1]
    atomic_write_text(readme, f"{head}{start}\n{text}\n{end}{tail}")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m gan_tf.results", description=__doc__)
    p.add_argument("runs", nargs="*", help="run folders (default: every outputs/**/"
                                           "metrics.json)")
    p.add_argument("--readme", default="README.md", help="file to update (default README.md)")
    p.add_argument("--print", action="store_true", help="print the table, change nothing")
    args = p.parse_args(argv)
    files = ([Path(r) / "metrics.json" for r in args.runs] if args.runs
             else list(Path("outputs").glob("**/metrics.json")))
    try:
        missing = [str(f) for f in files if not f.is_file()]
        if missing:
            raise UserError(f"no metrics.json in {', '.join(missing)}; evaluate first")
        text = table(files)
        if not args.print:
            update_readme(Path(args.readme), text)
    except UserError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
