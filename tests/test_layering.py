"""The package layering (gan_tf/__init__.py): every import points from a higher layer to
a lower one or stays inside its layer, no modules import each other in a circle, no
module reaches for another module's private names, and the commands are thin.

The imports counted are all of them, the ones inside functions too (the commands and
the library import TensorFlow lazily, but a lazy import is still a dependency). Each
check is a function of a source tree, so the tests below also plant each kind of
violation in a copy of the package and see it caught, naming both modules.
"""

from __future__ import annotations

import ast
import shutil
from pathlib import Path

import pytest

from conftest import REPO

PACKAGE = REPO / "gan_tf"
# Lowest first; a module may import from its own layer and the ones before it.
LAYERS = ("core", "data", "models", "families", "runs", "training", "evaluation",
          "studies")
COMMANDS = len(LAYERS)   # the top-level modules and gan_tf/toys/: above every layer


def modules(root: Path) -> dict[str, Path]:
    """gan_tf.x.y -> its file, for every module under root (root's name is the package)."""
    out = {}
    for path in sorted(root.rglob("*.py")):
        parts = path.relative_to(root.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def layer(module: str) -> int:
    parts = module.split(".")
    if len(parts) > 1 and parts[1] in LAYERS:
        return LAYERS.index(parts[1])
    return COMMANDS


def imports(module: str, path: Path, known: dict) -> list[tuple[str, ast.AST]]:
    """(imported gan_tf module, node) for every import in the file. `from P import n`
    counts as importing module P.n where that is a module, else P."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(a.name, node) for a in node.names if a.name.split(".")[0] == "gan_tf"]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0 \
                and node.module.split(".")[0] == "gan_tf":
            for a in node.names:
                sub = f"{node.module}.{a.name}"
                found.append((sub if sub in known else node.module, node))
    return [(m, n) for m, n in found if m != module]


def graph(root: Path) -> dict[str, set[str]]:
    known = modules(root)
    return {m: {i for i, _ in imports(m, p, known)} for m, p in known.items()}


def upward_imports(root: Path) -> list[str]:
    return [f"{m} (layer {_name(layer(m))}) imports {i} (layer {_name(layer(i))}), a "
            f"higher layer" for m, deps in sorted(graph(root).items()) for i in sorted(deps)
            if layer(i) > layer(m)]


def _name(n: int) -> str:
    return LAYERS[n] if n < len(LAYERS) else "commands"


def circles(root: Path) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan)."""
    g = graph(root)
    index, low, stack, on, groups, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(g.get(v, ())):
            if w not in g:
                continue
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                groups.append(sorted(group))
    for v in sorted(g):
        if v not in index:
            visit(v)
    return groups


def private_uses(root: Path) -> list[str]:
    """`from gan_tf.x import _name` of a name (not a module), and `m._name` where m is
    a gan_tf module bound by an import, in any module other than the name's own."""
    known = modules(root)
    found = []
    for module, path in known.items():
        tree = ast.parse(path.read_text(), str(path))
        aliases = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0 \
                    and node.module.startswith("gan_tf"):
                for a in node.names:
                    sub = f"{node.module}.{a.name}"
                    if sub in known:
                        aliases[a.asname or a.name] = sub
                    elif a.name.startswith("_") and node.module != module:
                        found.append(f"{module} imports the private {a.name} of "
                                     f"{node.module}")
            elif isinstance(node, ast.Import):
                for a in node.names:
                    if a.name.startswith("gan_tf") and a.asname:
                        aliases[a.asname] = a.name
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) \
                    and node.value.id in aliases and node.attr.startswith("_") \
                    and not node.attr.startswith("__"):
                found.append(f"{module} uses the private {node.attr} of "
                             f"{aliases[node.value.id]}")
    return sorted(set(found))


