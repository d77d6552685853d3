"""driftrec.report: one self-contained HTML page (inline SVG and CSS, no script, nothing
fetched when it is opened) about a store and, optionally, an evaluation:

  the store at a glance        sizes, time span, events / active users / active items per
                               period, degree distributions (log-log)
  population label trends      label shares of the events per period (stacked area), the
                               biggest risers and fallers between the first and last quarter
  users                        per user: propagated interests per period (stacked area),
                               the predicted next period (labels new to the user marked) and
                               the top recommended items with titles
  convergence                  label propagation's iterations and residual per period; the
                               sequence model's loss per epoch (the store keeps no ALS
                               objective per sweep: the section says so)
  evaluation                   each metric per model with its 95% interval, best marked

    driftrec report STORE --out report.html [--user ID ...] [--evaluation report.json]
    python -m driftrec.report STORE --out report.html     (the same)
    driftrec.report.write_report("ml.h5", "report.html", users=["414"], evaluation="eval.json")

Charts: matplotlib (SVG backend), Okabe-Ito colours with hatching and direct labels. Every
chart is followed by a table of the numbers it draws."""

from ._page import build_report, write_report

__all__ = ["build_report", "write_report"]
