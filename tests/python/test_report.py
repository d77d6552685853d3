"""driftrec report (driftrec.report and the CLI command that runs it): every section is
there, the numbers in its tables equal the store's and the evaluate JSON's (computed here
independently, from the events), the SVG is well-formed (xmllint), the page fetches
nothing, and headless Chromium renders it without console errors (skipped where Chromium
is not installed)."""

import html.parser
import json
import os
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest

import driftrec
from driftrec.report import build_report

SECTIONS = ["glance", "trends", "users", "convergence", "evaluation"]
VOID = {"meta", "br", "img", "input", "link", "hr", "col", "area", "base", "wbr", "source"}


class Node:
    def __init__(self, tag, attrs, parent=None):
        self.tag, self.attrs, self.parent, self.children, self.text = tag, dict(attrs), parent, [], ""

    def iter(self, tag=None):
        for c in self.children:
            if tag is None or c.tag == tag:
                yield c
            yield from c.iter(tag)

    def find_all(self, tag, **attrs):
        return [n for n in self.iter(tag) if all(n.attrs.get(k.replace("_", "-")) == v for k, v in attrs.items())]

    def find(self, tag, **attrs):
        found = self.find_all(tag, **attrs)
        assert found, f"no <{tag} {attrs}>"
        return found[0]

    def all_text(self):
        return self.text + "".join(c.all_text() for c in self.children)


class Tree(html.parser.HTMLParser):
    """A small DOM: enough to find sections, tables and cells."""

    def __init__(self, page):
        super().__init__(convert_charrefs=True)
        self.root = self.current = Node("#root", {})
        self.feed(page)

    def handle_starttag(self, tag, attrs):
        node = Node(tag, attrs, self.current)
        self.current.children.append(node)
        if tag not in VOID:
            self.current = node

    def handle_startendtag(self, tag, attrs):
        self.current.children.append(Node(tag, attrs, self.current))

    def handle_endtag(self, tag):
        node = self.current
        while node is not self.root and node.tag != tag:
            node = node.parent
        if node is not self.root:
            self.current = node.parent

    def handle_data(self, data):
        self.current.text += data


def rows(table):
    """Each body row as (row attributes, [cell data-value or text])."""
    body = table.find("tbody")
    out = []
    for tr in body.find_all("tr"):
        cells = [td.attrs.get("data-value", td.all_text().strip()) for td in tr.children if td.tag in ("td", "th")]
        out.append((tr.attrs, cells))
    return out


def run_cli(cli, *args, env=None):
    return subprocess.run([str(cli), *map(str, args)], capture_output=True, text=True, env=env)


# ---- fixtures: a fully computed store and a bare one ----

@pytest.fixture(scope="module")
def stores(tmp_path_factory, cli):
    root = tmp_path_factory.mktemp("report")
    meta = driftrec.generate(root / "synth", users=160, items=120, labels=6, periods=8, seed=5)
    bare = root / "bare.h5"
    r = run_cli(cli, "ingest", root / "synth" / "events.csv", "--labels", root / "synth" / "labels.csv", "--slice",
                f"{meta['period_seconds']}s", "-o", bare)
    assert r.returncode == 0, r.stderr
    full = root / "full.h5"
    shutil.copyfile(bare, full)
    driftrec.propagate_store(full)
    driftrec.factorize(full, factors=8, iterations=3)
    driftrec.train(full, epochs=4, hidden=8)
    evaluation = driftrec.evaluate(full, test_periods=2, k=5)
    report = root / "eval.json"
    report.write_text(json.dumps(evaluation))
    return {"bare": bare, "full": full, "evaluation": report, "root": root}


@pytest.fixture(scope="module")
def full_page(stores):
    page = build_report(stores["full"], evaluation=stores["evaluation"])
    return page, Tree(page).root


def test_every_section_is_there_with_its_heading(full_page):
    _, root = full_page
    for name in SECTIONS:
        section = root.find("section", id=name)
        assert section.find("h2").all_text().strip()
    missing = [p.all_text() for p in root.find_all("p", **{"class": "missing"})]
    assert len(missing) == 1 and "ALS objective per sweep: not stored" in missing[0], missing


