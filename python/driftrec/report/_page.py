"""Assembles the report page: the numbers of _data, the charts of _charts, and a table of
the numbers under every chart (the tests read those tables back)."""

import datetime
import html
import json
import os
import tempfile

import numpy as np

from .. import __version__
from .._store import Store
from . import _charts, _data

InputError = _data.InputError

CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0 auto; max-width: 1200px;
       padding: 1.5em; color: #1a1a1a; background: #fff; line-height: 1.4; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; } h2 { border-bottom: 2px solid #0072B2; padding-bottom: 0.2em;
margin-top: 2em; } h3 { margin-bottom: 0.3em; }
.sub { color: #555; margin-top: 0; }
.row { display: flex; flex-wrap: wrap; gap: 1em; align-items: flex-start; }
figure { margin: 0.5em 0; } figure svg { max-width: 100%; height: auto; }
.row figure { display: table; } .row figcaption { display: table-caption; caption-side: bottom; }
figcaption { font-size: 0.85em; color: #444; max-width: 60em; }
table { border-collapse: collapse; font-size: 0.85em; margin: 0.4em 0; }
th, td { padding: 0.15em 0.6em; text-align: left; border-bottom: 1px solid #e3e3e3; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
tr.best td { font-weight: bold; } tr.best td:first-child::before { content: "\\2605 "; }
.new { font-weight: bold; } .missing { background: #fff4e0; border-left: 4px solid #E69F00; padding: 0.5em 0.8em; }
details { margin: 0.3em 0 1em; } summary { cursor: pointer; color: #0072B2; font-size: 0.9em; }
nav a { margin-right: 1em; } code { background: #f3f3f3; padding: 0 0.2em; }
"""

SECTIONS = [("glance", "The store at a glance"), ("trends", "Population label trends"), ("users", "Users"),
            ("convergence", "Convergence"), ("evaluation", "Evaluation")]


def _e(x):
    return html.escape(str(x), quote=True)


def _num(x, digits=4):
    """A number cell: shown rounded, the exact value in data-value."""
    if isinstance(x, (int, np.integer)):
        return f'<td class="n" data-value="{int(x)}">{int(x):,}</td>'
    x = float(x)
    return f'<td class="n" data-value="{x!r}">{x:.{digits}g}</td>'


def _table(table_id, header, rows, cls=""):
    head = "".join(f"<th>{_e(h)}</th>" for h in header)
    body = "\n".join(rows)
    attr = f' id="{_e(table_id)}"' if table_id else ""
    return f'<table{attr} class="{cls}"><thead><tr>{head}</tr></thead><tbody>\n{body}\n</tbody></table>'


def _details(summary, inner):
    return f"<details><summary>{_e(summary)}</summary>{inner}</details>"


def _figure(svg, caption):
    return f"<figure>{svg}<figcaption>{caption}</figcaption></figure>"


def _missing(text):
    return f'<p class="missing">{text}</p>'


def _glance_section(g, dates):
    facts = [("users", g.n_users), ("items", g.n_items), ("labels", g.n_labels), ("events", g.n_events),
             ("periods", g.n_slices)]
    rows = [f'<tr data-key="{k}"><th>{k}</th>{_num(v)}</tr>' for k, v in facts]
    rows += [f'<tr data-key="{k}"><th>{k}</th><td>{_e(v)}</td></tr>' for k, v in
             [("slicing", g.slicing), ("first event", g.first_event), ("last event", g.last_event),
              ("results", ", ".join(g.results) or "none")]]
    out = [_table("glance-facts", ["", ""], rows)]
    out.append(_figure(_charts.period_counts(dates, [("events", g.events), ("active users", g.active_users),
                                                     ("active items", g.active_items)], g.slicing),
                       "Events, active users (with an event in the period) and active items per period, log scale."))
    rows = [f"<tr><td>{_e(d)}</td>{_num(e)}{_num(u)}{_num(i)}</tr>"
            for d, e, u, i in zip(g.dates, g.events, g.active_users, g.active_items)]
    out.append(_details("the numbers: per-period counts",
                        _table("period-counts", ["period start (UTC)", "events", "active users", "active items"],
                               rows)))
    out.append(_figure(_charts.degree_distribution(g.user_degree, g.item_degree),
                       "Degree distributions over the whole log, log-log: how many users rated d distinct items, "
                       "how many items were rated by d distinct users. A straight fall is a heavy tail."))
    rows = []
    for name, d in (("users", g.user_degree), ("items", g.item_degree)):
        rows.append(f'<tr data-key="{name}"><td>{name}</td>{_num(len(d))}{_num(int(d.min()))}'
                    f'{_num(float(np.median(d)))}{_num(float(d.mean()))}{_num(int(d.max()))}</tr>')
    out.append(_table("degree-summary", ["nodes", "count", "min degree", "median", "mean", "max degree"], rows))
    return "\n".join(out)


def _trends_section(t, dates, slicing, ranks):
    if not t.labels:
        return _missing("The store has no item labels: ingest the log with <code>--labels FILE</code> to see trends.")
    marks = {k: "▲" for k in t.risers}
    marks.update({k: "▼" for k in t.fallers})
    svg = _charts.stacked_shares(dates, t.shares, t.labels, ranks, "share of labelled events (%)",
                                 f"period start (UTC; {slicing} slices)", marks=marks)
    name = lambda ks: ", ".join(f"<b>{_e(t.labels[k])}</b> ({(t.last[k] - t.first[k]) * 100:+.1f} points)" for k in ks)
    out = [f'<p id="movers">Between the first {t.window} and the last {t.window} periods the biggest risers were '
           f'{name(t.risers) or "none"}; the biggest fallers {name(t.fallers) or "none"}.</p>']
    out.append(_figure(svg, "Each period's events spread over their items' labels (an item with k labels gives 1/k "
                            "to each); the 7 largest labels over the whole log, the rest as other. ▲ riser, ▼ faller."))
    rows = []
    for k in np.argsort(-(t.last - t.first), kind="stable"):
        status = "riser" if k in t.risers else "faller" if k in t.fallers else ""
        rows.append(f'<tr data-label="{_e(t.labels[k])}" data-status="{status}"><td>{_e(t.labels[k])}</td>'
                    f"{_num(t.first[k] * 100)}{_num(t.last[k] * 100)}{_num((t.last[k] - t.first[k]) * 100)}"
                    f"<td>{status}</td></tr>")
    out.append(_details("the numbers: label shares, first vs last periods",
                        _table("label-changes", ["label", f"share, first {t.window} periods (%)",
                                                 f"share, last {t.window} periods (%)", "change (points)", ""],
                               rows)))
    return "\n".join(out)


def _user_section(v, store, dates, slicing, ranks, ranks_by_name):
    out = [f'<section class="user" data-user="{_e(v.user)}"><h3>User {_e(v.user)}</h3>'
           f'<p class="sub">{_e(v.why)}</p><div class="row">']
    if v.history is None:
        out.append(_missing("run <code>driftrec propagate STORE</code> to see this user's interests per period"))
    else:
        d = dates[v.first_period:v.first_period + len(v.history)]
        out.append(_figure(_charts.stacked_shares(d, v.history, list(store.labels), ranks, "interest share (%)",
                                                  f"period start (UTC; {slicing} slices)", width=5.4, show=7),
                           "Propagated interests per period (label propagation over the user's decayed history); "
                           "the 7 largest labels of the user, the rest as other."))
    if v.prediction is not None:
        p = v.prediction
        out.append(_figure(_charts.prediction_bars(p.labels, p.probabilities, p.new, ranks_by_name),
                           "Predicted interests for the period after the store's last (sequence model), in "
                           "the order predict ranks them: a label the user never had (NEW, bold, black "
                           "outline) may rank above a more probable one it already has."))
    else:
        out.append(_missing(_e(v.prediction_missing).replace("`driftrec train STORE`",
                                                             "<code>driftrec train STORE</code>")))
    out.append("</div>")
    if v.history is not None:
        last = v.history[-1]
        rows = [f'<tr data-label="{_e(store.labels[k])}"><td>{_e(store.labels[k])}</td>{_num(float(last[k]))}</tr>'
                for k in np.argsort(-last, kind="stable") if last[k] > 0]
        out.append(_details(f"the numbers: interests in the last period (from {dates[-1]:%Y-%m-%d})",
                            _table("", ["label", "interest"], rows, "interests-last")))
    if v.prediction is not None:
        p = v.prediction
        rows = [f'<tr data-label="{_e(l)}" class="{"new" if n else ""}"><td>{_e(l)}</td>{_num(float(pr))}'
                f'<td>{"new" if n else ""}</td></tr>' for l, pr, n in zip(p.labels, p.probabilities, p.new)]
        out.append(_details("the numbers: predicted interests", _table("", ["label", "probability", "new to the user"],
                                                                       rows, "prediction")))
    if v.items:
        rows = [f'<tr data-item="{_e(it["item"])}">{_num(r + 1)}<td>{_e(it["item"])}</td><td>{_e(it.get("title") or "")}'
                f'</td>{_num(float(it["score"]))}<td>{_e(it.get("labels") or "")}</td></tr>'
                for r, it in enumerate(v.items)]
        out.append(f"<p>Top {len(v.items)} recommended items, by {_e(v.items_source)}:</p>")
        out.append(_table("", ["rank", "item", "title", "score", "labels"], rows, "items"))
    else:
        out.append(_missing(_e(v.items_missing).replace("`", "")))
    out.append("</section>")
    return "\n".join(out)


def _convergence_section(store, interests, dates, sequence):
    out = []
    if interests is None:
        out.append(_missing("The store has no label propagation result: run <code>driftrec propagate STORE</code> "
                            "to see its convergence per period."))
    else:
        o = interests.options
        not_converged = int((~interests.converged).sum())
        out.append(f"<p>Label propagation <code>/results/{_e(interests.name)}</code> (alpha {o['alpha']:g}, gamma "
                   f"{o['gamma']:g}, mu {o['mu']:g}): {len(interests.iterations)} periods, "
                   f'<span id="not-converged">{not_converged}</span> not converged.</p>')
        out.append(_figure(_charts.convergence(dates, interests.iterations, interests.residual, o["tolerance"],
                                               o["max_iterations"], store.slicing),
                           "Iterations run per period and the largest score change of the last one (the residual); "
                           "a period converged when its residual fell below the tolerance."))
        rows = [f"<tr><td>{_e(d)}</td>{_num(int(i))}{_num(float(r))}<td>{'yes' if c else 'NO'}</td></tr>"
                for d, i, r, c in zip(dates, interests.iterations, interests.residual, interests.converged)]
        out.append(_details("the numbers: convergence per period",
                            _table("convergence-table", ["period start (UTC)", "iterations", "residual", "converged"],
                                   rows)))
    out.append(_missing("ALS objective per sweep: not stored. The store keeps the factors of "
                        "<code>driftrec factorize</code>, not its objective; <code>driftrec factorize --verbose</code> "
                        "prints it for every period and sweep."))
    if sequence:
        train, validation, best = _data.sequence_losses(store, sequence)
        out.append(_figure(_charts.losses(train, validation, best),
                           f"The sequence model <code>/results/{_e(sequence)}</code>: loss per epoch on the training "
                           f"periods and on the held-out last period."))
        rows = [f"<tr>{_num(k + 1)}{_num(float(a))}{_num(float(b))}</tr>" for k, (a, b) in
                enumerate(zip(train, validation))]
        out.append(_details("the numbers: loss per epoch", _table("losses", ["epoch", "training", "validation"], rows)))
    else:
        out.append(_missing("No sequence model: run <code>driftrec train STORE</code> to see its loss per epoch."))
    return "\n".join(out)


def _evaluation_section(report, source):
    if report is None:
        return _missing("No evaluation given: run <code>driftrec evaluate STORE --json eval.json</code> and pass "
                        "<code>--evaluation eval.json</code>.")
    groups = _data.evaluation(report)
    out = [f"<p>From <code>{_e(source)}</code>: test periods {_e(', '.join(map(str, report.get('test_periods', []))))}; "
           f"{_e(report.get('users_evaluated', '?'))} (user, period) pairs; 95% bootstrap intervals. ★ marks the best "
           f"model of each metric.</p>"]
    for task in dict.fromkeys(g.task for g in groups):
        tg = [g for g in groups if g.task == task]
        out.append(f"<h3>{_e(task)} metrics</h3>")
        out.append(_figure(_charts.metric_panels(tg, f"{task} task"),
                           "Each model's mean with its 95% interval (whiskers); the star is the best model."))
        for g in tg:
            rows = [f'<tr data-model="{_e(m)}" class="{"best" if k == g.best else ""}"><td>{_e(m)}</td>{_num(v)}'
                    f"{_num(lo)}{_num(hi)}{_num(int(n))}</tr>"
                    for k, (m, v, lo, hi, n) in enumerate(zip(g.models, g.value, g.lo, g.hi, g.users))]
            table = (f'<table class="metric" data-task="{_e(g.task)}" data-metric="{_e(g.metric)}"><thead><tr>'
                     f"<th>model</th><th>{_e(g.metric)}</th><th>95% low</th><th>95% high</th><th>pairs</th>"
                     f"</tr></thead><tbody>{''.join(rows)}</tbody></table>")
            out.append(_details(f"the numbers: {g.metric}", table))
    return "\n".join(out)


def build_report(store, users=(), evaluation=None):
    """The report page as a string. store: a Store or a path; users: user ids (none: the
    most active and the most changeable); evaluation: a path to, or the dict of, an
    evaluate JSON report."""
    opened = not isinstance(store, Store)
    s = Store(store) if opened else store
    try:
        return _build(s, [str(u) for u in users], evaluation)
    finally:
        if opened:
            s.close()


def _build(s, users, evaluation):
    report, source = None, None
    if isinstance(evaluation, dict):
        report, source = evaluation, "the evaluation given"
    elif evaluation is not None:
        try:
            with open(evaluation, encoding="utf-8") as f:
                report = json.load(f)
        except OSError as e:
            raise InputError(f"--evaluation {evaluation}: cannot read it: {e.strerror}") from None
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise InputError(f"--evaluation {evaluation}: not JSON ({e})") from None
        if not isinstance(report, dict):
            raise InputError(f"--evaluation {evaluation}: expected the JSON object of `driftrec evaluate --json`")
        source = os.path.basename(os.fspath(evaluation))
    if s.n_slices == 0:
        raise InputError(f"{s.path}: the store has no periods")
    _, dates = _data.period_dates(s)
    dates = dates.astype("datetime64[s]").astype(object)  # datetime.datetime for matplotlib
    g = _data.glance(s)
    t = _data.trends(s)
    overall = t.shares.sum(axis=0) if t.labels else np.zeros(0)
    order = np.argsort(-overall, kind="stable")
    ranks = {int(k): r for r, k in enumerate(order)}
    ranks_by_name = {t.labels[k]: r for k, r in ranks.items()}
    interests = _data.interests(s) if s.n_labels else None
    sequence, als = _data.result_names(s)
    chosen = _data.choose_users(s, g, interests, users)
    views = [_data.user_view(s, u, why, interests, sequence, als) for u, why in chosen]

    body = {
        "glance": _glance_section(g, dates),
        "trends": _trends_section(t, dates, s.slicing, ranks),
        "users": "\n".join(_user_section(v, s, dates, s.slicing, ranks, ranks_by_name) for v in views) +
                 (_missing("Interests recomputed in memory for every period with the saved options: the result "
                           f"keeps only {_e(interests.options['keep'])}.") if interests is not None and
                  interests.recomputed else ""),
        "convergence": _convergence_section(s, interests, dates, sequence),
        "evaluation": _evaluation_section(report, source),
    }
    nav = " ".join(f'<a href="#{k}">{_e(title)}</a>' for k, title in SECTIONS)
    sections = "\n".join(f'<section id="{k}"><h2>{_e(title)}</h2>\n{body[k]}\n</section>' for k, title in SECTIONS)
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>driftrec report: {_e(os.path.basename(s.path))}</title><style>{CSS}</style></head><body>\n"
            f"<h1>driftrec report: {_e(os.path.basename(s.path))}</h1>"
            f'<p class="sub">{_e(s.path)}, written {now} by driftrec {_e(__version__)}. Charts: matplotlib '
            f"(Okabe-Ito colours, hatched for grey scale); the numbers behind each chart are in the table under "
            f"it.</p><nav>{nav}</nav>\n{sections}\n</body></html>\n")


def write_report(store, out, users=(), evaluation=None):
    """build_report written to `out` (replaced whole: a temporary file beside it, renamed)."""
    out = os.fspath(out)
    folder = os.path.dirname(os.path.abspath(out))
    if not os.path.isdir(folder):  # before the work, not after it
        raise InputError(f"--out {out}: the folder {folder} does not exist")
    page = build_report(store, users, evaluation)
    fd, tmp = tempfile.mkstemp(prefix=".report-", suffix=".html", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(page)
        mask = os.umask(0)
        os.umask(mask)
        os.chmod(tmp, 0o666 & ~mask)
        os.replace(tmp, out)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return out
