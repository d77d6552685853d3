"""examples/python/analytics_session.py runs end to end on the bundled MovieLens sample."""

import subprocess
import sys

from conftest import REPO


def test_analytics_session_runs(tmp_path):
    script = REPO / "examples" / "python" / "analytics_session.py"
    done = subprocess.run([sys.executable, str(script), "--store", str(tmp_path / "ml.h5"),
                           "--threads", "1"],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "610 users, 9724 items, 19 labels, 100836 events" in out
    assert "propagation: " in out and "user 414:" in out
    assert "recommended to user 414" in out and "movies similar to" in out
    assert "sequence model (gru) on " in out and "next quarter: " in out
    assert "evaluation on the last 2 quarters, recall@10" in out
