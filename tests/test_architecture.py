"""The package's layout rules, checked on its source: no import cycles, no private names across modules.

The import graph is read from the source with `ast` (every `import` and `from ... import`, at module
level or inside functions, since a lazy import still couples two modules). A cycle is a set of modules
that import each other directly or indirectly; a package importing its own submodules is fine, a
submodule importing back its package's `__init__` is a cycle like any other.
"""

import ast
import pathlib

import pytest

PACKAGE = "cs109b_bayes"
ROOT = pathlib.Path(__file__).resolve().parent.parent / PACKAGE


def _module_name(path):
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules():
    return {_module_name(path): path for path in sorted(ROOT.rglob("*.py"))}


MODULES = _modules()


def _resolve(name, modules):
    """The module `name` refers to: itself if it is one of ours, else its longest known prefix."""
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def _imports(module, path, modules):
    """Yields (target module, imported name or None, line) for every import of one of our modules."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    is_package = path.name == "__init__.py"
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith(PACKAGE):
                    yield _resolve(alias.name, modules), None, node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module if is_package else module.rpartition(".")[0]
                for _ in range(node.level - 1):
                    base = base.rpartition(".")[0]
                source = f"{base}.{node.module}" if node.module else base
            else:
                source = node.module or ""
            if not source.startswith(PACKAGE):
                continue
            for alias in node.names:
                submodule = f"{source}.{alias.name}"
                if submodule in modules:
                    yield submodule, None, node.lineno
                else:
                    yield _resolve(source, modules), alias.name, node.lineno


def _graph():
    graph = {name: set() for name in MODULES}
    for name, path in MODULES.items():
        for target, _, _ in _imports(name, path, MODULES):
            if target and target != name and not target == PACKAGE:
                # Every submodule runs inside `import cs109b_bayes`; importing the top-level package for
                # its public names (`import cs109b_bayes as cb`) is checked by the lazy-loading rule below.
                graph[name].add(target)
    return graph


def _cycles(graph):
    """Strongly connected components with more than one module (Tarjan), plus self-loops."""
    index, low, stack, on_stack, result, counter = {}, {}, [], set(), [], [0]

    def visit(node):
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for target in graph[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.add(member)
                if member == node:
                    break
            if len(component) > 1:
                result.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return result


def _is_parent_package(importer, target):
    return importer.startswith(target + ".") and MODULES[target].name == "__init__.py"


def test_the_package_has_modules():
    assert f"{PACKAGE}.seeds" in MODULES and len(MODULES) > 20


def test_no_import_cycles():
    cycles = _cycles(_graph())
    assert not cycles, "import cycles: " + "; ".join(" <-> ".join(c) for c in cycles)


def test_no_submodule_imports_its_own_package_init():
    offenders = []
    for name, path in MODULES.items():
        for target, imported, line in _imports(name, path, MODULES):
            if target and target != name and _is_parent_package(name, target) and target != PACKAGE:
                offenders.append(f"{path.relative_to(ROOT.parent)}:{line} imports {imported or ''} "
                                 f"from its own package {target}")
    assert not offenders, "\n".join(offenders)


def test_no_private_name_is_imported_from_another_module():
    offenders = []
    for name, path in MODULES.items():
        for target, imported, line in _imports(name, path, MODULES):
            if target and target != name and imported and imported.startswith("_") \
                    and not imported.startswith("__"):
                offenders.append(f"{path.relative_to(ROOT.parent)}:{line} imports {target}.{imported}")
    assert not offenders, "\n".join(offenders)


def _module_aliases(tree, module, modules):
    """Local names bound to our modules in one file: `import a.b as x`, `from a import b`."""
    aliases = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith(PACKAGE):
                    aliases[alias.asname or alias.name.split(".")[0]] = alias.name if alias.asname else PACKAGE
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith(PACKAGE):
            for alias in node.names:
                if f"{node.module}.{alias.name}" in modules:
                    aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return aliases


def _dotted(node):
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return list(reversed(parts))
    return None


def test_no_private_attribute_of_another_module_is_used():
    offenders = []
    for name, path in MODULES.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        aliases = _module_aliases(tree, name, MODULES)
        for node in ast.walk(tree):
            if not isinstance(node, ast.Attribute):
                continue
            dotted = _dotted(node)
            if not dotted or dotted[0] not in aliases:
                continue
            full = aliases[dotted[0]]
            # Walk down submodules (cb.bnn.layers._x), then look at the first non-module attribute.
            for attr in dotted[1:]:
                if f"{full}.{attr}" in MODULES:
                    full = f"{full}.{attr}"
                    continue
                if attr.startswith("_") and not attr.startswith("__") and full != name:
                    offenders.append(f"{path.relative_to(ROOT.parent)}:{node.lineno} uses {full}.{attr}")
                break
    assert not sorted(set(offenders)), "\n".join(sorted(set(offenders)))


@pytest.mark.parametrize("limit", [400])
def test_modules_stay_small(limit):
    """One job per module: a few hundred lines at most (question banks and lab sources excepted)."""
    too_long = {name: len(path.read_text(encoding="utf-8").splitlines()) for name, path in MODULES.items()}
    too_long = {name: lines for name, lines in too_long.items() if lines > limit}
    assert not too_long, f"modules over {limit} lines: {too_long}"


def test_checker_catches_a_cycle_and_a_private_import(tmp_path):
    """The checks above can fail: a synthetic two-module cycle and a private import are found."""
    graph = {"a": {"b"}, "b": {"a"}, "c": set()}
    assert _cycles(graph) == [["a", "b"]]
    source = "from cs109b_bayes.seeds import _sequence\n"
    fake = tmp_path / "fake.py"
    fake.write_text(source)
    found = list(_imports("cs109b_bayes.fake", fake, MODULES))
    assert (f"{PACKAGE}.seeds", "_sequence", 1) in found
