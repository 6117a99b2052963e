"""Record / replay: the grader scores answers with checks that run outside the student's process.

Inside the sandbox, after the notebook ran, the harness asks the student's kernel to run
`record_question` for each question of the lab. It looks the answers up in the notebook's
globals, wraps each function in a `Recorder`, and runs the question's own test on fresh inputs
drawn from a seed the notebook never saw. The in-sandbox pass or fail is ignored: what counts
is the recording of every call (arguments, returned value or raised error, the state changes
of `cs109b_bayes.grading.effects`, gradients), written as safe data.

Outside, in the grader's process, `replay_question` runs the same test with the same seed,
each answer replaced by a `Replayer`: on the k-th call it checks that the arguments equal the
recorded ones (the inputs were the grader's, not forged), applies the recorded state changes
and returns the recorded value. The question's own `expect_*` calls decide, here, where no
student code runs. Each question is checked on `rounds` independent seeds.

#### Examples

```python
# inside the student's kernel (the harness does this):
record_question("lab01.ols", seed, namespace=globals(), out_dir=".cs109b/recording")
# in the grader:
outcome = replay_question("lab01.ols", seed, workdir)
outcome.passed, outcome.message
```
"""

import dataclasses
import threading

import numpy as np

from cs109b_bayes import seeds
from cs109b_bayes.grading.blame import misused_answer, student_frame
from cs109b_bayes.grading.effects import (
    apply_state, capture_state, gradient_sources, leaves, recorded_gradients, state_targets,
    with_gradients)
from cs109b_bayes.grading.expectations import CheckFailed, fresh_inputs
from cs109b_bayes.grading.recording import read_question, write_question
from cs109b_bayes.grading.registry import lookup
from cs109b_bayes.grading.serialize import MalformedRecording, compare, decode, encode, tensorflow_kind
from cs109b_bayes.inference.result import MCMCResult

__all__ = ["Outcome", "Recorder", "ReplayMismatch", "Replayer", "StudentError", "record_question",
           "replay_question", "round_seed"]

_REPLAY_LOCK = threading.Lock()      # fresh_inputs is process-wide: one replay at a time
_CLASSES = {"MCMCResult": MCMCResult}


class ReplayMismatch(Exception):
    """The check called an answer with other inputs, or more often, than the recording shows."""


class StudentError(Exception):
    """Replays an error the submission's code raised inside the sandbox."""


def round_seed(seed, question_id, round_index):
    """The seed of one question's fresh inputs in one grading round.

    Args:
        seed: the grading run's secret seed (an int).
        question_id: e.g. `"lab01.ols"`.
        round_index: 0, 1, ...

    Returns:
        An int below 2**63, independent for every question and round.

    #### Examples

    ```python
    from cs109b_bayes.grading.probe import round_seed
    round_seed(12345, "lab01.ols", 0) != round_seed(12345, "lab01.ols", 1)   # True
    ```
    """
    return seeds.sub_seed(seed, f"grading {question_id} round {round_index}")


class Recorder:
    """Wraps an answer inside the sandbox: calls it and appends what happened to the recording."""

    def __init__(self, fn, path, calls):
        self.fn, self.probe_path, self.calls = fn, path, calls

    @property
    def __globals__(self):
        # `using_references` swaps names in the answer's notebook globals; let it see them.
        return getattr(self.fn, "__globals__", None)

    def __repr__(self):
        return f"<recorded answer {self.probe_path}: {self.fn!r:.60}>"

    def __call__(self, *args, **kwargs):
        if self.calls.depth:        # called by another answer: part of that answer's call
            return self.fn(*args, **kwargs)
        call = {"path": self.probe_path, "args": encode(args), "kwargs": encode(kwargs)}
        self.calls.append(call)
        before = [(i, v.copy()) for i, v in enumerate(leaves(args, kwargs)) if isinstance(v, np.ndarray)]
        self.calls.depth += 1
        try:
            output, gradients = recorded_gradients(lambda: self.fn(*args, **kwargs),
                                                   gradient_sources(args, kwargs))
        except (Exception, SystemExit) as err:
            frame = student_frame(err)
            call["raised"] = {"type": type(err).__name__, "message": _message(err),
                              "where": f"in {frame.name}, line {frame.lineno}" if frame else ""}
            raise
        finally:
            self.calls.depth -= 1
            call["effects"] = [[i, capture_state(v)] for i, v in state_targets(args, kwargs)]
            call["mutated"] = _mutated(before, leaves(args, kwargs))
        if gradients is not None:
            call["gradients"] = [None if g is None else encode(g) for g in gradients]
        call["returned"], wrapped = self._returned(output)
        return wrapped

    def _returned(self, output):
        made = {}

        def wrap(fn):
            if id(fn) not in made:
                path = f"{self.probe_path}()#{self.calls.next_index(self.probe_path)}"
                made[id(fn)] = Recorder(fn, path, self.calls)
            return {"$": "callable", "path": made[id(fn)].probe_path}

        try:
            form = encode(output, on_callable=wrap)
        except Exception:  # noqa: BLE001  (an output whose conversion fails is recorded as unreadable)
            return {"$": "opaque", "type": type(output).__qualname__}, output
        return form, (_substitute(output, made) if made else output)


