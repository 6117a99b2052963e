"""The recording on disk: one JSON file and one `.npz` file per question, read with suspicion.

The probe writes, inside the sandbox, `<folder>/<question id>.json` and `.npz`:

    {"version": 1, "question": "lab01.ols", "missing": [answer names not defined],
     "answers": {name: form}, "rounds": [{"calls": [call, ...]}, ...]}

where a call is `{"path", "args", "kwargs", "effects": [[index, form], ...], "mutated",
"returned" or "raised", optionally "gradients"}` and a form is the safe data of
`cs109b_bayes.grading.serialize`. The grader reads it from the submission's folder, which the
submission could write to: `read_untrusted` opens each path component without following
symbolic links, reads only regular files and only up to a size limit; `read_question` checks
every field (`from_json`: every tag, dtype, shape and size of the safe data) and loads the
arrays with `allow_pickle=False` after checking the archive's sizes.
"""

import base64
import io
import json
import math
import os
import re
import stat
import zipfile

import numpy as np

from cs109b_bayes.grading.serialize import DTYPES, MAX_DEPTH, MAX_TEXT, MalformedRecording, dumps

__all__ = ["MAX_QUESTION_BYTES", "RECORDING_FOLDER", "from_json", "read_question", "read_untrusted",
           "write_question"]

#: The most a question's recording (JSON and arrays together) may take on disk.
MAX_QUESTION_BYTES = 64 * 2**20
#: Where the recording lives in a submission's working folder.
RECORDING_FOLDER = ".cs109b/recording"
_VERSION = 1
_ARRAY_NAME = re.compile(r"^a\d{1,7}\.npy$")