def cross_family_imports(root: Path) -> list[str]:
    """A model family (a module of gan_tf/families/ other than the shared ones: the
    registry (the package), base, adversarial and the tutorial's GAN, mlp, whose
    networks the MLP families reuse) that imports another family: each variant is
    one file."""
    shared = {"gan_tf.families", "gan_tf.families.base", "gan_tf.families.adversarial",
              "gan_tf.families.mlp"}
    fams = {m for m in modules(root) if m.startswith("gan_tf.families.") and m not in shared}
    return [f"{m} imports the family {i}" for m, deps in sorted(graph(root).items())
            if m in fams for i in sorted(deps) if i in fams]


def cross_study_imports(root: Path) -> list[str]:
    """A study that imports a study module outside its own folder (or a folder above
    it): each replication's code is in one folder, and no study reaches into
    another's."""
    found = []
    for m, deps in sorted(graph(root).items()):
        if not m.startswith("gan_tf.studies."):
            continue
        home = m.rsplit(".", 1)[0] + "."
        for i in sorted(deps):
            if i.startswith("gan_tf.studies.") and not home.startswith(
                    i.rsplit(".", 1)[0] + "."):
                found.append(f"{m} imports {i}, a study in another folder")
    return found


def command_modules(root: Path) -> dict[str, Path]:
    return {m: p for m, p in modules(root).items()
            if layer(m) == COMMANDS and p.name not in ("__init__.py", "__main__.py")}


