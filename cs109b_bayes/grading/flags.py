"""Read a submission's code (never run it): answers that call the package's own solution, and
code that reaches for the grading machinery.

Where `cs109b_bayes` itself implements an exercise (`cb.vae.analytic_kl` is the KL question
of lab 10), an answer whose code calls it scores 0 for that question, with the reason in the
CSV. `LIBRARY_SOLUTIONS` is the one table of those functions. An answer's code is its last
definition in the notebook (`def`, assignment, import) plus, transitively, every notebook
definition it uses, with the notebook's import aliases resolved (`import cs109b_bayes as
cb`, `from cs109b_bayes.vae import analytic_kl as kl`, imports inside functions, names in
strings passed to `getattr`).

Code anywhere in the notebook that touches grading internals or the process itself
(`cs109b_bayes.grading`, `sys.modules`, `ctypes`, `gc.get_objects`, frames, `/proc`,
`exec`, shell commands, ...) is only *flagged*, for the instructor to look at: it scores
what it scores. Static reading cannot see through every trick (`exec` of a computed string),
which is why those tricks are flagged too.
"""

import ast
import dataclasses

__all__ = ["LIBRARY_SOLUTIONS", "Flags", "check_notebook"]

_PACKAGE = "cs109b_bayes"

#: Question id -> the names of `cs109b_bayes` functions and classes that solve it; an answer
#: whose code uses one of them (under any module path of the package) scores 0.
LIBRARY_SOLUTIONS = {
    "lab01.ols": ("conjugate_linear_posterior", "linear_log_evidence"),
    "lab01.resample": ("bootstrap",),
    "lab01.ols_se": ("conjugate_linear_posterior", "linear_log_evidence"),
    "lab01.interval": (),
    "lab02.log_prior": ("linear_log_prob", "conjugate_linear_posterior"),
    "lab02.log_likelihood": ("linear_log_prob", "conjugate_linear_posterior"),
    "lab02.log_posterior": ("linear_log_prob", "conjugate_linear_posterior"),
    "lab02.metropolis_step": ("metropolis",),
    "lab02.posterior_summary": ("metropolis", "sample_hmc", "conjugate_linear_posterior", "linear_log_prob"),
    "lab03.forward": ("gap5_forward", "sin_network", "posterior_predictive"),
    "lab03.log_posterior": ("gap5_log_prob", "sin_network_log_prob"),
    "lab03.symmetries": (),
    "lab04.log_posterior_tf": ("gap5_log_prob", "sin_network_log_prob"),
    "lab04.hack": ("gap5_log_prob", "sin_network_log_prob"),
    "lab04.predictive": ("posterior_predictive", "Predictive"),
    "lab05.kl_gaussian": ("kl_gaussian", "kl_monte_carlo", "analytic_kl", "sampled_kl"),
    "lab05.elbo_estimate": ("elbo", "fit_mean_field", "kl_gaussian", "analytic_kl"),
    "lab05.exact_posterior": ("conjugate_linear_posterior", "linear_log_evidence"),
    "lab06.gaussian_nll": ("negative_log_likelihood", "gaussian_log_likelihood", "log_normal"),
    "lab06.coverage": (),
    "lab07.scaled_kl": ("build_regressor",),
    "lab07.predictive_split": ("predict", "Predictive"),
    "lab08.flipout_dense": ("StatelessDenseFlipout", "build_regressor"),
    "lab08.local_reparam_dense": ("StableDenseLocalReparameterization", "build_regressor"),
    "lab09.sample_hidden": ("GaussianHiddenUnits", "stateless_noise", "sample"),
    "lab09.hidden_kl": ("GaussianHiddenUnits", "analytic_kl", "kl_gaussian"),
    "lab10.reparameterize": ("VAE", "build_vae"),
    "lab10.reconstruction_loss": ("bernoulli_log_likelihood", "VAE", "build_vae"),
    "lab10.kl_divergence": ("analytic_kl", "sampled_kl", "kl_gaussian", "VAE", "build_vae"),
    "lab10.train_step": ("VAE", "build_vae", "train", "analytic_kl", "bernoulli_log_likelihood"),
    "lab11.gaussian_fit_kl": ("kl_gaussian",),
    "lab11.interpolate": ("latent_grid", "decode_manifold"),
    "lab12.encode_repeatedly": (),
    "lab12.epistemic_spread": (),
    "lab13.sgld_step": ("sample_sgld", "sgld_step_sizes"),
    "lab13.mixture_predictive": ("Predictive", "predict", "posterior_predictive", "mixture_nll"),
    "lab14.score_function": ("score_function_gradient", "bernoulli_score_gradient"),
    "lab14.reparameterization": ("reparameterization_gradient",),
    "lab14.baseline": ("score_function_gradient", "bernoulli_score_gradient"),
    "lab15.importance_bound": ("log_mean_exp", "log_likelihood_bounds", "from_log_weights", "evaluate",
                               "importance_log_weights"),
    "lab15.roc_auc": ("roc_auc",),
    "lab16.bald": ("bald", "entropy", "predictive_entropy"),
    "lab16.acquire": ("acquire",),
}