def write_question(folder, record):
    """Write one question's recording (inside the sandbox), atomically.

    Args:
        folder: the recording folder (created if needed).
        record: the dict described in the module docstring, forms in memory.

    Returns:
        The path of the JSON file.

    #### Examples

    ```python
    from cs109b_bayes.grading.recording import write_question
    write_question(".cs109b/recording", {"version": 1, "question": "lab01.ols", "missing": [],
                                         "answers": {}, "rounds": []})
    ```
    """
    os.makedirs(folder, exist_ok=True)
    arrays = {}
    text = dumps(record, arrays)
    stem = os.path.join(folder, record["question"])
    with open(stem + ".npz.tmp", "wb") as handle:
        np.savez(handle, **arrays)
    with open(stem + ".json.tmp", "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(stem + ".npz.tmp", stem + ".npz")
    os.replace(stem + ".json.tmp", stem + ".json")
    return stem + ".json"


def read_untrusted(folder, relative, *, max_bytes):
    """The bytes of a regular file under `folder`, never following a symbolic link.

    Args:
        folder: a folder the caller made (trusted); what is inside it is not.
        relative: the path below it, `/`-separated, without `..`.
        max_bytes: refuse larger files.

    Returns:
        The file's bytes.

    Raises:
        FileNotFoundError: if a component is missing.
        MalformedRecording: if a component is a symbolic link, not a folder or regular
            file, or the file is larger than `max_bytes`.

    #### Examples

    ```python
    from cs109b_bayes.grading.recording import read_untrusted
    text = read_untrusted(workdir, ".cs109b/status.json", max_bytes=2**20)
    ```
    """
    parts = [part for part in str(relative).split("/") if part]
    if not parts or any(part in (".", "..") for part in parts):
        raise ValueError(f"relative must be a path below the folder, got {relative!r}")
    descriptors = [os.open(folder, os.O_RDONLY | os.O_DIRECTORY)]
    try:
        for part in parts[:-1]:
            descriptors.append(_open(part, os.O_DIRECTORY, descriptors[-1]))
        handle = _open(parts[-1], os.O_NONBLOCK, descriptors[-1])
        descriptors.append(handle)
        info = os.fstat(handle)
        if not stat.S_ISREG(info.st_mode):
            raise MalformedRecording(f"{relative} is not a regular file")
        if info.st_size > max_bytes:
            raise MalformedRecording(f"{relative} is {info.st_size} bytes, more than {max_bytes}")
        with os.fdopen(os.dup(handle), "rb") as stream:
            data = stream.read(max_bytes + 1)
        if len(data) > max_bytes:
            raise MalformedRecording(f"{relative} is more than {max_bytes} bytes")
        return data
    finally:
        for descriptor in descriptors:
            os.close(descriptor)


def _open(name, flags, directory):
    try:
        return os.open(name, os.O_RDONLY | os.O_NOFOLLOW | flags, dir_fd=directory)
    except OSError as err:
        if isinstance(err, FileNotFoundError):
            raise
        raise MalformedRecording(f"{name} cannot be opened safely ({os.strerror(err.errno)})") from None


def _load_arrays(data, max_bytes):
    if not data:
        return {}
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
            if sum(m.file_size for m in members) > max_bytes or not all(
                    _ARRAY_NAME.match(m.filename) for m in members):
                raise MalformedRecording("the arrays file is too large or holds unexpected members")
        with np.load(io.BytesIO(data), allow_pickle=False) as archive:
            return {name: archive[name] for name in archive.files}
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as err:
        if isinstance(err, MalformedRecording):
            raise
        raise MalformedRecording(f"the arrays file cannot be read: {type(err).__name__}") from None


def _read_call(call, arrays):
    """A call's fields checked, its forms in memory."""
    if not isinstance(call, dict) or not isinstance(call.get("path"), str):
        raise MalformedRecording("a call without a path")
    path = call["path"]
    args, kwargs = from_json(call.get("args"), arrays), from_json(call.get("kwargs"), arrays)
    if not (isinstance(args, dict) and args["$"] == "tuple" and isinstance(kwargs, dict) and kwargs["$"] == "dict"):
        raise MalformedRecording(f"a call of {path} without its arguments")
    read = {"path": path, "args": args, "kwargs": kwargs, "mutated": bool(call.get("mutated"))}
    if ("returned" in call) == ("raised" in call):
        raise MalformedRecording(f"a call of {path} should have returned or raised")
    if "raised" in call:
        raised = call["raised"]
        fields = ("type", "message", "where")
        if not isinstance(raised, dict) or not all(isinstance(raised.get(k), str) for k in fields):
            raise MalformedRecording(f"a call of {path} with a malformed error")
        read["raised"] = {k: raised[k][:2000] for k in fields}
    else:
        read["returned"] = from_json(call["returned"], arrays)
    effects = call.get("effects", [])
    if not isinstance(effects, list) or not all(
            isinstance(e, list) and len(e) == 2 and type(e[0]) is int for e in effects):
        raise MalformedRecording(f"a call of {path} with malformed effects")
    read["effects"] = [(index, from_json(form, arrays)) for index, form in effects]
    gradients = call.get("gradients")
    if gradients is not None:
        if not isinstance(gradients, list):
            raise MalformedRecording(f"a call of {path} with malformed gradients")
        forms = [None if g is None else from_json(g, arrays) for g in gradients]
        if not all(g is None or isinstance(g, dict) and g["$"] == "array" for g in forms):
            raise MalformedRecording(f"a call of {path} with malformed gradients")
        read["gradients"] = [None if g is None else g["value"] for g in forms]
    return read


def read_question(workdir, question_id, *, answers, max_bytes=MAX_QUESTION_BYTES):
    """Read and check one question's recording from a submission's folder (outside the sandbox).

    Args:
        workdir: the submission's working folder (made by the grader); the recording is in
            its `RECORDING_FOLDER`.
        question_id: e.g. `"lab01.ols"`.
        answers: the answer names the question takes.
        max_bytes: the most the JSON and arrays files may take together.
            Default value: `MAX_QUESTION_BYTES`.

    Returns:
        The record, forms in memory (arrays as ndarrays).

    Raises:
        FileNotFoundError: if the question was not recorded.
        MalformedRecording: if anything is not what the probe writes: not JSON, another
            question, unknown answer names, a malformed call or form, files too large,
            symbolic links.

    #### Examples

    ```python
    from cs109b_bayes.grading.recording import read_question
    record = read_question(workdir, "lab01.ols", answers=("fit_ols",))
    ```
    """
    text = read_untrusted(workdir, f"{RECORDING_FOLDER}/{question_id}.json", max_bytes=max_bytes)
    try:
        arrays_data = read_untrusted(workdir, f"{RECORDING_FOLDER}/{question_id}.npz",
                                     max_bytes=max_bytes - len(text))
    except FileNotFoundError:
        arrays_data = b""
    arrays = _load_arrays(arrays_data, max_bytes)
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as err:
        raise MalformedRecording(f"the recording is not JSON: {type(err).__name__}") from None
    if not isinstance(data, dict) or data.get("version") != _VERSION or data.get("question") != question_id:
        raise MalformedRecording(f"the recording is not one of {question_id}")
    record = {key: data.get(key) for key in ("missing", "answers", "rounds")}
    if not isinstance(record["missing"], list) or not set(record["missing"]) <= set(answers):
        raise MalformedRecording("the recording lists unknown missing answers")
    if not isinstance(record["answers"], dict) or not set(record["answers"]) <= set(answers):
        raise MalformedRecording("the recording holds unknown answers")
    if not isinstance(record["rounds"], list) or not all(
            isinstance(r, dict) and isinstance(r.get("calls"), list) for r in record["rounds"]):
        raise MalformedRecording("the recording's rounds are malformed")
    try:
        record["answers"] = {name: from_json(form, arrays) for name, form in record["answers"].items()}
        record["rounds"] = [{"calls": [_read_call(call, arrays) for call in r["calls"]]}
                            for r in record["rounds"]]
    except RecursionError:
        raise MalformedRecording("nested too deeply") from None
    return record


_FIELDS = {
    "tuple": {"items"}, "list": {"items"}, "dict": {"items"}, "ellipsis": set(),
    "array": {"value", "scalar"}, "tensor": {"value", "scalar", "variable"},
    "rng": {"state"}, "callable": set(), "distribution": {"type", "parameters"},
    "keras": {"type", "weights"}, "optimizer": {"type", "variables"},
    "object": {"type", "state"}, "opaque": {"type"},
}


def from_json(data, arrays, *, depth=0):
    """The in-memory form of JSON data read from a recording, checked tag by tag.

    Args:
        data: what `json.loads` returned for a form.
        arrays: `name -> ndarray` of the recording's `.npz` file (loaded without pickle).
        depth: the nesting depth so far (internal). Default value: 0.

    Returns:
        The form, arrays as ndarrays.

    Raises:
        MalformedRecording: for an unknown tag, a missing field, a dtype outside the numeric
            ones, a size that does not match its shape, a missing array, or nesting deeper
            than the probe writes.

    #### Examples

    ```python
    from cs109b_bayes.grading.recording import from_json
    from_json({"$": "ellipsis"}, {})   # {'$': 'ellipsis'}
    ```
    """
    if depth > MAX_DEPTH + 4:
        raise MalformedRecording("nested too deeply")
    if data is None or isinstance(data, (bool, int, float)):
        return data
    if isinstance(data, str):
        if len(data) > MAX_TEXT:
            raise MalformedRecording("a text longer than the probe writes")
        return data
    if isinstance(data, list):
        return [from_json(item, arrays, depth=depth + 1) for item in data]
    if not isinstance(data, dict) or data.get("$") not in _FIELDS:
        raise MalformedRecording(f"unknown value {_short(data)}")
    tag = data["$"]
    missing = _FIELDS[tag] - set(data)
    if tag == "callable" and not ({"name", "path"} & set(data)):
        missing = {"name or path"}
    if missing:
        raise MalformedRecording(f"a {tag} without {sorted(missing)}")
    if tag in ("array", "tensor"):
        return {**data, "value": _read_array(data["value"], arrays)}
    form = {key: from_json(value, arrays, depth=depth + 1) for key, value in data.items()}
    for key in ("items", "weights", "variables"):
        if key in form and not isinstance(form[key], list):
            raise MalformedRecording(f"{tag}.{key} should be a list")
    if tag == "dict" and not all(isinstance(pair, list) and len(pair) == 2 for pair in form["items"]):
        raise MalformedRecording("dict items should be [key, value] pairs")
    if tag == "dict" and not all(_hashable(key) for key, _ in form["items"]):
        raise MalformedRecording("a dict key that cannot be a key")
    return form


def _hashable(key):
    return key is None or isinstance(key, (bool, int, float, str)) or (
        isinstance(key, dict) and key.get("$") in ("tuple", "array") and (
            key["$"] == "array" and key.get("scalar") or all(_hashable(k) for k in key.get("items", []))))


def _read_array(data, arrays):
    if not isinstance(data, dict):
        raise MalformedRecording("an array without dtype and shape")
    dtype, shape = data.get("dtype"), data.get("shape")
    if not isinstance(dtype, str) or dtype not in DTYPES or not isinstance(shape, list) or len(shape) > 8 or not all(
            isinstance(n, int) and not isinstance(n, bool) and 0 <= n < 2**31 for n in shape):
        raise MalformedRecording(f"an array of dtype {_short(dtype)} and shape {_short(shape)}")
    count = math.prod(shape)
    if "data" in data and isinstance(data["data"], str):
        try:
            raw = base64.b64decode(data["data"], validate=True)
        except ValueError:
            raise MalformedRecording("an array whose data is not base64") from None
        if len(raw) != count * np.dtype(dtype).itemsize:
            raise MalformedRecording("an array whose data does not match its shape")
        return np.frombuffer(raw, dtype=dtype).reshape(shape).copy()
    array = arrays.get(data.get("ref")) if isinstance(data.get("ref"), str) else None
    if not isinstance(array, np.ndarray) or array.dtype != np.dtype(dtype) or list(array.shape) != shape:
        raise MalformedRecording(f"array {_short(data.get('ref'))} is missing or does not match")
    return array


def _short(value):
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
