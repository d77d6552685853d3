"""The report's charts, drawn with matplotlib's SVG backend and returned as SVG text to
inline in the page. Colour-blind safe and readable in grey scale: the Okabe-Ito palette,
each label a fixed (colour, hatch) pair, stacked bands named directly at their right edge,
line series told apart by line style and marker as well as colour."""

import io
import itertools
import re

import matplotlib

matplotlib.use("svg")
import matplotlib.dates as mdates  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

# Okabe & Ito (2008), without black (it hides hatching and direct labels in a stack).
OKABE_ITO = ["#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7"]
HATCHES = ["", "///", "...", "xxx"]
OTHER = "#BBBBBB"
LINE_STYLES = [("-", "o"), ("--", "s"), (":", "^"), ("-.", "D")]

plt.rcParams.update({
    "svg.fonttype": "none",      # text stays text: smaller, selectable, searchable
    "svg.hashsalt": "driftrec",  # the same ids on every run
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "hatch.linewidth": 0.6,
})

_counter = itertools.count()


def label_style(rank):
    """(colour, hatch) of the label whose rank in the population's overall share is `rank`."""
    return OKABE_ITO[rank % len(OKABE_ITO)], HATCHES[(rank // len(OKABE_ITO)) % len(HATCHES)]


def to_svg(fig):
    """The figure as an <svg> element: no XML prolog, ids prefixed so that several
    inlined figures do not share one."""
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None})
    plt.close(fig)
    text = buf.getvalue()
    text = text[text.index("<svg"):]
    prefix = f"f{next(_counter)}-"
    text = re.sub(r'id="([^"]+)"', lambda m: f'id="{prefix}{m.group(1)}"', text)
    text = re.sub(r'url\(#([^)]+)\)', lambda m: f"url(#{prefix}{m.group(1)})", text)
    text = re.sub(r'href="#([^"]+)"', lambda m: f'href="#{prefix}{m.group(1)}"', text)
    return text


def spread(ys, gap):
    """Label positions near `ys` at least `gap` apart, in the same order (direct labels
    that would overlap are pushed apart, the group staying centred where it was)."""
    ys = np.asarray(ys, dtype=float)
    order = np.argsort(ys, kind="stable")
    out = ys[order].copy()
    for _ in range(len(out)):
        moved = False
        for k in range(1, len(out)):
            if out[k] - out[k - 1] < gap - 1e-9:
                push = (gap - (out[k] - out[k - 1])) / 2
                out[k - 1] -= push
                out[k] += push
                moved = True
        if not moved:
            break
    result = np.empty_like(out)
    result[order] = out
    return result


def _date_axis(ax, dates):
    ax.xaxis.set_major_locator(mdates.AutoDateLocator())
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(ax.xaxis.get_major_locator()))


def period_counts(dates, series, slicing):
    """Events, active users and active items per period (one line each, log scale)."""
    fig, ax = plt.subplots(figsize=(8.6, 3.2))
    for (name, values), (ls, marker), colour in zip(series, LINE_STYLES, [OKABE_ITO[4], OKABE_ITO[5], OKABE_ITO[2]]):
        values = np.asarray(values, dtype=float)
        ax.plot(dates, np.where(values > 0, values, np.nan), ls=ls, marker=marker, markersize=2.5, lw=1.2,
                color=colour, label=name)
    ax.set_yscale("log")
    ends = [np.log10(max(float(v[-1]), 1)) for _, v in series]
    low, high = np.log10(max(ax.get_ylim()[0], 1e-3)), np.log10(ax.get_ylim()[1])
    for (name, _), y, colour in zip(series, spread(ends, 0.08 * (high - low)), [OKABE_ITO[4], OKABE_ITO[5],
                                                                                   OKABE_ITO[2]]):
        ax.text(1.01, 10 ** y, name, transform=ax.get_yaxis_transform(), va="center", color=colour, fontsize=8)
    ax.set_ylabel("count per period (log scale)")
    ax.set_xlabel(f"period start (UTC; {slicing} slices)")
    _date_axis(ax, dates)
    ax.legend(frameon=False, loc="upper left", fontsize=8)
    ax.grid(True, which="major", axis="y", lw=0.3, color="#DDDDDD")
    return to_svg(fig)