# Dotted paths (after resolving imports) and attribute names that have no business in a lab.
_SUSPICIOUS_PATHS = {
    f"{_PACKAGE}.grading": "uses the grading internals", f"{_PACKAGE}.questions": "uses the question modules",
    f"{_PACKAGE}.course": "uses the course and grading tools", "sys.modules": "edits sys.modules",
    "sys._getframe": "inspects stack frames", "sys.settrace": "traces execution",
    "sys.setprofile": "traces execution", "ctypes": "uses ctypes", "gc.get_objects": "searches live objects",
    "gc.get_referrers": "searches live objects", "inspect.currentframe": "inspects stack frames",
    "inspect.stack": "inspects stack frames", "inspect.getouterframes": "inspects stack frames",
    "inspect.trace": "inspects stack frames", "importlib": "imports dynamically", "builtins": "edits builtins",
    "subprocess": "starts processes", "os.system": "starts processes", "os.fork": "starts processes",
    "os.setsid": "detaches processes", "os.kill": "signals processes", "signal.signal": "changes signal handlers",
    "multiprocessing": "starts processes", "get_ipython.system": "runs shell commands",
}
_SUSPICIOUS_ATTRIBUTES = {
    "f_back": "inspects stack frames", "f_locals": "inspects stack frames", "f_globals": "inspects stack frames",
    "tb_frame": "inspects stack frames", "gi_frame": "inspects stack frames", "__globals__": "reads function globals",
    "__code__": "edits code objects", "__builtins__": "edits builtins", "__subclasses__": "searches classes",
}
_SUSPICIOUS_CALLS = {"exec": "runs generated code", "eval": "runs generated code",
                     "compile": "compiles generated code", "__import__": "imports dynamically"}
_SUSPICIOUS_TEXT = {"/proc": "reads /proc", f"{_PACKAGE}.grading": "names the grading internals",
                    f"{_PACKAGE}.questions": "names the question modules", ".cs109b": "names the grader's files"}


@dataclasses.dataclass(frozen=True)
class Flags:
    """What reading a submission's code found.

    Attributes:
        zeroed: `{question id: reason}` for answers that call the package's own solution.
        suspicious: `"cell N: what"` notes for the instructor (they do not change the score).
    """

    zeroed: dict
    suspicious: tuple


def _parse_cells(notebook):
    """(cell index, module AST) of every code cell that parses; notes for those that do not."""
    from IPython.core.inputtransformer2 import TransformerManager

    transformer, parsed, notes = TransformerManager(), [], []
    for index, cell in enumerate(notebook.cells):
        if cell.get("cell_type") != "code" or not str(cell.get("source", "")).strip():
            continue
        try:
            parsed.append((index, ast.parse(transformer.transform_cell(str(cell.source)))))
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            notes.append(f"cell {index}: does not parse")
    return parsed, notes


def _import_aliases(node, aliases):
    """Add the names an import statement binds: local name -> dotted path."""
    if isinstance(node, ast.Import):
        for alias in node.names:
            if alias.asname:
                aliases[alias.asname] = alias.name
            else:
                root = alias.name.split(".")[0]
                aliases[root] = root
    elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
        for alias in node.names:
            aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"