def _message(err):
    try:
        return str(err)[:2000]
    except Exception:  # noqa: BLE001  (an exception whose message itself fails)
        return "(no message)"


def _mutated(before, now):
    """True if an input array was written in place (or the arguments changed shape)."""
    try:
        return any(not np.array_equal(old, now[i], equal_nan=True) for i, old in before)
    except Exception:  # noqa: BLE001  (a container of the arguments was changed: count it as written)
        return True


def _substitute(value, made):
    if id(value) in made:
        return made[id(value)]
    if isinstance(value, (tuple, list)) and type(value) in (tuple, list):
        return type(value)(_substitute(item, made) for item in value)
    if isinstance(value, dict) and type(value) is dict:
        return {key: _substitute(item, made) for key, item in value.items()}
    return value


class _Calls(list):
    """The calls of one round, with the nesting depth and a counter of returned functions."""

    def __init__(self):
        super().__init__()
        self.depth, self.returned = 0, {}

    def next_index(self, path):
        self.returned[path] = self.returned.get(path, -1) + 1
        return self.returned[path]


def record_question(question_id, seed, *, namespace, out_dir, rounds=2):
    """Record, inside the sandbox, how the notebook's answers behave on the grader's inputs.

    Args:
        question_id: e.g. `"lab01.ols"`.
        seed: the grading run's secret seed.
        namespace: the notebook's globals, where the answers are looked up by name.
        out_dir: the recording folder (`write_question`).
        rounds: how many independent input seeds to record. Default value: 2.

    Returns:
        The path of the recording's JSON file.

    #### Examples

    ```python
    from cs109b_bayes.grading.probe import record_question
    record_question("lab01.ols", 12345, namespace=globals(), out_dir=".cs109b/recording")
    ```
    """
    spec = lookup(question_id)
    missing = [name for name in spec.answers if name not in namespace]
    found = {name: namespace[name] for name in spec.answers if name in namespace}
    answers = {name: ({"$": "callable", "path": name} if _wrappable(value) else encode(value))
               for name, value in found.items()}
    record = {"version": 1, "question": question_id, "missing": missing, "answers": answers, "rounds": []}
    blank = missing or any(value is Ellipsis for value in found.values())
    for index in range(0 if blank else rounds):
        calls = _Calls()
        wrapped = {name: Recorder(value, name, calls) if _wrappable(value) else value
                   for name, value in found.items()}
        try:
            with fresh_inputs(round_seed(seed, question_id, index)):
                spec.test(**wrapped)
        except (Exception, SystemExit):  # noqa: BLE001  (inside, pass or fail does not count)
            pass
        record["rounds"].append({"calls": list(calls)})
    return write_question(out_dir, record)


def _wrappable(value):
    return callable(value) and tensorflow_kind(value) is None and not isinstance(value, type)


@dataclasses.dataclass(frozen=True)
class Outcome:
    """How one question fared in the grader.

    Attributes:
        question: the question id.
        passed: True when every round passed.
        message: why it failed (empty when passed).
        kind: `"passed"`, `"failed"` (a check failed), `"student error"` (the answer raised),
            `"not answered"`, `"not recorded"`, `"mismatch"` (other inputs or more calls than
            recorded: tampered or non-deterministic), `"malformed"` (the recording),
            or `"internal error"` (the checker itself failed).
    """

    question: str
    passed: bool
    message: str = ""
    kind: str = "passed"


class Replayer:
    """Stands in for an answer outside the sandbox: returns what the submission returned."""

    def __init__(self, path, session):
        self.probe_path, self.session = path, session

    def __repr__(self):
        return f"<recorded answer {self.probe_path}>"

    def __call__(self, *args, **kwargs):
        return self.session.replay(self.probe_path, args, kwargs)


