"""tf.distribute for every experiment: which strategy, which process writes, how a
global minibatch is split.

  default      no strategy: one device, the compiled (XLA) loop of gan_tf.training.loop.
  mirrored     tf.distribute.MirroredStrategy over all local GPUs, or the devices
               of `cfg.devices` (e.g. "/gpu:0,/gpu:1"), in one process.
  multiworker  tf.distribute.MultiWorkerMirroredStrategy across processes or
               machines, described by the standard TF_CONFIG environment variable.

The algorithm does not change with the strategy: every replica draws the same
*global* minibatch and z batch from the stateless random streams and takes its own
slice; each replica's loss is its slice's mean divided by the number of replicas,
and Keras' optimizer sums the replicas' gradients, so the update is the gradient of
the global batch's mean loss, as on one device.

Only the chief writes (config, frames, stats, checkpoints, pictures); the other
workers compute and write nothing. They read the chief's run folder when resuming,
so a multi-machine run needs a run folder on a shared file system.
"""

from __future__ import annotations

import os

import tensorflow as tf

from gan_tf.core.errors import UserError
from gan_tf.core.reading import parse_json


def tf_config() -> dict:
    text = os.environ.get("TF_CONFIG", "")
    if not text:
        return {}
    see = "see docs/distributed.md"
    conf = parse_json(text, "TF_CONFIG", see, holding=" with 'cluster' and 'task'")
    task, cluster = conf.get("task", {}), conf.get("cluster", {})
    if not isinstance(task, dict) or not isinstance(cluster, dict):
        raise UserError(f"TF_CONFIG's 'task' and 'cluster' must be objects; {see}")
    if not (type(task.get("index", 0)) is int and task.get("index", 0) >= 0) or \
            not isinstance(task.get("type", "worker"), str):
        raise UserError(f"TF_CONFIG's task needs a 'type' name and a non-negative integer "
                        f"'index', got {task}; {see}")
    if not all(isinstance(v, list) and all(isinstance(a, str) for a in v)
               for v in cluster.values()):
        raise UserError(f"TF_CONFIG's cluster maps each job to a list of 'host:port' "
                        f"addresses, got {cluster}; {see}")
    return conf


def is_chief(cfg) -> bool:
    """Does this process write the run's outputs? Known before TensorFlow starts: the
    'chief' task, or worker 0 of a cluster without one (TensorFlow's convention)."""
    if cfg.strategy != "multiworker":
        return True
    conf = tf_config()
    task = conf.get("task", {})
    kind, index = task.get("type"), int(task.get("index", 0))
    if kind == "chief":
        return True
    return kind == "worker" and index == 0 and "chief" not in conf.get("cluster", {})


def task_name() -> str:
    task = tf_config().get("task", {})
    return f"{task.get('type', 'worker')} {task.get('index', 0)}"


def make_strategy(cfg):
    """The tf.distribute strategy of cfg.strategy, or None for the default. Call it
    before any other TensorFlow work: MultiWorkerMirroredStrategy must configure
    TensorFlow's collectives at start-up."""
    if cfg.strategy == "default":
        if cfg.devices:
            raise UserError("--devices applies to --strategy mirrored only")
        return None
    if cfg.strategy == "mirrored":
        devices = [d.strip() for d in cfg.devices.split(",") if d.strip()] or None
        if devices:
            def short(name):   # "/job:localhost/.../device:CPU:0" or "/cpu:0" -> "cpu:0"
                return name.lower().split("device:")[-1].lstrip("/")
            known = {short(d.name) for d in tf.config.list_logical_devices()}
            missing = [d for d in devices if short(d) not in known]
            if missing:
                raise UserError(f"no such device(s) {', '.join(missing)}; this machine has "
                                f"{', '.join(sorted(known))}")
        return tf.distribute.MirroredStrategy(devices=devices)
    if cfg.devices:
        raise UserError("--devices applies to --strategy mirrored only; a multiworker "
                        "run uses each worker's GPUs, or its CPU")
    conf = tf_config()
    if not conf.get("cluster") or not conf.get("task"):
        raise UserError("--strategy multiworker needs the TF_CONFIG environment variable "
                        "with 'cluster' and 'task' (see docs/distributed.md)")
    return tf.distribute.MultiWorkerMirroredStrategy()


def replicas(strategy) -> int:
    return 1 if strategy is None else strategy.num_replicas_in_sync


def check_batch(cfg, strategy) -> None:
    n = replicas(strategy)
    if cfg.batch_size % n:
        raise UserError(f"batch_size {cfg.batch_size} does not split evenly over {n} "
                        f"replicas; choose a multiple of {n}")


def any_worker(strategy, flag: bool) -> bool:
    """True on every worker if `flag` is true on any: workers must stop together, or
    the others wait forever in their next all-reduce. One tiny collective per call."""
    if not isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
        return flag
    votes = strategy.run(lambda: tf.constant(1.0 if flag else 0.0))
    return float(strategy.reduce(tf.distribute.ReduceOp.SUM, votes, axis=None)) > 0
