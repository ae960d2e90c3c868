"""A saved generator's model card: what NAME.json says about NAME.keras, so that it
can be used without the run that made it.

    "card": {"family": "dcgan", "dataset": "mnist", "split": "tutorial",
             "iterations": 6880, "precision": "mixed_bfloat16",
             "inputs": [{"name": "z", "shape": [100], "distribution": "uniform(-1, 1)"}],
             (a VAE's decoder: "z_normal", normal(0, 1); see INPUTS)
             "output": {"shape": [784], "range": [-1.0, 1.0], "image_shape": [28, 28, 1]},
             "measures": "samples", "loads_with": "keras",
             "command": "python -m gan_tf.train --family dcgan ..."}

`make_card` writes it from the config and the model being saved; `check_card` holds
a loaded model against it (sample and export refuse a file whose shapes disagree).
"""

from __future__ import annotations

from gan_tf.core.errors import UserError

IMAGE_SHAPE = (28, 28, 1)

# What each input of a saved model takes, by its name.
INPUTS = {
    "z": "uniform(-1, 1), independent per value",
    # a G whose erfinv front portable() dropped (the VAE's decoder, --noise gaussian)
    "z_normal": "normal(0, 1), independent per value; gan-tf feeds sqrt(2) erfinv(u) of "
                "its uniform(-1, 1) u, u clipped to [-1 + 1e-6, 1 - 1e-6]",
    "label": "one-hot digit (10 values)",
    "lr": "a 7x7 image (bicubic 4x downscale), flattened, in G's output range",
    "x": "a 28x28 image, flattened, in G's output range",
}


def output_range(model) -> list[float]:
    """[-1, 1] for a tanh output, [0, 1] for a sigmoid one (read from the model)."""
    act = getattr(model.layers[-1], "activation", None)
    return [-1.0, 1.0] if getattr(act, "__name__", "") == "tanh" else [0.0, 1.0]


def command_of(cfg) -> str:
    """The train command of cfg: its family and every option that differs from that
    family's defaults (the run's own config.json holds every value)."""
    from gan_tf.core.config import Config, flat_values
    base = flat_values(Config.of(family=cfg.family))
    flags = []
    for name, value in flat_values(cfg).items():
        if name != "family" and value != base.get(name):
            flag = "--" + name.replace("_", "-")
            if value is True or value is False:
                flags.append(flag if value else "--no-" + flag[2:])
            else:
                value = ",".join(map(str, value)) if isinstance(value, (list, tuple)) else value
                flags.append(f"{flag} {value}")
    return " ".join(["python -m gan_tf.train --family", cfg.family, *flags])


# A classifier (the semi-supervised GAN's product) reads images and gives class logits.
CLASSIFIER_INPUT = "a 28x28 digit, flattened, pixels in [0, 1]"
LOGITS = "logits"


def make_card(cfg, model, iteration: int, measures: str, loads_with: str) -> dict:
    classifier = measures == "classifier"
    inputs = [{"name": t.name.split(":")[0], "shape": [int(d) for d in t.shape[1:]],
               "distribution": CLASSIFIER_INPUT if classifier else
               INPUTS.get(t.name.split(":")[0], "see the family")}
              for t in model.inputs]
    shape = [int(d) for d in model.outputs[0].shape[1:]]
    return {
        "family": cfg.family, "dataset": cfg.dataset, "split": cfg.split,
        "iterations": int(iteration), "precision": cfg.precision,
        "inputs": inputs,
        "output": ({"shape": shape, "range": LOGITS,
                    "meaning": "one logit per digit; the argmax is the class"}
                   if classifier else
                   {"shape": shape, "range": output_range(model),
                    "image_shape": list(IMAGE_SHAPE)}),
        "measures": measures, "loads_with": loads_with,
        "command": command_of(cfg),
    }


def shapes_problem(card: dict, model) -> str | None:
    """What in the model's shapes disagrees with its card, or None."""
    try:
        want_in = [tuple(i["shape"]) for i in card["inputs"]]
        want_out = tuple(card["output"]["shape"])
        want_range = card["output"]["range"]
        want_range = want_range if want_range == LOGITS else list(want_range)
    except (KeyError, TypeError):
        return "the card lacks inputs, output shape or range"
    have_in = [tuple(int(d) for d in t.shape[1:]) for t in model.inputs]
    have_out = tuple(int(d) for d in model.outputs[0].shape[1:])
    if want_in != have_in:
        return f"its inputs are {have_in}, the card says {want_in}"
    if want_out != have_out:
        return f"its output is {have_out}, the card says {want_out}"
    if want_range != LOGITS and want_range != output_range(model):
        return f"its output range is {output_range(model)}, the card says {want_range}"
    return None


def check_card(card: dict | None, model, path) -> None:
    """A one-line refusal if the card beside `path` disagrees with the model loaded
    from it (no card: nothing to hold it to)."""
    if card is None:
        return
    problem = shapes_problem(card, model)
    if problem:
        raise UserError(f"{path} does not match its model card ({problem}): the "
                        f".json beside it belongs to another generator; put the right one "
                        f"back or remove it")


def card_of(info: dict | None) -> dict | None:
    """The card inside a NAME.json's contents, if it has one."""
    card = (info or {}).get("card")
    return card if isinstance(card, dict) else None

