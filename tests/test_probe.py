"""Record / replay in one process: the score comes from replaying outside, and it cannot be forged.

`record_question` runs where the student's answers live (in grading: the sandboxed kernel);
`replay_question` scores from the recording alone, running no student code. Here both run in
the test process, so every path (pass, fail, blank, errors, tampering, malformed files,
state changes, gradients) is checked quickly; tests/test_attacks.py does it in the sandbox.
"""

import base64
import json
import os

import nbformat
import numpy as np
import pytest
from scipy import stats

from cs109b_bayes import course, grading
from cs109b_bayes.grading import recording, serialize
from cs109b_bayes.grading.flags import LIBRARY_SOLUTIONS, check_notebook
from cs109b_bayes.grading.probe import record_question, replay_question, round_seed
from cs109b_bayes.grading.recording import RECORDING_FOLDER, read_untrusted
from cs109b_bayes.grading.serialize import MalformedRecording

SEED = 20261121


def fit_ols(x, y):
    design = np.column_stack([np.ones_like(x), x])
    return np.linalg.lstsq(design, y, rcond=None)[0]


def resample(x, y, rng):
    idx = rng.integers(0, len(x), size=len(x))
    return x[idx], y[idx]


def ols_standard_errors(x, y):
    design = np.column_stack([np.ones_like(x), x])
    beta, rss, *_ = np.linalg.lstsq(design, y, rcond=None)
    return np.sqrt(np.diag(rss[0] / (len(x) - 2) * np.linalg.inv(design.T @ design)))


def percentile_interval(samples, level):
    tail = 100 * (1 - level) / 2
    return np.percentile(samples, [tail, 100 - tail], axis=0)


def log_prior(beta0, beta1, prior_sd):
    return stats.norm.logpdf([beta0, beta1], 0.0, prior_sd).sum()


def metropolis_step(beta, log_posterior, proposal_scale, rng):
    proposal = beta + proposal_scale * rng.normal(size=2)
    if np.log(rng.uniform()) < log_posterior(proposal) - log_posterior(beta):
        return proposal, True
    return beta, False


RIGHT = {"fit_ols": fit_ols, "resample": resample, "ols_standard_errors": ols_standard_errors,
         "percentile_interval": percentile_interval, "log_prior": log_prior, "metropolis_step": metropolis_step}


def roundtrip(question, namespace, tmp_path, *, seed=SEED, replay_seed=None):
    record_question(question, seed, namespace=namespace, out_dir=tmp_path / RECORDING_FOLDER)
    return replay_question(question, seed if replay_seed is None else replay_seed, tmp_path)


def recording_of(tmp_path, question):
    return tmp_path / RECORDING_FOLDER / f"{question}.json"


@pytest.mark.parametrize("question", ["lab01.ols", "lab01.resample", "lab01.ols_se", "lab01.interval",
                                      "lab02.log_prior"])
def test_correct_answers_pass_from_the_recording_alone(question, tmp_path):
    outcome = roundtrip(question, RIGHT, tmp_path)
    assert outcome.passed and outcome.kind == "passed", outcome


def test_two_rounds_use_independent_inputs(tmp_path):
    record_question("lab01.ols", SEED, namespace=RIGHT, out_dir=tmp_path / RECORDING_FOLDER)
    rounds = json.loads(recording_of(tmp_path, "lab01.ols").read_text())["rounds"]
    assert len(rounds) == 2 and rounds[0]["calls"] != rounds[1]["calls"]
    assert len({round_seed(SEED, q, r) for q in ("lab01.ols", "lab01.ols_se") for r in (0, 1)}) == 4


def test_a_wrong_answer_fails_with_the_questions_own_message(tmp_path):
    outcome = roundtrip("lab01.ols", {"fit_ols": lambda x, y: fit_ols(x, y)[::-1]}, tmp_path)
    assert not outcome.passed and outcome.kind == "failed"
    assert outcome.message.startswith("fit_ols(x, y) on 5 random points: expected")


def test_an_answer_wrong_only_on_the_second_round_fails(tmp_path, monkeypatch):
    calls = []

    def sometimes(x, y):        # right for the first round's two calls only
        calls.append(1)
        return fit_ols(x, y) if len(calls) <= 2 else fit_ols(x, y) + 1

    assert not roundtrip("lab01.ols", {"fit_ols": sometimes}, tmp_path).passed