class _Session:
    def __init__(self, calls):
        self.calls, self.position = calls, 0

    def replayer(self, path):
        return Replayer(path, self)

    def replay(self, path, args, kwargs):
        if self.position >= len(self.calls):
            raise ReplayMismatch(f"{path} was called more often than the recording shows")
        call = self.calls[self.position]
        self.position += 1
        if call["path"] != path:
            raise ReplayMismatch(f"the check called {path} where the recording shows {call['path']}")
        for recorded, actual, what in ((call["args"], args, "arguments"), (call["kwargs"], kwargs, "keywords")):
            problem = compare(recorded, encode(actual), where=f"{path} {what}")
            if problem:
                earlier = any(c["mutated"] for c in self.calls[:self.position - 1])
                raise ReplayMismatch(problem + (" (an earlier call wrote into its input arrays)" if earlier else ""))
        targets = dict(state_targets(args, kwargs))
        if sorted(targets) != sorted(index for index, _ in call["effects"]):
            raise ReplayMismatch(f"{path}: the recorded state changes do not fit the arguments")
        for index, form in call["effects"]:
            apply_state(targets[index], form)
        if "raised" in call:
            raised = call["raised"]
            raise StudentError(f"your code raised {raised['type']}: {raised['message']}"
                               + (f" ({raised['where']})" if raised["where"] else ""))
        value = decode(call["returned"], on_callable=self.replayer, classes=_CLASSES)
        if call.get("gradients") is not None and tensorflow_kind(value) == "tensor":
            value = with_gradients(value, gradient_sources(args, kwargs), call["gradients"])
        return value


def _caused_by(err, kind):
    seen = []
    while err is not None and all(err is not e for e in seen):
        if isinstance(err, kind):
            return err
        seen.append(err)
        err = err.__cause__ or err.__context__
    return None


def _run_round(spec, answers, seed):
    """One round of the question's test outside: an `Outcome` if it did not pass, else None."""
    try:
        with fresh_inputs(seed):
            spec.test(**answers)
    except CheckFailed as err:
        return Outcome(spec.id, False, str(err), "failed")
    except Exception as err:  # noqa: BLE001  (sorted into the student's, the recording's, the checker's)
        for kind, label in ((ReplayMismatch, "mismatch"), (StudentError, "student error"),
                            (MalformedRecording, "malformed")):
            cause = _caused_by(err, kind)
            if cause is not None:
                prefix = "tampered or non-deterministic inputs: " if kind is ReplayMismatch else ""
                return Outcome(spec.id, False, prefix + str(cause), label)
        misuse = misused_answer(err, answers)
        if misuse:
            return Outcome(spec.id, False, misuse, "student error")
        return Outcome(spec.id, False, f"internal error in the check: {type(err).__name__}: {err}",
                       "internal error")
    return None


def replay_question(question_id, seed, workdir, *, rounds=2):
    """Score one question outside the sandbox from its recording.

    Args:
        question_id: e.g. `"lab01.ols"`.
        seed: the same secret seed the recording was made with.
        workdir: the submission's working folder, holding the recording in
            `cs109b_bayes.grading.recording.RECORDING_FOLDER`.
        rounds: how many rounds the question must pass (all recorded). Default value: 2.

    Returns:
        An `Outcome`.

    #### Examples

    ```python
    from cs109b_bayes.grading.probe import replay_question
    replay_question("lab01.ols", 12345, workdir).passed
    ```
    """
    spec = lookup(question_id)
    try:
        record = read_question(workdir, question_id, answers=spec.answers)
    except FileNotFoundError:
        return Outcome(question_id, False, "not recorded (the probe did not reach it)", "not recorded")
    except MalformedRecording as err:
        return Outcome(question_id, False, f"malformed recording: {err}", "malformed")
    blank = sorted(set(record["missing"]) | {name for name, form in record["answers"].items()
                                             if isinstance(form, dict) and form["$"] == "ellipsis"})
    if blank or set(record["answers"]) | set(record["missing"]) != set(spec.answers):
        return Outcome(question_id, False, f"{', '.join(blank) or 'answers'} not answered", "not answered")
    if len(record["rounds"]) < rounds:
        return Outcome(question_id, False, f"{len(record['rounds'])} of {rounds} rounds recorded", "not recorded")
    with _REPLAY_LOCK:
        for index in range(rounds):
            session = _Session(record["rounds"][index]["calls"])
            answers = {name: decode(form, on_callable=session.replayer, classes=_CLASSES)
                       for name, form in record["answers"].items()}
            failure = _run_round(spec, answers, round_seed(seed, question_id, index))
            if failure is None and session.position != len(session.calls):
                failure = Outcome(question_id, False, "tampered or non-deterministic inputs: the recording "
                                  f"shows {len(session.calls) - session.position} calls the check did not make",
                                  "mismatch")
            if failure is not None:
                return failure
    return Outcome(question_id, True)
