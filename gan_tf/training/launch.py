"""What `python -m gan_tf.train` asks for, decided: a new run, a resumed run, a seed
sweep or a resumed sweep. `launch()` returns the command's exit code.

    0    the run (every seed of a sweep) is complete
    1    the loss became NaN or Inf (a sweep: some seed's; the others went on)
    128 + N   stopped by signal N (130 Ctrl-C, 143 SIGTERM); continue with --resume
"""

from __future__ import annotations

from gan_tf.core.experiments import from_experiment
from gan_tf.core.errors import UserError
from gan_tf.runs.folder import check_mode
from gan_tf.runs.sweeps import is_sweep
from gan_tf.training import devices, run, sweep


def launch(experiment: str | None, changes: dict, run_dir, *, seeds: int | None = None,
           sequential: bool = False, resume: bool = False, overwrite: bool = False,
           data_dir=None, measure=None) -> int:
    """Train (or continue) what run_dir holds. `changes` are the Config fields the
    user set; `experiment` the experiments/NAME.py they start from; `measure` what
    measures the generator during training (see run.train)."""
    check_mode(resume, overwrite)
    changes = devices.default_xla(changes)
    if sequential and seeds is None:
        raise UserError("--sequential is for a seed sweep; add --seeds N")
    if seeds is not None or (resume and is_sweep(run_dir)):
        if resume:
            cfg, saved = sweep.resume_config(run_dir, changes)
            if seeds is not None and seeds != len(saved):
                raise UserError(f"{run_dir} is a sweep of {len(saved)} seeds, not {seeds}; "
                                f"leave out --seeds to resume it")
            seed_list = saved
        else:
            cfg = from_experiment(experiment, changes)
            seed_list = sweep.seeds_of(cfg, seeds)
        summary = sweep.train_sweep(cfg, seed_list, run_dir, resume=resume,
                                    overwrite=overwrite,
                                    sequential=True if sequential else None,
                                    data_dir=data_dir, measure=measure)
    else:
        cfg = (run.resume_config(run_dir, changes) if resume
               else from_experiment(experiment, changes))
        summary = run.train(cfg, run_dir, resume=resume, overwrite=overwrite,
                            data_dir=data_dir, measure=measure)
    if "signal" in summary:
        return 128 + summary["signal"]
    return 1 if summary.get("diverged") else 0   # a sweep's seed diverged: as a run would