def degree_distribution(user_degree, item_degree):
    """How many users (items) have each degree, log-log."""
    fig, ax = plt.subplots(figsize=(4.6, 3.2))
    for (name, degree), (ls, marker), colour in zip(
            [("users (distinct items rated)", user_degree), ("items (distinct users)", item_degree)],
            LINE_STYLES, [OKABE_ITO[4], OKABE_ITO[5]]):
        d = np.asarray(degree)
        d = d[d > 0]
        values, counts = np.unique(d, return_counts=True)
        ax.plot(values, counts, ls="none", marker=marker, markersize=3, color=colour, label=name,
                markerfacecolor="none" if marker == "s" else colour)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("degree (distinct neighbours over the whole log)")
    ax.set_ylabel("number of nodes with that degree")
    ax.legend(frameon=False, fontsize=8)
    return to_svg(fig)


def stacked_shares(dates, shares, names, ranks, ylabel, xlabel, width=8.6, height=3.6, show=7, marks=None):
    """A stacked area of shares (periods x labels, rows summing to 1 or 0) in percent: the
    `show` labels of largest total share, the rest summed as "other"; each band named at
    its right edge when it is thick enough. `marks`: label index -> text appended to its
    name (risers / fallers)."""
    shares = np.asarray(shares, dtype=float)
    order = [int(k) for k in np.argsort(-shares.sum(axis=0), kind="stable")[:show] if shares[:, k].sum() > 0]
    rest = [k for k in range(shares.shape[1]) if k not in order]
    layers = [shares[:, k] * 100 for k in order]
    colours = [label_style(ranks[k])[0] for k in order]
    hatches = [label_style(ranks[k])[1] for k in order]
    labels = [names[k] + ((" " + marks[k]) if marks and k in marks else "") for k in order]
    if rest and shares[:, rest].sum() > 0:
        layers.append(shares[:, rest].sum(axis=1) * 100)
        colours.append(OTHER)
        hatches.append("")
        labels.append(f"other ({len(rest)} labels)")
    fig, ax = plt.subplots(figsize=(width, height))
    polys = ax.stackplot(dates, *layers, colors=colours, labels=labels, linewidth=0)
    for poly, hatch in zip(polys, hatches):
        poly.set_hatch(hatch)
        poly.set_edgecolor("#333333" if hatch else "none")
    # Every band named at its right edge, in stacking order (names pushed apart where bands are thin).
    if layers:
        top = np.cumsum(np.array(layers), axis=0)
        mids = [top[j][-1] - layers[j][-1] / 2 for j in range(len(labels))]
        for label, y in zip(labels, spread(mids, 100 * 0.13 / height)):
            ax.text(1.01, y, label, transform=ax.get_yaxis_transform(), va="center", fontsize=7.5)
    ax.set_ylim(0, 100)
    ax.set_xlim(dates[0], dates[-1])
    ax.set_ylabel(ylabel)
    ax.set_xlabel(xlabel)
    _date_axis(ax, dates)
    return to_svg(fig)


def prediction_bars(labels, probabilities, new, ranks_by_name, show=8):
    """The predicted next-period interests as horizontal bars in predict's order (by
    probability, a label new to the user boosted by the result's new_label_boost) from the
    top; labels new to the user outlined in black and named "NEW" in bold."""
    labels, probabilities, new = list(labels[:show]), np.asarray(probabilities[:show]) * 100, list(new[:show])
    fig, ax = plt.subplots(figsize=(3.4, 3.6))
    y = np.arange(len(labels))[::-1]
    for yy, name, p, is_new in zip(y, labels, probabilities, new):
        colour, hatch = label_style(ranks_by_name.get(name, 0))
        ax.barh(yy, p, color=colour, hatch=hatch, edgecolor="#000000" if is_new else "#333333",
                linewidth=1.8 if is_new else 0.5)
        ax.annotate(f"{p:.1f}%", (p, yy), xytext=(3, 0), textcoords="offset points", va="center", fontsize=7.5)
    ax.set_yticks(y, [f"{n}  NEW" if is_new else n for n, is_new in zip(labels, new)])
    for tick, is_new in zip(ax.get_yticklabels(), new):
        if is_new:
            tick.set_fontweight("bold")
    ax.set_xlabel("predicted probability (%)")
    ax.set_xlim(0, max(probabilities.max() * 1.25, 1) if len(probabilities) else 1)
    return to_svg(fig)


