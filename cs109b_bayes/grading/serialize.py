"""Safe data: what a grading recording may hold, to encode, store, decode and compare.

The probe (`cs109b_bayes.grading.probe`) records, inside the sandbox, what a submission's
answers were called with and what they returned; the grader reads that recording in its own
process, so nothing in it may run code when read: no pickle, only JSON and `.npz` arrays
(`np.load(allow_pickle=False)`). A value becomes a *form*: JSON scalars (None, bool, int,
float, str) stay as they are; anything else is a dict tagged by `"$"`:

* `tuple`, `list` (`items`), `dict` (`items`: `[key, value]` pairs);
* `array` (`value`: a numeric or boolean `numpy.ndarray`; `scalar` for NumPy scalars) and
  `tensor` (`value`, `variable`: a TensorFlow tensor or `tf.Variable`);
* `ellipsis` (a blank answer), `rng` (a NumPy generator's state as JSON text), `callable` (a function
  argument by `name`, or a returned function by its recording `path`);
* `distribution` (a TFP distribution's type and parameters), `keras` (a model's weights),
  `optimizer` (type, iteration count, variables), `object` (the attributes of one of this
  package's own objects, e.g. a question's stand-in encoder, or an `MCMCResult`);
* `opaque` (anything else: only its type name).

In memory a form holds its arrays as ndarrays; `dumps` writes them as base64 text (small) or
into a dict of arrays for the `.npz` file (large); `cs109b_bayes.grading.recording.from_json`
checks every tag, dtype and size on the way back. TensorFlow is never imported here: a value
can only be a tensor if the program already imported TensorFlow.
"""

import base64
import dataclasses
import json
import math
import sys

import numpy as np

__all__ = ["DTYPES", "MAX_DEPTH", "MAX_TEXT", "MalformedRecording", "Opaque", "compare", "decode", "dumps",
           "encode", "tensorflow_kind"]

#: The dtypes an array in a recording may have (numbers and booleans only).
DTYPES = frozenset({"bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32",
                    "uint64", "float16", "float32", "float64"})
#: How deeply the probe nests a value before giving up (`opaque`).
MAX_DEPTH = 32
#: The longest text the probe keeps.
MAX_TEXT = 10_000
_DTYPE_NAMES = {np.dtype(name): name for name in DTYPES}
_INLINE_BYTES = 4096
_TRUSTED_PREFIX = "cs109b_bayes."


class MalformedRecording(ValueError):
    """A recording (or part of it) is not what the probe writes: wrong tag, dtype, size, nesting."""


@dataclasses.dataclass(frozen=True)
class Opaque:
    """What replay returns for a value the probe could not record (only its type is known)."""

    type_name: str

    def __repr__(self):
        return f"<unrecordable {self.type_name}>"


def _module(name):
    return sys.modules.get(name)


def tensorflow_kind(value):
    """What TensorFlow object `value` is, without importing TensorFlow.

    Args:
        value: any value.

    Returns:
        `"keras"` (a Keras 2 model or layer), `"optimizer"`, `"distribution"` (TFP),
        `"variable"`, `"tensor"`, or None (also whenever TensorFlow was never imported).

    #### Examples

    ```python
    from cs109b_bayes.grading.serialize import tensorflow_kind
    tensorflow_kind(3.0)   # None
    ```
    """
    if "tensorflow" not in sys.modules:
        return None
    tf_keras = _module("tf_keras")
    if tf_keras is not None:
        if isinstance(value, (tf_keras.Model, tf_keras.layers.Layer)):
            return "keras"
        if isinstance(value, tf_keras.optimizers.Optimizer):
            return "optimizer"
    tfp = _module("tensorflow_probability")
    if tfp is not None and isinstance(value, tfp.distributions.Distribution):
        return "distribution"
    tf = _module("tensorflow")
    if tf is not None and tf.is_tensor(value):
        return "variable" if isinstance(value, tf.Variable) else "tensor"
    return None


def _array(value, *, scalar=False):
    array = np.array(value)       # a copy: later in-place writes do not change the record
    if array.dtype not in _DTYPE_NAMES:
        return {"$": "opaque", "type": f"ndarray of {array.dtype}"}
    return {"$": "array", "value": array, "scalar": scalar}


def _is_trusted_object(value):
    kind = type(value)
    return (kind.__module__.startswith(_TRUSTED_PREFIX) and not isinstance(value, type)
            and hasattr(value, "__dict__"))