def test_blank_missing_and_crashing_answers(tmp_path):
    assert roundtrip("lab01.ols", {}, tmp_path).kind == "not answered"
    blank = roundtrip("lab01.ols", {"fit_ols": ...}, tmp_path)
    assert blank.kind == "not answered" and "fit_ols" in blank.message
    returns_none = roundtrip("lab01.ols", {"fit_ols": lambda x, y: None}, tmp_path)
    assert returns_none.kind == "failed" and "not answered yet" in returns_none.message

    def crashes(x, y):
        return x / undefined_name  # noqa: F821

    crashed = roundtrip("lab01.ols", {"fit_ols": crashes}, tmp_path)
    assert crashed.kind == "student error" and "NameError" in crashed.message and "crashes" in crashed.message
    wrong_kind = roundtrip("lab01.ols", {"fit_ols": 3}, tmp_path)
    assert wrong_kind.kind == "student error" and "should be a function" in wrong_kind.message


def test_array_like_outputs_count_as_arrays_and_odd_ones_fail_cleanly(tmp_path):
    import pandas as pd

    assert roundtrip("lab01.ols", {"fit_ols": lambda x, y: pd.Series(fit_ols(x, y))}, tmp_path).passed

    class Broken:
        def __array__(self, *args, **kwargs):
            raise RuntimeError("no")

    outcome = roundtrip("lab01.ols", {"fit_ols": lambda x, y: Broken()}, tmp_path)
    assert outcome.kind == "failed" and "should be a number or array" in outcome.message


def test_a_recorded_state_must_fit_the_object():
    from cs109b_bayes.grading.effects import apply_state, capture_state

    with pytest.raises(MalformedRecording, match="recorded a rng state for a list"):
        apply_state([], capture_state(np.random.default_rng(0)))
    with pytest.raises(MalformedRecording, match="cannot apply"):
        apply_state(np.random.default_rng(0), {"$": "rng", "state": '{"bit_generator": "MT19937"}'})


def test_random_generator_state_is_carried_over(tmp_path):
    """resample draws from the question's generator: replay must continue where the answer left it."""
    record_question("lab01.resample", SEED, namespace=RIGHT, out_dir=tmp_path / RECORDING_FOLDER)
    calls = json.loads(recording_of(tmp_path, "lab01.resample").read_text())["rounds"][0]["calls"]
    assert calls[0]["effects"][0][1]["$"] == "rng"
    assert replay_question("lab01.resample", SEED, tmp_path).passed
    lazy = roundtrip("lab01.resample", {"resample": lambda x, y, rng: (x.copy(), y.copy())}, tmp_path)
    assert lazy.kind == "failed"


def test_another_seed_is_a_mismatch_not_a_pass(tmp_path):
    """Outputs recorded for inputs the grader did not choose (precomputed, or a guessed seed) fail."""
    outcome = roundtrip("lab01.ols", RIGHT, tmp_path, replay_seed=SEED + 1)
    assert outcome.kind == "mismatch" and "tampered or non-deterministic inputs" in outcome.message


def test_edited_recordings_are_caught(tmp_path):
    record_question("lab01.ols", SEED, namespace=RIGHT, out_dir=tmp_path / RECORDING_FOLDER)
    path = recording_of(tmp_path, "lab01.ols")
    original = json.loads(path.read_text())

    def replay_with(edit):
        data = json.loads(json.dumps(original))
        edit(data)
        path.write_text(json.dumps(data))
        return replay_question("lab01.ols", SEED, tmp_path)

    def drop_last_call(data):
        data["rounds"][0]["calls"].pop()

    def extra_call(data):
        data["rounds"][0]["calls"].append(data["rounds"][0]["calls"][0])

    def other_x(data):
        zeros = base64.b64encode(np.zeros(5).tobytes()).decode()
        data["rounds"][1]["calls"][0]["args"]["items"][0] = {
            "$": "array", "scalar": False, "value": {"dtype": "float64", "shape": [5], "data": zeros}}

    assert replay_with(drop_last_call).kind == "mismatch"
    assert replay_with(extra_call).kind == "mismatch"
    assert replay_with(other_x).kind == "mismatch"
    assert replay_with(lambda d: d.update(question="lab01.ols_se")).kind == "malformed"
    assert replay_with(lambda d: d["answers"].update(fit_ols={"$": "pickle"})).kind == "malformed"
    assert replay_with(lambda d: d["answers"].update(other={"$": "ellipsis"})).kind == "malformed"
    path.write_text("{not json")
    assert replay_question("lab01.ols", SEED, tmp_path).kind == "malformed"
    path.unlink()
    assert replay_question("lab01.ols", SEED, tmp_path).kind == "not recorded"


