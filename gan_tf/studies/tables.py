"""What the re-run paper tables (toys/pacgan_table.py, stacked_mnist_table.py) share:
the --runs list and their resumable results.json, read or refused as damaged."""

from __future__ import annotations

import json
from pathlib import Path

from gan_tf.core.errors import UserError


def parse_runs(text: str, choices) -> tuple[str, ...]:
    """--runs' comma-separated keys, each one of `choices`."""
    keys = tuple(k.strip() for k in text.split(",") if k.strip())
    bad = [k for k in keys if k not in choices]
    if bad or not keys:
        raise UserError(f"--runs: unknown {', '.join(bad) or 'empty list'}; choose from "
                        f"{', '.join(choices)}")
    return keys


def load_results(path: Path, protocol: str, run_ok=lambda run: True) -> dict:
    """A table's results.json ({"protocol", "runs": {key: run}}), or an empty one where
    there is none; damaged (not JSON, no runs, a run run_ok rejects) is refused."""
    if not path.exists():
        return {"protocol": protocol, "runs": {}}
    try:
        out = json.loads(path.read_text())
        assert isinstance(out.get("runs"), dict)
        assert all(run_ok(r) for r in out["runs"].values())
        return out
    except (ValueError, AssertionError, AttributeError, KeyError, TypeError):
        raise UserError(f"{path} is damaged (not the JSON this study writes); move it "
                        "away or pass another --run-dir") from None