def encode(value, *, on_callable=None, depth=0):
    """The in-memory form of `value` (see the module docstring).

    Args:
        value: any Python value.
        on_callable: `fn -> form` for callables (e.g. to wrap a returned function);
            Default value: `None` (a callable becomes `{"$": "callable", "name": qualname}`).
        depth: the nesting depth so far (internal). Default value: 0.

    Returns:
        A form: a JSON scalar or a tagged dict; arrays are `numpy.ndarray` copies.

    #### Examples

    ```python
    from cs109b_bayes.grading.serialize import encode
    encode((1.5, [None, ...]))   # {'$': 'tuple', 'items': [1.5, {'$': 'list', 'items': [None, {'$': 'ellipsis'}]}]}
    ```
    """
    if depth > MAX_DEPTH:
        return {"$": "opaque", "type": "too deeply nested"}
    again = lambda item: encode(item, on_callable=on_callable, depth=depth + 1)  # noqa: E731
    if isinstance(value, np.generic):
        return _array(value, scalar=True)
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, str):
        return value[:MAX_TEXT]
    if value is Ellipsis:
        return {"$": "ellipsis"}
    if isinstance(value, (tuple, list)):
        return {"$": type(value).__name__ if type(value) in (tuple, list) else "tuple",
                "items": [again(item) for item in value]}
    if isinstance(value, dict):
        return {"$": "dict", "items": [[again(k), again(v)] for k, v in value.items()]}
    if isinstance(value, np.ndarray):
        return _array(value)
    if isinstance(getattr(value, "probe_path", None), str):   # an answer being recorded or replayed
        return {"$": "callable", "name": value.probe_path}
    if isinstance(value, np.random.Generator):
        return {"$": "rng", "state": json.dumps(value.bit_generator.state, sort_keys=True)}
    kind = tensorflow_kind(value)
    if kind in ("tensor", "variable"):
        form = _array(value.numpy())
        return {**form, "$": "tensor", "variable": kind == "variable"} if form["$"] == "array" else form
    if kind == "keras":
        return {"$": "keras", "type": type(value).__name__,
                "weights": [again(np.asarray(w)) for w in value.get_weights()]}
    if kind == "optimizer":
        return {"$": "optimizer", "type": type(value).__name__,
                "variables": [again(v.numpy()) for v in value.variables]}
    if kind == "distribution":
        return {"$": "distribution", "type": type(value).__name__,
                "parameters": again(dict(value.parameters))}
    if _is_trusted_object(value):
        return {"$": "object", "type": type(value).__qualname__, "state": again(dict(vars(value)))}
    if hasattr(value, "__array__") and not callable(value):     # pandas, xarray, ...: as an array
        form = _array(np.asarray(value))
        if form["$"] == "array":
            return form
    if callable(value):
        if on_callable is not None:
            return on_callable(value)
        name = getattr(value, "__qualname__", None)
        return {"$": "callable", "name": str(name or type(value).__qualname__)}
    return {"$": "opaque", "type": type(value).__qualname__}


def decode(form, *, on_callable, classes=None):
    """The Python value of a form, for the question run outside the sandbox.

    Args:
        form: a form (arrays as ndarrays, e.g. from `from_json`).
        on_callable: `path -> callable`, for the functions a submission returned.
        classes: `{type name: class}` of the objects to rebuild (dataclasses built from
            their fields, e.g. `MCMCResult`); other objects become `Opaque`.
            Default value: `None`.

    Returns:
        The value: tuples, lists, dicts, arrays, NumPy scalars, TensorFlow constants (for
        `tensor` forms), `Ellipsis`, callables from `on_callable`, or `Opaque`.

    #### Examples

    ```python
    from cs109b_bayes.grading.serialize import decode, encode
    decode(encode((1, "a")), on_callable=None)   # (1, 'a')
    ```
    """
    if not isinstance(form, dict):
        return form
    again = lambda item: decode(item, on_callable=on_callable, classes=classes)  # noqa: E731
    tag = form["$"]
    if tag in ("tuple", "list"):
        items = [again(item) for item in form["items"]]
        return tuple(items) if tag == "tuple" else items
    if tag == "dict":
        return {again(key): again(value) for key, value in form["items"]}
    if tag == "ellipsis":
        return Ellipsis
    if tag == "array":
        return form["value"][()] if form["scalar"] else form["value"]
    if tag == "tensor":
        import tensorflow as tf

        return tf.constant(form["value"])
    if tag == "callable" and "path" in form:
        return on_callable(form["path"])
    if tag == "object" and classes and form["type"] in classes:
        state = again(form["state"])
        try:
            return classes[form["type"]](**state)
        except TypeError:       # other fields than the class has
            return Opaque(form["type"])
    return Opaque(form.get("type") or form.get("name") or tag)