def test_only_safe_files_are_read(tmp_path):
    """Links, FIFOs and oversized files in the submission's folder are refused, never followed."""
    secret = tmp_path / "instructor.json"
    secret.write_text('{"version": 1}')
    folder = tmp_path / "work" / RECORDING_FOLDER
    folder.mkdir(parents=True)
    (folder / "lab01.ols.json").symlink_to(secret)
    assert replay_question("lab01.ols", SEED, tmp_path / "work").kind == "malformed"
    (folder / "lab01.ols.json").unlink()
    os.mkfifo(folder / "lab01.ols.json")                 # would block a naive reader forever
    assert replay_question("lab01.ols", SEED, tmp_path / "work").kind == "malformed"
    linked = tmp_path / "linked"
    linked.mkdir()
    (linked / ".cs109b").symlink_to(tmp_path / "work" / ".cs109b")    # a linked folder on the way
    with pytest.raises(MalformedRecording):
        read_untrusted(linked, f"{RECORDING_FOLDER}/lab01.ols.json", max_bytes=100)
    (tmp_path / "big").write_bytes(b"x" * 101)
    with pytest.raises(MalformedRecording, match="more than 100"):
        read_untrusted(tmp_path, "big", max_bytes=100)
    with pytest.raises(ValueError):
        read_untrusted(tmp_path, "../etc/passwd", max_bytes=100)


def test_writing_into_the_inputs_does_not_move_the_reference(tmp_path):
    """lab11.interpolate computes its reference after the call: zeroing the inputs must not pass, live or graded."""
    def interpolate(z_start, z_end, num_points):
        t = np.linspace(0.0, 1.0, num_points)[:, None]
        return z_start + t * (z_end - z_start)

    def vandal(z_start, z_end, num_points):
        z_start[:] = 0.0
        z_end[:] = 0.0
        return np.zeros((num_points, len(z_start)))

    assert roundtrip("lab11.interpolate", {"interpolate": interpolate}, tmp_path).passed
    live = grading.check("lab11.interpolate", interpolate=vandal)
    assert not live.passed      # the live check passes copies ...
    assert roundtrip("lab11.interpolate", {"interpolate": vandal}, tmp_path).kind == "failed"   # ... the grader too
    assert json.loads(recording_of(tmp_path, "lab11.interpolate").read_text())["rounds"][0]["calls"][0]["mutated"]


def test_a_posterior_summary_answer_is_rebuilt_as_an_mcmc_result(tmp_path):
    import cs109b_bayes as cb

    ads = cb.data.advertising()
    exact = cb.models.conjugate_linear_posterior(ads.x, ads.y, noise_sd=ads.truth["sigma"], prior_sd=10.0)
    draws = np.random.default_rng(0).multivariate_normal(exact.mean, exact.cov, size=(2, 2000))
    result = cb.MCMCResult.from_draws({"beta0": draws[..., 0], "beta1": draws[..., 1]}, kernel="mine")
    assert roundtrip("lab02.posterior_summary", {"result": result}, tmp_path).passed
    shifted = cb.MCMCResult.from_draws({"beta0": draws[..., 0] + 1, "beta1": draws[..., 1]})
    assert roundtrip("lab02.posterior_summary", {"result": shifted}, tmp_path).kind == "failed"
    assert roundtrip("lab02.posterior_summary", {"result": ...}, tmp_path).kind == "not answered"