def fat_commands(root: Path) -> list[str]:
    """Command modules that do more than parse and hand over: each must parse with
    cli.Parser, call cli.run, and define no functions besides main and small
    argument-type helpers."""
    found = []
    for module, path in command_modules(root).items():
        tree = ast.parse(path.read_text(), str(path))
        calls = {ast.unparse(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
        for need in ("cli.Parser", "cli.run"):
            if need not in calls:
                found.append(f"{module} does not call {need}")
        for node in tree.body:
            if isinstance(node, ast.FunctionDef) and node.name not in ("main", "build_parser") \
                    and len(node.body) > 6:
                found.append(f"{module} defines {node.name}(), which belongs in the library")
            if isinstance(node, ast.ClassDef):
                found.append(f"{module} defines class {node.name}, which belongs in the "
                             f"library")
    return found


# --- the package as it is

def test_every_module_sits_in_a_layer_or_is_a_command():
    mods = modules(PACKAGE)
    assert len(mods) > 40
    stray = [m for m in mods if layer(m) == COMMANDS and m.count(".") > 1
             and not m.startswith("gan_tf.toys.")]
    assert stray == [], f"modules in a folder that is no layer: {stray}"
    assert {m.split(".")[1] for m in mods if m.count(".") >= 1} >= set(LAYERS)


def test_imports_point_down_the_layers():
    assert upward_imports(PACKAGE) == []


def test_no_import_circles():
    assert circles(PACKAGE) == []


def test_no_family_imports_another_family():
    assert len([m for m in modules(PACKAGE) if m.startswith("gan_tf.families.")]) >= 7
    assert cross_family_imports(PACKAGE) == []


def test_studies_are_by_kind_and_import_only_their_own_folder():
    mods = modules(PACKAGE)
    kinds = {m.split(".")[2] for m in mods if m.startswith("gan_tf.studies.")}
    assert kinds == {"reports", "benchmarks", "replications", "toys"}
    assert cross_study_imports(PACKAGE) == []


def test_a_command_runs_the_library_module_of_its_name():
    """`python -m gan_tf.X` that runs a study runs the study module named X (the
    stacked_mnist command once ran stacked_mnist_table, not stacked_mnist)."""
    g = graph(PACKAGE)
    for command in command_modules(PACKAGE):
        studies = {i for i in g[command] if i.startswith("gan_tf.studies.")}
        if studies:
            assert command.rsplit(".", 1)[1] in {i.rsplit(".", 1)[1] for i in studies}, \
                (command, studies)


def test_no_module_uses_another_modules_private_names():
    assert private_uses(PACKAGE) == []


def test_commands_only_parse_and_hand_over():
    commands = command_modules(PACKAGE)
    # The twenty commands the README and Makefile use, and nothing else at the top.
    assert sorted(commands) == sorted(
        f"gan_tf.{c}" for c in ("train", "evaluate", "sample", "export", "latent",
                                "vae_likelihood",
                                "gan_vs_vae", "paper", "dcgan", "results", "saturation",
                                "wasserstein_curves", "info_codes", "bench",
                                    "semi_supervised_table",
                                "classifier", "stacked_mnist", "toys.gaussian1d", "toys.xy_game",
                                "toys.mode_collapse", "toys.pacgan_table"))
    assert fat_commands(PACKAGE) == []


# --- each check catches what it is for, in a planted copy

@pytest.fixture
def copy(tmp_path) -> Path:
    root = tmp_path / "gan_tf"
    shutil.copytree(PACKAGE, root, ignore=shutil.ignore_patterns("__pycache__", "assets"))
    return root


def _plant(path: Path, line: str, inside_function: bool = False) -> None:
    text = path.read_text()
    if inside_function:
        text += f"\n\ndef _planted():\n    {line}\n"
    else:
        text += f"\n{line}\n"
    path.write_text(text)


def test_an_upward_import_is_caught_naming_both_modules(copy):
    _plant(copy / "models" / "losses.py", "from gan_tf.training.run import train",
           inside_function=True)
    found = upward_imports(copy)
    assert found == ["gan_tf.models.losses (layer models) imports gan_tf.training.run "
                     "(layer training), a higher layer"]


def test_a_library_importing_a_command_is_caught(copy):
    _plant(copy / "evaluation" / "results.py", "from gan_tf import train")
    assert any("gan_tf.evaluation.results" in f and "gan_tf.train (layer commands)" in f
               for f in upward_imports(copy))


def test_a_circle_inside_a_layer_is_caught(copy):
    # training.loop -> training.build -> training.loop (the old loop/VAE circle's shape)
    _plant(copy / "training" / "loop.py", "from gan_tf.training.build import build_trainer",
           inside_function=True)
    assert circles(PACKAGE) == []
    assert any({"gan_tf.training.build", "gan_tf.training.loop"} <= set(group)
               for group in circles(copy))


def test_a_private_name_from_another_module_is_caught(copy):
    _plant(copy / "models" / "vae.py", "from gan_tf.models.networks import _planted_helper",
           inside_function=True)
    _plant(copy / "training" / "sweep.py", "x = train_lib._planted", inside_function=True)
    found = private_uses(copy)
    assert "gan_tf.models.vae imports the private _planted_helper of gan_tf.models.networks" \
        in found
    assert "gan_tf.training.sweep uses the private _planted of gan_tf.training.run" in found


def test_a_command_with_logic_of_its_own_is_caught(copy):
    body = "\n".join(f"    x{i} = {i}" for i in range(8))
    (copy / "evaluate.py").write_text((copy / "evaluate.py").read_text()
                                      + f"\n\ndef measure_here():\n{body}\n")
    assert fat_commands(copy) == ["gan_tf.evaluate defines measure_here(), which belongs "
                                  "in the library"]


def test_a_family_importing_another_is_caught(copy):
    _plant(copy / "families" / "lsgan.py", "from gan_tf.families.dcgan import Params",
           inside_function=True)
    assert cross_family_imports(copy) == ["gan_tf.families.lsgan imports the family "
                                          "gan_tf.families.dcgan"]


def test_a_study_reaching_into_another_folder_is_caught(copy):
    _plant(copy / "studies" / "reports" / "dcgan.py",
           "from gan_tf.studies.replications.paper import paper_study", inside_function=True)
    assert cross_study_imports(copy) == ["gan_tf.studies.reports.dcgan imports "
                                         "gan_tf.studies.replications.paper, a study in "
                                         "another folder"]
