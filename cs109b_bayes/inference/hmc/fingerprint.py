"""Structural keys of functions and the values they capture, for the compiled-sampler cache.

A notebook cell run again re-defines `log_prob_fn` (a new function object with
the same code) and re-creates the tensors it captures (new objects, equal
values). `fingerprint` gives both runs the same key:

- a Python function: its code (bytecode, constants, names, recursively for nested
  code), the values of the globals it names, of its closure cells and of its
  defaults, recursively for the functions among them; a function importable from
  a library module by its name (`tf.reduce_sum`, `cb.models.find_mode`) is keyed
  by identity;
- numpy arrays and TensorFlow eager tensors: dtype, shape and a hash of the
  content; Python and numpy scalars, strings, dtypes: their value; modules: their
  name;
- tuples, lists, dicts, sets, dataclass instances (e.g. `cb.data.Dataset`), TFP
  distributions and bijectors (their parameters): their parts, recursively;
- anything else (a `tf.Variable`, a Keras model, an instance of your class): its
  identity. A `tf.Variable` is read when the compiled sampler runs, so that is
  exact; other objects changed in place are not seen (call
  `cs109b_bayes.inference.hmc.clear_cache()`).

Objects keyed by identity are returned as `pinned`: whoever keeps the key keeps
them alive, so their id cannot be reused by another object. Pure Python: this
module does not import TensorFlow (it recognises tensors only if TensorFlow is
already loaded).

#### Examples

```python
from cs109b_bayes.inference.hmc.fingerprint import fingerprint
scale = 2.0
f = lambda x: x * scale
g = lambda x: x * scale
fingerprint(f)[0] == fingerprint(g)[0]      # True
```
"""

import dataclasses
import functools
import hashlib
import sys
import types

import numpy as np

__all__ = ["fingerprint"]

_MAX_DEPTH = 40              # deeper structures are keyed by identity
_MAX_CONTAINER = 10_000      # so are containers with more items than this


class _Fingerprinter:
    """Walks an object graph once, building a hashable key and pinning what it keys by identity."""

    def __init__(self):
        self.pinned = []
        self._visiting = {}

    def identity(self, obj):
        self.pinned.append(obj)
        return ("id", type(obj).__module__, type(obj).__qualname__, id(obj))

    def key(self, obj, depth=0):
        kind = type(obj)
        if kind in (bool, int, str, bytes, type(None), type(Ellipsis)):
            return (kind.__name__, obj)
        if kind is float:
            return ("float", obj.hex())
        if kind is complex:
            return ("complex", obj.real.hex(), obj.imag.hex())
        if isinstance(obj, types.ModuleType):
            return ("module", obj.__name__)
        if depth > _MAX_DEPTH:
            return self.identity(obj)
        if id(obj) in self._visiting:                       # a cycle: refer back to the open node
            return ("cycle", self._visiting[id(obj)])
        self._visiting[id(obj)] = len(self._visiting)
        try:
            return self._compound(obj, depth + 1)
        except Exception:                                   # an object that resists inspection
            return self.identity(obj)
        finally:
            del self._visiting[id(obj)]

    def _compound(self, obj, depth):
        if isinstance(obj, (np.ndarray, np.generic)):
            return _array_key(np.asarray(obj)) or self.identity(obj)
        if isinstance(obj, np.dtype):
            return ("dtype", obj.str)
        tensor = _eager_tensor_value(obj)
        if tensor is not None:
            return _array_key(tensor) or self.identity(obj)
        if isinstance(obj, types.FunctionType):
            return self._function(obj, depth)
        if isinstance(obj, types.MethodType):
            return ("method", self.key(obj.__func__, depth), self.key(obj.__self__, depth))
        if isinstance(obj, functools.partial):
            return ("partial", self.key(obj.func, depth), self.key(obj.args, depth), self.key(obj.keywords, depth))
        if isinstance(obj, (tuple, list, dict, set, frozenset)) and len(obj) <= _MAX_CONTAINER:
            return self._container(obj, depth)
        if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
            fields = tuple((f.name, self.key(getattr(obj, f.name), depth)) for f in dataclasses.fields(obj))
            return ("dataclass", self.identity(type(obj)), fields)
        if _is_tfp_object(obj):
            return ("tfp", self.identity(type(obj)), self.key(dict(obj.parameters), depth))
        if _is_tf_dtype(obj):
            return ("tf_dtype", obj.name)
        return self.identity(obj)

    def _container(self, obj, depth):
        kind = type(obj)
        tag = kind.__name__ if kind in (tuple, list, dict, set, frozenset) else self.identity(kind)
        if isinstance(obj, dict):
            return (tag, tuple((self.key(k, depth), self.key(v, depth)) for k, v in obj.items()))
        if isinstance(obj, (set, frozenset)):
            return (tag, frozenset(self.key(item, depth) for item in obj))
        return (tag, tuple(self.key(item, depth) for item in obj))

    def _function(self, fn, depth):
        if _importable(fn):
            return self.identity(fn)
        code = fn.__code__
        names = sorted(_global_names(code))
        namespace = fn.__globals__
        global_keys = tuple((name, self.key(namespace[name], depth)) for name in names if name in namespace)
        cells = tuple(self.key(cell.cell_contents, depth) if _cell_is_set(cell) else ("empty",)
                      for cell in fn.__closure__ or ())
        return ("function", self._code(code), global_keys, cells,
                self.key(fn.__defaults__, depth), self.key(fn.__kwdefaults__, depth))

    def _code(self, code):
        consts = tuple(self._code(c) if isinstance(c, types.CodeType) else self.key(c) for c in code.co_consts)
        return ("code", code.co_code, consts, code.co_names, code.co_varnames, code.co_freevars,
                code.co_cellvars, code.co_argcount, code.co_posonlyargcount, code.co_kwonlyargcount,
                code.co_flags, getattr(code, "co_exceptiontable", b""))