def _dotted(node, aliases):
    """The resolved dotted path of a Name or Attribute chain, or None."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "get_ipython":
        return ".".join(["get_ipython", *reversed(parts)])
    if not isinstance(node, ast.Name):
        return None
    root = aliases.get(node.id)
    return ".".join([root, *reversed(parts)]) if root else None


def _bound_names(statement):
    """The names a top-level statement binds (def, class, assignment targets, imports)."""
    if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return [statement.name]
    if isinstance(statement, (ast.Import, ast.ImportFrom)):
        names = {}
        _import_aliases(statement, names)
        return list(names)
    targets = []
    if isinstance(statement, (ast.Assign, ast.AnnAssign, ast.AugAssign, ast.For, ast.With)):
        roots = (statement.targets if isinstance(statement, ast.Assign) else
                 [item.optional_vars for item in statement.items if item.optional_vars]
                 if isinstance(statement, ast.With) else [statement.target])
        for root in roots:
            targets.extend(_target_names(root))
    return targets


def _target_names(target):
    """The names an assignment target binds (`a`, `a, (b, *c)`), not those it only indexes (`d[0]`)."""
    if isinstance(target, ast.Name):
        return [target.id]
    if isinstance(target, ast.Starred):
        return _target_names(target.value)
    if isinstance(target, (ast.Tuple, ast.List)):
        return [name for item in target.elts for name in _target_names(item)]
    return []


class _Notebook:
    """The notebook's top-level definitions and import aliases, in cell order (last one wins)."""

    def __init__(self, parsed):
        self.aliases, self.definitions = {}, {}
        for _, module in parsed:
            for statement in module.body:
                _import_aliases(statement, self.aliases)
                for name in _bound_names(statement):
                    self.definitions[name] = statement
                    if not isinstance(statement, (ast.Import, ast.ImportFrom)):
                        self.aliases.pop(name, None)

    def closure(self, name):
        """The statements `name`'s last definition needs: itself and the definitions it uses."""
        todo, seen = [name], {}
        while todo:
            statement = self.definitions.get(todo.pop())
            if statement is None or id(statement) in seen:
                continue
            seen[id(statement)] = statement
            todo.extend(n.id for n in ast.walk(statement) if isinstance(n, ast.Name))
        return list(seen.values())

    def package_uses(self, statements):
        """The `cs109b_bayes` paths the statements use (attribute chains, imports, getattr strings)."""
        aliases, found = dict(self.aliases), set()
        for statement in statements:
            for node in ast.walk(statement):
                _import_aliases(node, aliases)
        for statement in statements:
            for node in ast.walk(statement):
                path = _dotted(node, aliases) if isinstance(node, (ast.Name, ast.Attribute)) else None
                if isinstance(node, (ast.Import, ast.ImportFrom)):
                    local = {}
                    _import_aliases(node, local)
                    found.update(p for p in local.values() if p.startswith(_PACKAGE))
                if path and path.split(".")[0] == _PACKAGE:
                    found.add(path)
                if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "getattr"
                        and len(node.args) >= 2 and isinstance(node.args[1], ast.Constant)):
                    owner = _dotted(node.args[0], aliases)        # getattr(cb.vae, "analytic_kl")
                    if owner and owner.split(".")[0] == _PACKAGE:
                        found.add(f"{owner}.{node.args[1].value}")
        return found


def _suspicious(parsed, aliases):
    notes = []
    for index, module in parsed:
        local = dict(aliases)
        for node in ast.walk(module):
            _import_aliases(node, local)
        what = set()
        for node in ast.walk(module):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                names = {}
                _import_aliases(node, names)
                paths = list(names.values())
            else:
                paths = [_dotted(node, local)] if isinstance(node, (ast.Name, ast.Attribute)) else []
            for path in filter(None, paths):
                what.update(label for prefix, label in _SUSPICIOUS_PATHS.items()
                            if path == prefix or path.startswith(prefix + "."))
            if isinstance(node, ast.Attribute) and node.attr in _SUSPICIOUS_ATTRIBUTES:
                what.add(_SUSPICIOUS_ATTRIBUTES[node.attr])
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in _SUSPICIOUS_CALLS:
                what.add(_SUSPICIOUS_CALLS[node.func.id])
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                what.update(label for text, label in _SUSPICIOUS_TEXT.items() if text in node.value)
        notes.extend(f"cell {index}: {label}" for label in sorted(what))
    return notes


def check_notebook(notebook, questions):
    """Read a submission's code: which answers call the package's solution, what looks like tampering.

    Args:
        notebook: the submitted `nbformat.NotebookNode` (read, never executed).
        questions: the `Question`s of the lab being graded (`cs109b_bayes.grading.lookup`).

    Returns:
        A `Flags`.

    #### Examples

    ```python
    import nbformat
    from cs109b_bayes import grading
    from cs109b_bayes.grading.flags import check_notebook
    notebook = nbformat.read("10_vae_from_scratch.ipynb", as_version=4)
    flags = check_notebook(notebook, [grading.lookup(q) for q in grading.questions("lab10")])
    flags.zeroed    # {'lab10.kl_divergence': 'kl_divergence calls cs109b_bayes.vae.analytic_kl, ...'}
    ```
    """
    parsed, notes = _parse_cells(notebook)
    code = _Notebook(parsed)
    zeroed = {}
    for spec in questions:
        forbidden = set(LIBRARY_SOLUTIONS.get(spec.id, ()))
        for answer in spec.answers:
            statements = code.closure(answer)
            uses = sorted(path for path in code.package_uses(statements)
                          if forbidden & set(path.split(".")[1:]))
            if uses:
                zeroed[spec.id] = (f"{answer} calls {uses[0]}, the package's own solution of this "
                                   "exercise: write it yourself")
                break
    return Flags(zeroed=zeroed, suspicious=tuple(notes + _suspicious(parsed, code.aliases)))