def convergence(dates, iterations, residual, tolerance, max_iterations, slicing):
    """Label propagation per period: iterations run (bars) and the final residual (log)."""
    fig, (a, b) = plt.subplots(2, 1, figsize=(8.6, 4.2), sharex=True)
    a.bar(dates, iterations, width=20 if len(dates) > 1 else 1, color=OKABE_ITO[4])
    a.axhline(max_iterations, color="#333333", ls="--", lw=0.8)
    a.annotate(f"--max-iterations {max_iterations}", (dates[0], max_iterations), xytext=(2, -10),
               textcoords="offset points", fontsize=7.5)
    a.set_ylabel("iterations (count)")
    a.set_ylim(0, max_iterations * 1.1)
    b.plot(dates, np.where(np.asarray(residual) > 0, residual, np.nan), marker="o", ls="-", lw=0.8, markersize=2,
           color=OKABE_ITO[5])
    b.axhline(tolerance, color="#333333", ls="--", lw=0.8)
    b.annotate(f"--tolerance {tolerance:g}", (dates[0], tolerance), xytext=(2, 3), textcoords="offset points",
               fontsize=7.5)
    b.set_yscale("log")
    b.set_ylabel("final residual\n(max abs change)")
    b.set_xlabel(f"period start (UTC; {slicing} slices)")
    _date_axis(b, dates)
    return to_svg(fig)


def losses(train, validation, best_epoch):
    """The sequence model's training and validation loss per epoch."""
    fig, ax = plt.subplots(figsize=(4.6, 3.0))
    epochs = np.arange(1, len(train) + 1)
    ax.plot(epochs, train, ls="-", color=OKABE_ITO[4], label="training")
    ax.plot(epochs, validation, ls="--", color=OKABE_ITO[5], label="validation (last period)")
    ax.axvline(best_epoch, color="#333333", lw=0.8, ls=":")
    ax.annotate(f"best epoch {best_epoch}", (best_epoch, ax.get_ylim()[1]), xytext=(3, -10),
                textcoords="offset points", fontsize=7.5)
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss (cross-entropy + factor error)")
    ax.legend(frameon=False, fontsize=8)
    return to_svg(fig)


def metric_panels(groups, title):
    """One panel per metric: each model's value with its 95% interval as whiskers; the best
    model's point is a star, and its name is in the panel's title."""
    n = len(groups)
    cols = min(3, n)
    rows = (n + cols - 1) // cols
    models = groups[0].models
    fig, axes = plt.subplots(rows, cols, figsize=(3.1 * cols + 0.8, 0.17 * len(models) * rows + 1.1 * rows),
                             squeeze=False)
    for ax in axes.ravel()[n:]:
        ax.set_visible(False)
    for index, (ax, g) in enumerate(zip(axes.ravel(), groups)):
        first_column = index % cols == 0
        y = np.arange(len(g.models))[::-1]
        err = np.vstack([g.value - g.lo, g.hi - g.value])
        ax.errorbar(g.value, y, xerr=np.clip(err, 0, None), fmt="o", markersize=3, color=OKABE_ITO[4],
                    ecolor="#555555", elinewidth=0.8, capsize=2)
        ax.plot([g.value[g.best]], [y[g.best]], marker="*", markersize=10, color=OKABE_ITO[5], ls="none")
        ax.set_yticks(y, g.models if first_column else [""] * len(y))
        better = "lower is better" if g.lower_is_better else "higher is better"
        ax.set_title(f"{g.metric} ({better})\n★ best: {g.models[g.best]}", fontsize=8.5)
        ax.set_xlabel("mean over (user, period) pairs", fontsize=7.5)
        ax.grid(True, axis="x", lw=0.3, color="#DDDDDD")
    fig.suptitle(title, fontsize=9.5, x=0.02, ha="left")
    fig.tight_layout()
    return to_svg(fig)