@pytest.mark.slow
def test_metropolis_step_passes_and_a_greedy_one_fails(tmp_path):
    assert roundtrip("lab02.metropolis_step", RIGHT, tmp_path).passed

    def greedy(beta, log_posterior, proposal_scale, rng):
        proposal = beta + proposal_scale * rng.normal(size=2)
        return (proposal, True) if log_posterior(proposal) > log_posterior(beta) else (beta, False)

    assert roundtrip("lab02.metropolis_step", {"metropolis_step": greedy}, tmp_path).kind == "failed"


def test_serialize_round_trip_of_safe_data():
    value = (1, 2.5, "text", None, True, ..., [np.arange(3), np.float32(1.5)],
             {"a": np.zeros((2, 2), bool), 3: (np.int64(7),)}, np.random.default_rng(1))
    arrays = {}
    text = serialize.dumps(serialize.encode(value), arrays)
    back = serialize.decode(recording.from_json(json.loads(text), arrays), on_callable=None)
    assert back[:6] == (1, 2.5, "text", None, True, ...)
    assert np.array_equal(back[6][0], np.arange(3)) and back[6][1] == np.float32(1.5)
    assert type(back[6][1]) is np.float32 and isinstance(back[6], list)
    assert np.array_equal(back[7]["a"], np.zeros((2, 2), bool)) and back[7][3] == (7,)
    assert isinstance(back[8], serialize.Opaque)          # a generator is compared, never rebuilt
    big = np.arange(10_000.0)
    arrays = {}
    form = json.loads(serialize.dumps(serialize.encode(big), arrays))
    assert "ref" in form["value"] and np.array_equal(recording.from_json(form, arrays)["value"], big)
    assert serialize.encode(np.array(["a"], dtype=object))["$"] == "opaque"
    assert serialize.encode(fit_ols) == {"$": "callable", "name": "fit_ols"}


@pytest.mark.parametrize("data, match", [
    ({"$": "pickle", "items": []}, "unknown value"),
    ({"$": "tuple"}, "without"),
    ({"$": "array", "scalar": False, "value": {"dtype": "object", "shape": [1], "data": ""}}, "dtype"),
    ({"$": "array", "scalar": False, "value": {"dtype": "float64", "shape": [3], "data": "AAAA"}}, "shape"),
    ({"$": "array", "scalar": False, "value": {"dtype": "float64", "shape": [3], "data": "!!"}}, "base64"),
    ({"$": "array", "scalar": False, "value": {"dtype": "float64", "shape": [3], "ref": "a0"}}, "missing"),
    ({"$": "dict", "items": [[{"$": "list", "items": []}, 1]]}, "key"),
    ("x" * 20_000, "longer"),
])
def test_malformed_forms_are_refused(data, match):
    with pytest.raises(MalformedRecording, match=match):
        recording.from_json(data, {})


def test_deep_nesting_is_refused():
    data = {"$": "ellipsis"}
    for _ in range(60):
        data = {"$": "list", "items": [data]}
    with pytest.raises(MalformedRecording, match="nested"):
        recording.from_json(data, {})


def test_compare_is_tight_but_not_bitwise():
    a = serialize.encode((np.linspace(0, 1, 5), 2.0, "x"))
    assert serialize.compare(a, serialize.encode((np.linspace(0, 1, 5) * (1 + 1e-12), 2.0, "x"))) is None
    assert "values differ" in serialize.compare(a, serialize.encode((np.linspace(0, 1, 5) + 1e-3, 2.0, "x")))
    assert serialize.compare(a, serialize.encode((np.linspace(0, 1, 5), 2.0, "y")))
    assert serialize.compare(a, serialize.encode([np.linspace(0, 1, 5), 2.0, "x"]))   # list vs tuple


# --- flags: answers that call the package's own solution, and suspicious code -------------------

def notebook(*sources):
    return nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])


def lab_questions(lab):
    return [grading.lookup(q) for q in grading.questions(lab)]