def _array_key(array):
    if array.dtype.hasobject:
        return None
    content = np.ascontiguousarray(array)
    digest = hashlib.blake2b(content.view(np.uint8).reshape(-1) if content.size else b"", digest_size=16)
    return ("array", array.dtype.str, array.shape, digest.hexdigest())


def _eager_tensor_value(obj):
    tf = sys.modules.get("tensorflow")
    if tf is None or not isinstance(obj, tf.Tensor) or isinstance(obj, tf.Variable):
        return None
    try:
        return np.asarray(obj.numpy())
    except (AttributeError, TypeError, ValueError):     # a symbolic tensor has no value
        return None


def _is_tfp_object(obj):
    tfp = sys.modules.get("tensorflow_probability")
    return tfp is not None and isinstance(obj, (tfp.distributions.Distribution, tfp.bijectors.Bijector))


def _is_tf_dtype(obj):
    tf = sys.modules.get("tensorflow")
    return tf is not None and isinstance(obj, tf.dtypes.DType)


def _importable(fn):
    """True if `fn` is what `module.qualname` names in an imported (non-`__main__`) module."""
    module = sys.modules.get(getattr(fn, "__module__", None) or "")
    if module is None or module.__name__ == "__main__":
        return False
    target = module
    for part in fn.__qualname__.split("."):
        target = getattr(target, part, None)
    return target is fn


def _global_names(code):
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _global_names(const)
    return names


def _cell_is_set(cell):
    try:
        cell.cell_contents
    except ValueError:
        return False
    return True


def fingerprint(obj):
    """A hashable structural key of `obj`, and the objects it keyed by identity.

    Two functions with the same code whose globals, closure cells and defaults hold
    equal values get equal keys (see the module docstring for the rules).

    Args:
        obj: any object, usually a log-density function.

    Returns:
        A tuple (key, pinned): `key` is hashable; `pinned` lists the objects keyed by
        identity, which the caller keeps alive as long as it keeps the key.

    #### Examples

    ```python
    a = lambda x: x * 2.0
    b = lambda x: x * 2.0
    fingerprint(a)[0] == fingerprint(b)[0]       # True: same code, nothing captured
    ```
    """
    walker = _Fingerprinter()
    return walker.key(obj), tuple(walker.pinned)