def test_glance_numbers_equal_the_store(stores, full_page):
    _, root = full_page
    with driftrec.Store(stores["full"]) as s:
        facts = {a["data-key"]: c[-1] for a, c in rows(root.find("table", id="glance-facts"))}
        assert [int(facts[k]) for k in ("users", "items", "labels", "events", "periods")] == \
            [s.n_users, s.n_items, s.n_labels, s.n_events, s.n_slices]
        ev = s.events
        table = rows(root.find("table", id="period-counts"))
        assert len(table) == s.n_slices
        for k, (_, (date, events, users, items)) in enumerate(table):
            inside = (ev.time >= s.periods.begin[k]) & (ev.time < s.periods.end[k])
            assert date == str(np.datetime64(int(s.periods.begin[k]), "s"))[:10]
            assert int(events) == int(inside.sum())
            assert int(users) == len(set(ev.user[inside].tolist()))
            assert int(items) == len(set(ev.item[inside].tolist()))
        items_of = {}
        users_of = {}
        for u, i in zip(ev.user.tolist(), ev.item.tolist()):
            items_of.setdefault(u, set()).add(i)
            users_of.setdefault(i, set()).add(u)
        degrees = {a["data-key"]: c for a, c in rows(root.find("table", id="degree-summary"))}
        user_deg = [len(items_of.get(u, ())) for u in range(s.n_users)]
        item_deg = [len(users_of.get(i, ())) for i in range(s.n_items)]
        for name, deg in (("users", user_deg), ("items", item_deg)):
            count, low, median, mean, high = (float(x) for x in degrees[name][1:])
            assert (count, low, high) == (len(deg), min(deg), max(deg))
            assert median == pytest.approx(np.median(deg)) and mean == pytest.approx(np.mean(deg))