@pytest.mark.parametrize("cells", [
    ["import cs109b_bayes as cb", "def resample(x, y, rng):\n    return cb.bootstrap(lambda a, b: (a, b), x, y)"],
    ["from cs109b_bayes import bootstrap as bs", "def resample(x, y, rng):\n    return bs(None, x, y)"],
    ["def resample(x, y, rng):\n    from cs109b_bayes.inference import bootstrap\n    return bootstrap(x, y)"],
    ["import cs109b_bayes as cb", "def helper(x, y):\n    return cb.bootstrap(x, y)",
     "def resample(x, y, rng):\n    return helper(x, y)"],
    ["import cs109b_bayes as cb", "def resample(x, y, rng):\n    return getattr(cb, 'bootstrap')(x, y)"],
    ["import cs109b_bayes as cb", "resample = cb.bootstrap"],
])
def test_an_answer_calling_the_library_solution_scores_zero(cells):
    flags = check_notebook(notebook(*cells), lab_questions("lab01"))
    assert list(flags.zeroed) == ["lab01.resample"]
    assert "cs109b_bayes" in flags.zeroed["lab01.resample"] and "bootstrap" in flags.zeroed["lab01.resample"]


def test_own_code_with_the_same_name_is_not_flagged():
    flags = check_notebook(notebook(
        "import cs109b_bayes as cb\nimport numpy as np",
        "def bootstrap(x):\n    return x",                         # the student's own helper of that name
        "def resample(x, y, rng):\n    i = rng.integers(0, len(x), len(x))\n    return bootstrap(x[i]), y[i]",
        "betas = cb.bootstrap(fit_ols, x, y, num_resamples=10, seed=1)",   # the lab's own use, elsewhere
        "%time resample(1, 2, 3)\n!ls"), lab_questions("lab01"))
    assert flags.zeroed == {}
    assert flags.suspicious == ("cell 4: runs shell commands",)


def test_suspicious_code_is_flagged_not_zeroed():
    flags = check_notebook(notebook(
        "import sys, ctypes, gc",
        "sys.modules['cs109b_bayes.grading'] = None",
        "import cs109b_bayes.grading.registry as r\nr.lookup",
        "def fit_ols(x, y):\n    return sys._getframe(1).f_locals['expected']",
        "open('/proc/1/environ').read()",
        "exec('x = 1')",
        "def broken(:"), lab_questions("lab01"))
    assert flags.zeroed == {}
    text = "\n".join(flags.suspicious)
    for expected in ("cell 0: uses ctypes", "cell 1: edits sys.modules", "cell 2: uses the grading internals",
                     "cell 3: inspects stack frames", "cell 4: reads /proc", "cell 5: runs generated code",
                     "cell 6: does not parse"):
        assert expected in text, text


@pytest.mark.slow
def test_every_question_has_a_row_in_the_table():
    labs = [f"lab{source.stem[:2]}" for source in course.find_labs()]
    assert set(LIBRARY_SOLUTIONS) == {q for lab in labs for q in grading.questions(lab)}


@pytest.mark.slow
@pytest.mark.parametrize("source", course.find_labs(), ids=lambda p: p.stem[:2])
def test_the_lab_solutions_and_student_copies_are_never_zeroed(source):
    specs = lab_questions(f"lab{source.stem[:2]}")
    for solution in (True, False):
        flags = check_notebook(course.make_notebook(source, solution=solution), specs)
        assert flags.zeroed == {} and flags.suspicious == (), (solution, flags)



# --- TensorFlow answers: tensors, gradients, returned functions, models changed in place ----------

