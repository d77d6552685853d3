"""The store-level jobs from Python (driftrec.train, predict, evaluate, factorize,
propagate_store, recommend, similar_items, generate, Store.reslice) give what the driftrec
CLI gives for the same store and options: both call the same pipeline functions. Each
comparison runs the CLI on a copy of the store (or on the same store for the read-only
jobs) and compares the --json output with the Python result, timing keys dropped after
checking they are there. The store is a small synthetic one (300 users, 8 periods)
written by driftrec.generate and ingested by the CLI."""

import hashlib
import inspect
import json
import re
import shutil
import subprocess

import numpy as np
import pytest

import driftrec
from conftest import CLI, largest_gap_while

TIMING_KEYS = {"seconds", "cpu_seconds", "wall_seconds", "run"}


def run_cli(*args):
    done = subprocess.run([str(CLI), *map(str, args)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return done.stdout


def cli_json(*args):
    return json.loads(run_cli(*args, "--json"))


def cli_args(options):
    """Keyword arguments as the CLI's options: learning_rate=0.1 -> --learning-rate 0.1."""
    return [a for k, v in options.items() for a in (f"--{k.replace('_', '-')}", v)]


def untimed(report, keys=TIMING_KEYS):
    """The report without its wall-clock keys (at any depth)."""
    if isinstance(report, dict):
        return {k: untimed(v, keys) for k, v in report.items() if k not in keys}
    if isinstance(report, list):
        return [untimed(v, keys) for v in report]
    return report


def digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def synth(tmp_path_factory, cli):
    """(folder with the generated files, the ingested store)."""
    root = tmp_path_factory.mktemp("jobs")
    meta = driftrec.generate(root / "synth", users=300, items=200, labels=8, periods=8, seed=7)
    store = root / "store.h5"
    run_cli("ingest", root / "synth" / "events.csv", "--labels", root / "synth" / "labels.csv", "--slice",
            f"{meta['period_seconds']}s", "-o", store)
    return root / "synth", store


@pytest.fixture
def store(synth, tmp_path):
    """A fresh copy of the synthetic store for a test that writes it."""
    copy = tmp_path / "store.h5"
    shutil.copyfile(synth[1], copy)
    return copy


def copy_of(path, name):
    other = path.parent / name
    shutil.copyfile(path, other)
    return other


# ---- names and defaults ----

CLI_COMMAND = {"train": "train", "predict": "predict", "evaluate": "evaluate", "factorize": "factorize",
               "propagate_store": "propagate", "recommend": "recommend", "similar_items": "similar-items",
               "generate": "generate", "reslice": "reslice"}


def cli_options(command):
    """{option name: default text or None} from `driftrec <command> --help`."""
    options = {}
    for line in run_cli(command, "--help").splitlines():
        m = re.match(r"\s+((?:-\w,)?--[\w-]+)(?: (\w+)(?:=(\S+))?)?", line)
        if m:
            options[m.group(1).split("--")[-1]] = m.group(3)
    return options


@pytest.mark.parametrize("function", sorted(CLI_COMMAND))
def test_keyword_arguments_are_the_cli_options_with_its_defaults(function, cli):
    options = cli_options(CLI_COMMAND[function])
    parameters = inspect.signature(getattr(driftrec, function)).parameters
    for name, p in parameters.items():
        if name in ("store", "user", "item"):  # positionals / --user, --item: required
            continue
        option = name.replace("_", "-")
        assert option in options, f"driftrec.{function}({name}=...) is not an option of driftrec {CLI_COMMAND[function]}"
        shown = options[option]
        if p.default is inspect.Parameter.empty or p.default is None or shown is None:
            continue
        if isinstance(p.default, tuple):
            assert shown == ",".join(map(str, p.default)), name
        elif isinstance(p.default, float):
            assert float(shown) == pytest.approx(p.default, rel=1e-6), name
        elif isinstance(p.default, bool):
            continue
        else:
            assert shown == str(p.default), name


# ---- the jobs against the CLI ----

def test_generate_equals_cli(tmp_path, cli):
    options = dict(users=50, items=40, labels=5, periods=4, seed=3)
    ours = driftrec.generate(tmp_path / "py", **options)
    theirs = cli_json("generate", "-o", tmp_path / "cli", *cli_args(options))
    assert "run" in ours and "seconds" in ours["run"]
    ours["ingest"] = ours["ingest"].replace(str(tmp_path / "py"), str(tmp_path / "cli"))  # names the folder
    assert untimed(ours, {"run"}) == untimed(theirs, {"run"})
    for name in ("events.csv", "labels.csv", "truth.csv"):
        assert (tmp_path / "py" / name).read_bytes() == (tmp_path / "cli" / name).read_bytes(), name


def test_evaluate_equals_cli_json(synth, cli, tmp_path):
    folder, store = synth
    before = digest(store)
    ours = driftrec.evaluate(store, test_periods=2, k=(5, 10), seed=3, truth=folder / "truth.csv", threads=1)
    run_cli("evaluate", store, "--test-periods", 2, "--k", "5,10", "--seed", 3, "--truth", folder / "truth.csv",
            "--threads", 1, "--json", tmp_path / "report.json")
    theirs = json.loads((tmp_path / "report.json").read_text())
    assert "wall_seconds" in ours and "seconds" in ours
    assert untimed(ours) == untimed(theirs)
    assert ours["test_periods"] and ours["results"]
    assert digest(store) == before  # evaluation only reads


def test_train_and_predict_equal_cli_and_are_deterministic(store, cli):
    options = dict(epochs=6, hidden=8, factors=4, patience=6, seed=11)
    other = copy_of(store, "other.h5")
    ours = driftrec.train(store, **options)
    theirs = cli_json("train", other, *cli_args(options))
    assert ours["seconds"] > 0
    assert untimed(ours, {"seconds", "store"}) == untimed(theirs, {"seconds", "store"})
    assert ours["epochs_run"] == 6 and ours["result"] == "sequence"

    # The same seed in another process wrote the same predictions.
    full = driftrec.predict(store)
    again = driftrec.predict(other)
    np.testing.assert_array_equal(full.interests, again.interests)
    assert full.interests.shape == (300, 8) and full.interests.dtype == np.float32
    np.testing.assert_allclose(full.interests.sum(axis=1), 1, rtol=1e-5)
    assert list(full.labels) == list(driftrec.Store(store).labels)

    for user in ("u1", "u17", "u299"):
        p = driftrec.predict(store, user, top=4)
        cli_p = cli_json("predict", store, "--user", user, "--top", 4)
        assert p.user == cli_p["user"] and p.model == cli_p["model"] == "sequence"
        assert list(p.labels) == [x["label"] for x in cli_p["labels"]]
        np.testing.assert_array_equal(p.probabilities, np.array([x["probability"] for x in cli_p["labels"]], np.float32))
        assert list(p.new) == [x["new"] for x in cli_p["labels"]]
        # The top labels are the user's row of the stored matrix, ranked by probability, a
        # new label's times the result's boost.
        row = full.interests[list(full.users).index(user)]
        column = {label: k for k, label in enumerate(full.labels)}
        np.testing.assert_array_equal(p.probabilities, row[[column[label] for label in p.labels]])
        rank = p.probabilities * np.where(p.new, np.float32(full.new_label_boost), np.float32(1))
        assert np.all(np.diff(rank) <= 0)
        assert full.new_label_boost >= 1 and rank[0] >= row.max()

    # Another seed trains another model.
    driftrec.train(other, **{**options, "seed": 12})
    assert not np.array_equal(driftrec.predict(other).interests, full.interests)


def test_factorize_recommend_similar_items_equal_cli(store, cli):
    other = copy_of(store, "other.h5")
    options = dict(factors=8, iterations=4, eta=1, gamma=0.5, seed=5, keep_items="all")
    s = driftrec.Store(store)
    ours = driftrec.factorize(s, **options)
    theirs = cli_json("factorize", other, *cli_args(options))
    assert untimed(ours, {"seconds", "store"}) == untimed(theirs, {"seconds", "store"})
    assert "als" in s.results  # the Store object was reopened on the rewritten file
    for user in ("u3", "u150"):
        assert driftrec.recommend(s, user, k=7) == cli_json("recommend", store, "--user", user, "--k", 7)
        assert driftrec.recommend(store, user, k=5, include_seen=True, period=6) == cli_json(
            "recommend", store, "--user", user, "--k", 5, "--include-seen", "--period", 6)
    for item in ("i0", "i42"):
        got = driftrec.similar_items(store, item, k=6)
        assert got == cli_json("similar-items", store, "--item", item, "--k", 6)
        assert len(got["items"]) == 6 and got["items"][0]["cosine"] >= got["items"][-1]["cosine"]
    s.close()


def test_recommend_by_the_sequence_model_equals_cli(store, cli):
    driftrec.train(store, epochs=3, hidden=8, factors=4, seed=2)
    assert driftrec.recommend(store, "u8", k=5, model="sequence") == cli_json(
        "recommend", store, "--user", "u8", "--k", 5, "--model", "sequence")


@pytest.mark.parametrize("method,options", [
    ("label", dict(keep="last:2", alpha=0.7, mu=0.3)),
    ("rp3beta", dict(beta=0.3, neighbours=20, top=5)),
    ("ppr", dict(restart=0.3, top=5)),
])
def test_propagate_store_equals_cli(store, cli, method, options):
    other = copy_of(store, "other.h5")
    ours = driftrec.propagate_store(store, method=method, **options)
    theirs = cli_json("propagate", other, "--method", method,
                      *cli_args(options))
    assert untimed(ours, {"seconds", "store"}) == untimed(theirs, {"seconds", "store"})
    assert method in driftrec.Store(store).results


def test_reslice_equals_cli_and_reopens_the_store(store, cli):
    other = copy_of(store, "other.h5")
    s = driftrec.Store(store)
    driftrec.factorize(s, factors=4, iterations=1)
    run_cli("factorize", other, "--factors", 4, "--iterations", 1)
    assert s.n_slices == 8
    ours = s.reslice("7776000s")
    theirs = cli_json("reslice", other, "--slice", "7776000s")
    assert untimed(ours, {"seconds", "store"}) == untimed(theirs, {"seconds", "store"})
    assert ours["dropped_results"] == ["als"]
    assert s.n_slices == ours["slices"] < 8 and s.results == []
    assert len(s.periods.begin) == s.n_slices
    s.close()


# ---- each option changes what it should ----

def rows(report, model=None):
    """{(model, task, metric): (value, ci95, users)} of a report's results."""
    return {(r["model"], r["task"], r["metric"]): (r["value"], r["ci95"], r["users"]) for r in report["results"]
            if model is None or r["model"] == model}


def test_evaluate_models_gives_only_those_rows_as_the_full_run_scores_them(synth, cli, tmp_path):
    _, store = synth
    common = dict(test_periods=2, k=10, seed=4, threads=1)
    full = driftrec.evaluate(store, **common)
    some = driftrec.evaluate(store, models=["recent_popularity", "ewma", "item_knn"], **common)
    assert {r["model"] for r in some["results"]} == {"recent_popularity", "ewma", "item_knn"}
    assert {r["model"] for r in full["results"]} > {"recent_popularity", "ewma", "item_knn", "sequence_gru"}
    # The periods are split as for every row: the same pairs, the same values and intervals.
    for model in ("recent_popularity", "ewma", "item_knn"):
        assert rows(some, model) == rows(full, model) != {}
    assert driftrec.evaluate(store, models="ewma", **common)["results"] == [
        r for r in some["results"] if r["model"] == "ewma"]
    run_cli("evaluate", store, "--test-periods", 2, "--k", 10, "--seed", 4, "--threads", 1,
            "--models", "recent_popularity,ewma,item_knn", "--json", tmp_path / "report.json")
    assert untimed(some) == untimed(json.loads((tmp_path / "report.json").read_text()))
    assert full["train_users"] == some["train_users"] == 0
    assert "tuning" not in full


def test_evaluate_train_users_changes_the_sequence_rows_only_and_is_recorded(synth, cli, tmp_path):
    _, store = synth  # 300 users
    common = dict(test_periods=1, k=10, seed=2, threads=1, models=["recent_popularity", "sequence_gru"])
    every = driftrec.evaluate(store, **common)
    sample = driftrec.evaluate(store, train_users=60, **common)
    assert (every["train_users"], sample["train_users"]) == (0, 60)
    assert rows(sample, "recent_popularity") == rows(every, "recent_popularity") != {}
    gru_every, gru_sample = rows(every, "sequence_gru"), rows(sample, "sequence_gru")
    assert gru_every.keys() == gru_sample.keys() and gru_every
    assert any(gru_every[key][0] != gru_sample[key][0] for key in gru_every)
    # A cap at or above the store's users changes nothing.
    assert untimed(driftrec.evaluate(store, train_users=300, **common), {"seconds", "cpu_seconds", "wall_seconds",
                                                                          "train_users"}) == \
        untimed(every, {"seconds", "cpu_seconds", "wall_seconds", "train_users"})
    run_cli("evaluate", store, "--test-periods", 1, "--k", 10, "--seed", 2, "--threads", 1,
            "--models", "recent_popularity,sequence_gru", "--train-users", 60, "--json", tmp_path / "report.json")
    assert untimed(sample) == untimed(json.loads((tmp_path / "report.json").read_text()))


def test_evaluate_tune_budget_tunes_the_sequence_models_first_and_says_so(synth):
    _, store = synth
    common = dict(test_periods=1, k=10, threads=1, models=["sequence_gru"])
    tuned = driftrec.evaluate(store, tune_budget=1, **common)
    assert "tuning" not in driftrec.evaluate(store, **common)
    sequence = tuned["tuning"]["sequence"]
    assert sequence["budget_seconds"] == 1 and sequence["trials"]
    assert set(sequence["chosen"]) <= {"hidden", "window", "learning_rate"} and sequence["chosen"]


def test_propagate_store_low_memory_gives_the_same_results_bit_for_bit(store, cli):
    runs = {}
    for low_memory in (None, True, False):
        other = copy_of(store, f"low_memory_{low_memory}.h5")
        summary = driftrec.propagate_store(other, low_memory=low_memory, threads=2)
        runs[low_memory] = (untimed(summary, {"seconds", "store"}), driftrec.load_propagation(other))
    cli_store = copy_of(store, "cli.h5")
    run_cli("propagate", cli_store, "--low-memory", "--threads", 2)
    runs["cli"] = (None, driftrec.load_propagation(cli_store))
    base_summary, base = runs[None]
    assert len(base) == 8 and base.iterations.sum() > 8
    for key, (summary, result) in runs.items():
        if summary is not None:
            assert summary == base_summary, key
        np.testing.assert_array_equal(result.iterations, base.iterations)
        np.testing.assert_array_equal(result.residual, base.residual)
        for a, b in zip(result.interests, base.interests):
            np.testing.assert_array_equal(a, b)


def test_propagate_store_reorder_on_and_off_agree_up_to_rounding_and_equal_the_cli(store, cli):
    results = {}
    for reorder in ("on", "off"):
        ours, theirs = copy_of(store, f"py_{reorder}.h5"), copy_of(store, f"cli_{reorder}.h5")
        driftrec.propagate_store(ours, reorder=reorder, tolerance=1e-7, threads=1)
        run_cli("propagate", theirs, "--reorder", reorder, "--tolerance", 1e-7, "--threads", 1)
        results[reorder] = driftrec.load_propagation(ours)
        for a, b in zip(results[reorder].interests, driftrec.load_propagation(theirs).interests):
            np.testing.assert_array_equal(a, b)
    for a, b in zip(results["on"].interests, results["off"].interests):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-5)


def test_factorize_verbose_reports_the_last_sweeps_objective_as_the_cli(store, cli):
    other = copy_of(store, "other.h5")
    options = dict(factors=4, iterations=3, seed=1, name="v")
    assert driftrec.factorize(store, **options)["final_loss"] is None
    ours = driftrec.factorize(store, verbose=True, **options)
    done = subprocess.run([str(CLI), "factorize", other, *map(str, cli_args(options)), "--verbose", "--json"],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    theirs = json.loads(done.stdout)
    assert ours["final_loss"] > 0 and ours["final_loss"] == theirs["final_loss"]
    last_line = [line for line in done.stderr.splitlines() if line.startswith("period")][-1]
    assert float(last_line.split("loss")[1].split()[0]) == pytest.approx(ours["final_loss"], rel=1e-5)


# ---- errors ----

BAD = [
    ("train", dict(hidden=0), "hidden"),
    ("train", dict(epochs=-1), "epochs"),
    ("train", dict(cell="rnn"), "cell"),
    ("train", dict(learning_rate="fast"), "learning_rate"),
    ("train", dict(hidden=2.5), "hidden"),
    ("train", dict(seed=True), "seed"),
    ("train", dict(threads=-2), "threads"),
    ("train", dict(name="a/b"), "a/b"),
    ("train", dict(window=2**40), "window"),
    ("factorize", dict(factors=0), "factors"),
    ("factorize", dict(solver="lu"), "solver"),
    ("factorize", dict(keep_items="first:1"), "keep_items"),
    ("propagate_store", dict(method="walk"), "method"),
    ("propagate_store", dict(keep="last:x"), "keep"),
    ("propagate_store", dict(mu=1.5), "mu"),
    ("evaluate", dict(test_periods=0), "test-periods"),
    ("evaluate", dict(k=[10, "a"]), "k[1]"),
    ("evaluate", dict(train_users=-1), "train_users"),
    ("evaluate", dict(train_users=1.5), "train_users"),
    ("evaluate", dict(tune_budget=-1.0), "tune_budget"),
    ("evaluate", dict(tune_budget=float("nan")), "tune_budget"),
    ("evaluate", dict(tune_budget="10s"), "tune_budget"),
    ("evaluate", dict(models=["recent_popularity", "gru"]), "models: no row named 'gru'"),
    ("evaluate", dict(models=[3]), "models[0]"),
    ("factorize", dict(verbose=1), "verbose"),
    ("propagate_store", dict(low_memory="on"), "low_memory"),
    ("propagate_store", dict(reorder="yes"), "reorder: expected 'auto', 'on' or 'off'"),
    ("propagate_store", dict(reorder=True), "reorder"),
]


@pytest.mark.parametrize("job,options,named", BAD, ids=[f"{j}-{n}" for j, _, n in BAD])
def test_bad_arguments_raise_input_error_and_leave_the_store(store, job, options, named):
    before = digest(store)
    with pytest.raises(driftrec.InputError) as error:
        getattr(driftrec, job)(store, **options)
    assert named in str(error.value)
    assert isinstance(error.value, ValueError)
    assert digest(store) == before


def test_bad_ids_and_models_name_what_is_missing(store):
    driftrec.factorize(store, factors=4, iterations=1)
    before = digest(store)
    for call, named in [
        (lambda: driftrec.predict(store, "u1"), "sequence"),  # no train result yet
        (lambda: driftrec.recommend(store, "nobody"), "nobody"),
        (lambda: driftrec.recommend(store, "u1", k=0), "k"),
        (lambda: driftrec.recommend(store, True), "user"),
        (lambda: driftrec.similar_items(store, "i99999"), "i99999"),
        (lambda: driftrec.similar_items(store, "i1", result="missing"), "missing"),
        (lambda: driftrec.train(42), "store"),
        (lambda: driftrec.train(store.parent / "absent.h5"), "absent.h5"),
    ]:
        with pytest.raises(driftrec.InputError) as error:
            call()
        assert named in str(error.value)
    assert digest(store) == before


# ---- threads ----

def test_train_lets_other_python_threads_run(store):
    seconds, largest_gap = largest_gap_while(
        lambda: driftrec.train(store, hidden=64, epochs=60, patience=60, threads=1))
    assert seconds > 0.3, "the training is too short to tell"
    assert largest_gap < 0.5 * seconds


def test_generate_refuses_counts_outside_the_generators_range(tmp_path):
    for options, named in [(dict(users=2**31), "users"), (dict(items=0), "items"), (dict(events=0), "events"),
                           (dict(drift=1.5), "drift"), (dict(periods="12"), "periods")]:
        with pytest.raises(driftrec.InputError) as error:
            driftrec.generate(tmp_path / "synth", **options)
        assert named in str(error.value)
    assert not (tmp_path / "synth" / "events.csv").exists()


# ---- thread counts travel in the calls ----

def test_generate_files_are_the_same_for_one_and_two_threads(tmp_path):
    options = dict(users=120, items=60, labels=5, periods=4, seed=7)
    one = driftrec.generate(tmp_path / "one", threads=1, **options)
    two = driftrec.generate(tmp_path / "two", threads=2, **options)
    assert (one["run"]["threads"], two["run"]["threads"]) == (1, 2)
    for name in ("events.csv", "labels.csv", "truth.csv"):
        assert (tmp_path / "one" / name).read_bytes() == (tmp_path / "two" / name).read_bytes(), name
    with pytest.raises(driftrec.InputError, match="threads"):
        driftrec.generate(tmp_path / "bad", threads=-1, **options)


def test_reslice_and_from_arrays_give_the_same_store_for_one_and_two_threads(store, tmp_path):
    other = copy_of(store, "other.h5")
    a = driftrec.reslice(store, "week", threads=1)
    b = driftrec.reslice(other, "week", threads=2)
    assert untimed(a, {"seconds", "store"}) == untimed(b, {"seconds", "store"})
    with pytest.raises(driftrec.InputError, match="threads"):
        driftrec.reslice(other, "month", threads=-1)
    sa, sb = driftrec.Store(store), driftrec.Store(other)
    assert sa.n_slices == sb.n_slices == a["slices"]
    for k in range(sa.n_slices):
        x, y = sa.slice(k), sb.slice(k)
        assert np.array_equal(x.indptr, y.indptr) and np.array_equal(x.indices, y.indices)
        assert np.array_equal(x.data, y.data)
    sa.close()
    sb.close()

    rng = np.random.default_rng(3)
    users, items = rng.integers(0, 50, 2000), rng.integers(0, 40, 2000)
    times = rng.integers(0, 90 * 86400, 2000)
    one = driftrec.Store.from_arrays(tmp_path / "one.h5", users, items, times, slice="week", threads=1)
    two = driftrec.Store.from_arrays(tmp_path / "two.h5", users, items, times, slice="week", threads=2)
    assert one.n_slices == two.n_slices
    for k in range(one.n_slices):
        x, y = one.slice(k), two.slice(k)
        assert np.array_equal(x.indptr, y.indptr) and np.array_equal(x.indices, y.indices)
        assert np.array_equal(x.data, y.data)
    with pytest.raises(driftrec.InputError, match="threads"):
        driftrec.Store.from_arrays(tmp_path / "bad.h5", users, items, times, threads=-1)


def test_generate_refuses_existing_files_unless_force(tmp_path):
    options = dict(users=30, items=20, labels=3, periods=2)
    driftrec.generate(tmp_path / "synth", seed=5, **options)
    before = {p.name: p.read_bytes() for p in (tmp_path / "synth").iterdir()}
    with pytest.raises(driftrec.InputError) as error:
        driftrec.generate(tmp_path / "synth", seed=6, **options)
    assert "events.csv" in str(error.value) and "already exists" in str(error.value)
    assert {p.name: p.read_bytes() for p in (tmp_path / "synth").iterdir()} == before
    driftrec.generate(tmp_path / "synth", seed=6, force=True, **options)
    assert (tmp_path / "synth" / "events.csv").read_bytes() != before["events.csv"]