def compare(recorded, actual, *, where="arguments", rtol=1e-6, atol=1e-9):
    """Where two forms differ (arrays within a tight tolerance), or None if they match.

    Args:
        recorded: the form read from the recording.
        actual: the form of the value the grader has now.
        where: a description of the position, for the message. Default value: `"arguments"`.
        rtol: relative tolerance for arrays. Default value: `1e-6`.
        atol: absolute tolerance for arrays. Default value: `1e-9`.

    Returns:
        A short message, or None.

    #### Examples

    ```python
    import numpy as np
    from cs109b_bayes.grading.serialize import compare, encode
    compare(encode(np.ones(2)), encode(np.zeros(2)))   # 'arguments: values differ'
    ```
    """
    if isinstance(recorded, list) and isinstance(actual, list):
        if len(recorded) != len(actual):
            return f"{where}: {len(recorded)} items recorded, {len(actual)} now"
        for index, (left, right) in enumerate(zip(recorded, actual)):
            problem = compare(left, right, where=f"{where}[{index}]", rtol=rtol, atol=atol)
            if problem:
                return problem
        return None
    if not isinstance(recorded, dict) or not isinstance(actual, dict):
        same = type(recorded) is type(actual) and (recorded == actual or (
            isinstance(recorded, float) and (math.isclose(recorded, actual, rel_tol=1e-9)
                                             or math.isnan(recorded) and math.isnan(actual))))
        return None if same else f"{where}: {_short(recorded)} recorded, {_short(actual)} now"
    if recorded.get("$") != actual.get("$"):
        return f"{where}: a {recorded.get('$')} recorded, a {actual.get('$')} now"
    tag = recorded["$"]
    if tag in ("array", "tensor"):
        a, b = recorded["value"], actual["value"]
        if a.shape != b.shape or a.dtype.kind != b.dtype.kind:
            return f"{where}: shape/dtype {a.shape} {a.dtype} recorded, {b.shape} {b.dtype} now"
        if np.array_equal(a, b) or a.dtype.kind == "f" and np.allclose(a, b, rtol=rtol, atol=atol, equal_nan=True):
            return None
        return f"{where}: values differ"
    for key in sorted(set(recorded) | set(actual)):
        if key != "$":
            problem = compare(recorded.get(key), actual.get(key), where=f"{where}.{key}", rtol=rtol, atol=atol)
            if problem:
                return problem
    return None


def _short(value):
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def dumps(form, arrays):
    """The JSON text of a form (or of a structure holding forms): arrays as `value` objects.

    A small array becomes `{"dtype", "shape", "data": base64}`; a large one `{"dtype",
    "shape", "ref": "a<N>"}` with the array added to `arrays` (for `np.savez`).

    Args:
        form: a form, or plain dicts and lists holding forms.
        arrays: a dict to which `"a<N>" -> ndarray` entries are added.

    Returns:
        A str of JSON.

    #### Examples

    ```python
    import numpy as np
    from cs109b_bayes.grading.serialize import dumps, encode
    arrays = {}
    dumps(encode(np.arange(3.0)), arrays)   # '{"$": "array", "value": {"dtype": "float64", ...}, ...}'
    ```
    """
    def array_json(array):
        if not isinstance(array, np.ndarray) or array.dtype not in _DTYPE_NAMES:
            raise TypeError(f"{type(array).__name__} is not safe data")
        array = np.require(array, requirements="C")
        out = {"dtype": _DTYPE_NAMES[array.dtype], "shape": list(array.shape)}
        if array.nbytes <= _INLINE_BYTES:
            out["data"] = base64.b64encode(array.tobytes()).decode("ascii")
        else:
            out["ref"] = f"a{len(arrays)}"
            arrays[out["ref"]] = array
        return out

    return json.dumps(form, default=array_json)