def tensorflow_answers():
    import tensorflow as tf
    import tensorflow_probability as tfp

    import cs109b_bayes as cb

    gap = cb.data.sin_gap()
    reference = cb.models.gap5_log_prob(gap.x, gap.y, noise_sd=gap.truth["sigma"],
                                        prior_sd=cb.models.GAP5_PRIOR_SD, backend="tensorflow")

    def train_step(x, eps, encoder, decoder, optimizer):
        with tf.GradientTape() as tape:
            z_mean, z_log_var = encoder(x, training=True)
            logits = decoder(z_mean + tf.exp(0.5 * z_log_var) * eps, training=True)
            reconstruction = tf.reduce_sum(tf.nn.softplus(logits) - x * logits, axis=-1)
            kl = 0.5 * tf.reduce_sum(tf.exp(z_log_var) + z_mean**2 - 1.0 - z_log_var, axis=-1)
            loss = tf.reduce_mean(reconstruction + kl)
        variables = encoder.trainable_variables + decoder.trainable_variables
        optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
        return loss, tf.reduce_mean(reconstruction), tf.reduce_mean(kl)

    def elbo_estimate(q_mean, q_sd, eps, x, y, noise_sd, prior_sd):
        w = q_mean[None, :] + q_sd[None, :] * eps
        mu = w[:, 0:1] + w[:, 1:2] * x[None, :]
        log_lik = tf.reduce_sum(-0.5 * ((y[None, :] - mu) / noise_sd) ** 2 - np.log(noise_sd)
                                - 0.5 * np.log(2 * np.pi), axis=1)
        kl = tf.reduce_sum(tf.math.log(prior_sd / q_sd) + q_sd**2 / (2 * prior_sd**2)
                           + q_mean**2 / (2 * prior_sd**2) - 0.5)
        return tf.reduce_mean(log_lik) - kl

    return {
        "lab10.reparameterize": {"reparameterize": lambda m, lv, e: m + tf.exp(0.5 * lv) * e},
        "lab10.kl_divergence": {"kl_divergence": lambda m, lv: 0.5 * tf.reduce_sum(
            tf.exp(lv) + m**2 - 1.0 - lv, axis=-1)},
        "lab10.train_step": {"train_step": train_step},
        "lab07.scaled_kl": {"make_divergence_fn": lambda n: lambda q, p, _: tfp.distributions.kl_divergence(q, p) / n},
        "lab12.encode_repeatedly": {"encode_repeatedly": lambda enc, x, n: tf.stack([enc(x)[0] for _ in range(n)])},
        "lab04.log_posterior_tf": {"log_posterior_tf": lambda **w: reference(**w)},
        "lab05.elbo_estimate": {"elbo_estimate": elbo_estimate},
        "lab09.sample_hidden": {"sample_hidden": lambda loc, scale, seed: loc + scale * tf.random.stateless_normal(
            tf.shape(loc), seed=seed)},
    }


def tensorflow_mistakes():
    import tensorflow as tf
    import tensorflow_probability as tfp

    def lazy_step(x, eps, encoder, decoder, optimizer):       # right numbers, but never steps
        z_mean, z_log_var = encoder(x)
        logits = decoder(z_mean + tf.exp(0.5 * z_log_var) * eps)
        rec = tf.reduce_sum(tf.nn.softplus(logits) - x * logits, axis=-1)
        kl = 0.5 * tf.reduce_sum(tf.exp(z_log_var) + z_mean**2 - 1.0 - z_log_var, axis=-1)
        return tf.reduce_mean(rec + kl), tf.reduce_mean(rec), tf.reduce_mean(kl)

    return {
        "lab10.reparameterize": ({"reparameterize": lambda m, lv, e: m.numpy() + np.exp(0.5 * lv.numpy()) * e.numpy()},
                                 "no gradient flows"),
        "lab10.train_step": ({"train_step": lazy_step}, "after one SGD step"),
        "lab07.scaled_kl": ({"make_divergence_fn": lambda n: lambda q, p, _: tfp.distributions.kl_divergence(q, p)},
                            "make_divergence_fn"),
        "lab12.encode_repeatedly": ({"encode_repeatedly": lambda enc, x, n: tf.stack([enc(x)[0]] * n)},
                                    "called 1 times"),
        "lab09.sample_hidden": ({"sample_hidden": lambda loc, scale, seed: loc + scale * tf.stop_gradient(
            tf.random.stateless_normal(tf.shape(loc), seed=seed)) * 0 + tf.stop_gradient(loc)}, ""),
    }


@pytest.mark.slow
@pytest.mark.parametrize("question", ["lab10.reparameterize", "lab10.kl_divergence", "lab10.train_step",
                                      "lab07.scaled_kl", "lab12.encode_repeatedly", "lab04.log_posterior_tf",
                                      "lab05.elbo_estimate", "lab09.sample_hidden"])
def test_tensorflow_answers_replay_with_their_gradients_and_state_changes(question, tmp_path):
    outcome = roundtrip(question, tensorflow_answers()[question], tmp_path, seed=7)
    assert outcome.passed, outcome
    mistakes = tensorflow_mistakes()
    if question in mistakes:
        answers, message = mistakes[question]
        live = grading.check(question, **answers)
        outcome = roundtrip(question, answers, tmp_path, seed=7)
        assert not live.passed and not outcome.passed and message in outcome.message, (live, outcome)