def test_label_trends_equal_shares_counted_from_the_events(stores, full_page):
    _, root = full_page
    with driftrec.Store(stores["full"]) as s:
        labels = s.item_labels.tocsr()
        names = list(s.labels)
        window = max(1, s.n_slices // 4)
        ev = s.events
        period = [int(np.searchsorted(s.periods.begin, t, side="right") - 1) for t in ev.time]
        first, last = np.zeros(len(names)), np.zeros(len(names))
        for p, item in zip(period, ev.item.tolist()):
            row = labels[item]
            total = row.data.sum()
            for j, w in zip(row.indices, row.data):
                if p < window:
                    first[j] += w / total
                if p >= s.n_slices - window:
                    last[j] += w / total
    first, last = first / first.sum() * 100, last / last.sum() * 100
    table = {a["data-label"]: (a["data-status"], [float(x) for x in c[1:4]])
             for a, c in rows(root.find("table", id="label-changes"))}
    assert sorted(table) == sorted(names)
    for j, name in enumerate(names):
        status, (f, l, change) = table[name]
        assert f == pytest.approx(first[j], rel=1e-9, abs=1e-12)
        assert l == pytest.approx(last[j], rel=1e-9, abs=1e-12)
        assert change == pytest.approx(last[j] - first[j], rel=1e-9, abs=1e-9)
    change = last - first
    risers = [names[j] for j in np.argsort(-change, kind="stable")[:3] if change[j] > 0]
    assert sorted(n for n, (st, _) in table.items() if st == "riser") == sorted(risers)
    movers = root.find("p", id="movers").all_text()
    for name in risers:
        assert name in movers


def test_user_sections_equal_the_saved_interests_predictions_and_recommendations(stores, full_page):
    _, root = full_page
    path = stores["full"]
    with driftrec.Store(path) as s:
        most_active = str(s.users[np.argmax(np.bincount(s.events.user, minlength=s.n_users))])
        saved = driftrec.load_propagation(s)
        labels = list(s.labels)
        n_labels = s.n_labels
    sections = root.find("section", id="users").find_all("section", **{"class": "user"})
    assert len(sections) == 2  # the most active and the most changeable
    assert sections[0].attrs["data-user"] == most_active
    for section in sections:
        user = section.attrs["data-user"]
        with driftrec.Store(path) as s:
            u = s.user_index(user)
        assert len(section.find_all("svg")) == 2  # interests over time, predicted next period
        last = {a["data-label"]: float(c[1]) for a, c in rows(section.find("table", **{"class": "interests-last"}))}
        expected = saved.interests[-1][u]
        assert last == {labels[j]: pytest.approx(float(expected[j])) for j in range(n_labels) if expected[j] > 0}
        p = driftrec.predict(path, user, top=n_labels)
        table = rows(section.find("table", **{"class": "prediction"}))
        assert [a["data-label"] for a, _ in table] == list(p.labels)
        assert [float(c[1]) for _, c in table] == [float(x) for x in p.probabilities]
        assert [c[2] == "new" for _, c in table] == list(p.new)
        items = driftrec.recommend(path, user, model="sequence", k=10)["items"]
        table = rows(section.find("table", **{"class": "items"}))
        assert [a["data-item"] for a, _ in table] == [it["item"] for it in items]
        assert [float(c[3]) for _, c in table] == [pytest.approx(it["score"]) for it in items]
        assert [c[2] for _, c in table] == [it["title"] or "" for it in items]  # synthetic items have no title


def test_convergence_equals_the_saved_result_and_the_training_losses(stores, full_page):
    _, root = full_page
    saved = driftrec.load_propagation(stores["full"])
    table = rows(root.find("table", id="convergence-table"))
    assert [int(c[1]) for _, c in table] == saved.iterations.tolist()
    assert [float(c[2]) for _, c in table] == saved.residual.tolist()
    assert [c[3] == "yes" for _, c in table] == saved.converged.tolist()
    seq = driftrec.predict(stores["full"])
    losses = rows(root.find("table", id="losses"))
    assert [float(c[1]) for _, c in losses] == seq.train_loss.tolist()
    assert [float(c[2]) for _, c in losses] == seq.validation_loss.tolist()


def test_evaluation_tables_equal_the_json_with_the_best_row_marked(stores, full_page):
    _, root = full_page
    report = json.loads(stores["evaluation"].read_text())
    tables = root.find("section", id="evaluation").find_all("table", **{"class": "metric"})
    metrics = {(r["task"], r["metric"]) for r in report["results"]}
    assert {(t.attrs["data-task"], t.attrs["data-metric"]) for t in tables} == metrics
    for t in tables:
        task, metric = t.attrs["data-task"], t.attrs["data-metric"]
        expected = [r for r in report["results"] if r["task"] == task and r["metric"] == metric]
        got = rows(t)
        assert [a["data-model"] for a, _ in got] == [r["model"] for r in expected]
        for (_, c), r in zip(got, expected):
            assert [float(x) for x in c[1:4]] == [r["value"], *r["ci95"]]
            assert int(c[4]) == r["users"]
        values = [r["value"] for r in expected]
        best = min(values) if metric in ("cross_entropy", "kl") else max(values)
        marked = [a["data-model"] for a, _ in got if a.get("class") == "best"]
        assert len(marked) == 1 and values[[r["model"] for r in expected].index(marked[0])] == best


def test_the_page_is_self_contained(full_page):
    page, root = full_page
    assert not root.find_all("script") and not root.find_all("link") and not root.find_all("img")
    assert not root.find_all("iframe")
    for node in root.iter():
        for key in ("src", "href", "xlink:href"):
            if key in node.attrs:
                assert node.attrs[key].startswith("#"), (node.tag, node.attrs[key])
    assert "url(http" not in page and "@import" not in page
    ids = [n.attrs["id"] for n in root.iter() if "id" in n.attrs]
    assert len(ids) == len(set(ids)), "an id used twice (two inlined SVGs would share it)"


def test_every_svg_is_well_formed_xml(full_page, tmp_path):
    xmllint = shutil.which("xmllint")
    if xmllint is None:
        pytest.skip("xmllint is not installed (Debian: libxml2-utils, which scripts/setup.sh installs)")
    page, _ = full_page
    svgs = re.findall(r"<svg\b.*?</svg>", page, flags=re.S)
    assert len(svgs) >= 10
    for k, svg in enumerate(svgs):
        f = tmp_path / f"{k}.svg"
        f.write_text(svg, encoding="utf-8")
        r = subprocess.run([xmllint, "--noout", str(f)], capture_output=True, text=True)
        assert r.returncode == 0, f"svg {k}: {r.stderr}"


def test_a_bare_store_says_which_command_fills_each_section(stores):
    root = Tree(build_report(stores["bare"])).root
    for name in SECTIONS:
        root.find("section", id=name)
    missing = " ".join(p.all_text() for p in root.find_all("p", **{"class": "missing"}))
    for hint in ("driftrec propagate STORE", "driftrec train STORE", "driftrec factorize STORE",
                 "driftrec evaluate STORE", "ALS objective per sweep: not stored"):
        assert hint in missing, hint
    rows(root.find("table", id="period-counts"))  # the store's own numbers are still there


def test_a_result_keeping_the_last_periods_is_completed_with_its_options(stores, tmp_path):
    path = tmp_path / "last.h5"
    shutil.copyfile(stores["bare"], path)
    driftrec.propagate_store(path, keep="last:2", alpha=0.7)
    saved = driftrec.load_propagation(path)
    assert saved.first_period == 6 and saved.options["alpha"] == pytest.approx(0.7)
    root = Tree(build_report(path, users=["u3"])).root
    section = root.find("section", **{"class": "user"})
    assert section.attrs["data-user"] == "u3"
    with driftrec.Store(path) as s:
        u, labels = s.user_index("u3"), list(s.labels)
    last = {a["data-label"]: float(c[1]) for a, c in rows(section.find("table", **{"class": "interests-last"}))}
    expected = saved.interests[-1][u]
    assert last == {labels[j]: pytest.approx(float(expected[j]), rel=1e-5, abs=1e-7)
                    for j in range(len(labels)) if expected[j] > 0}
    assert "keeps only last:2" in root.find("section", id="users").all_text()


def test_cli_report_writes_the_page_and_refuses_bad_input(stores, cli, tmp_path):
    env = dict(os.environ, DRIFTREC_PYTHON=sys.executable)
    out = tmp_path / "report.html"
    r = run_cli(cli, "report", stores["full"], "--out", out, "--user", "u3", "--evaluation", stores["evaluation"],
                env=env)
    assert r.returncode == 0, r.stderr
    assert str(out) in r.stdout
    root = Tree(out.read_text(encoding="utf-8")).root
    assert [s.attrs["data-user"] for s in root.find_all("section", **{"class": "user"})] == ["u3"]
    r = run_cli(cli, "report", stores["full"], "--out", out, "--user", "nobody", env=env)
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "nobody" in r.stderr
    r = run_cli(cli, "report", stores["full"], "--out", out, "--evaluation", tmp_path / "none.json", env=env)
    assert r.returncode == 2 and "none.json" in r.stderr
    r = run_cli(cli, "report", stores["full"], "--out", tmp_path / "no" / "r.html", env=env)
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "does not exist" in r.stderr


def test_cli_report_without_the_module_says_how_to_install_it(stores, cli, tmp_path):
    wrapper = tmp_path / "python-without-site"
    wrapper.write_text(f'#!/bin/sh\nexec "{sys.executable}" -S "$@"\n')  # -S: no site-packages, so no driftrec
    wrapper.chmod(0o755)
    r = run_cli(cli, "report", stores["full"], "--out", tmp_path / "r.html",
                env=dict(os.environ, DRIFTREC_PYTHON=str(wrapper)))
    assert r.returncode == 2
    assert r.stderr.count("\n") == 1 and "scripts/python_venv.sh" in r.stderr and "matplotlib" in r.stderr
    assert not (tmp_path / "r.html").exists()


def test_headless_chromium_renders_the_page_without_console_errors(full_page, tmp_path):
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.skip("Chromium is not installed (Debian: chromium; scripts/setup.sh installs it)")
    from PIL import Image  # matplotlib's dependency

    page, _ = full_page
    html_file = tmp_path / "report.html"
    html_file.write_text(page, encoding="utf-8")
    shot = tmp_path / "shot.png"
    r = subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                        "--enable-logging=stderr", "--v=0", f"--user-data-dir={tmp_path / 'profile'}",
                        "--window-size=1200,2400", f"--screenshot={shot}", html_file.as_uri()],
                       capture_output=True, text=True, timeout=180)
    assert r.returncode == 0, r.stderr[-2000:]
    console = [line for line in r.stderr.splitlines() if ":CONSOLE(" in line or "Uncaught" in line]
    assert not console, console
    image = np.asarray(Image.open(shot).convert("RGB"))
    assert image.shape[:2] == (2400, 1200)
    not_white = (image < 245).any(axis=2).mean()
    colours = len(np.unique(image.reshape(-1, 3)[::7], axis=0))
    print(f"non-white share {not_white:.3f}, {colours} colours")
    assert not_white > 0.03 and colours > 32


def test_load_propagation_reads_what_propagating_again_computes(stores):
    saved = driftrec.load_propagation(stores["full"])
    again = driftrec.propagate(stores["full"], alpha=saved.options["alpha"], gamma=saved.options["gamma"],
                               mu=saved.options["mu"], tolerance=saved.options["tolerance"],
                               max_iterations=saved.options["max_iterations"])
    assert saved.first_period == 0 and len(saved) == len(again) == len(saved.iterations)
    assert saved.iterations.tolist() == again.iterations.tolist()
    for a, b in zip(saved.interests, again.interests):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)
    with pytest.raises(driftrec.InputError, match="no_such"):
        driftrec.load_propagation(stores["full"], "no_such")
