#!/usr/bin/env bash
# Renders the README's picture of the demo's report, docs/images/report.png: the top of
# driftrec-demo/report.html (the store at a glance, label trends, the first user) in
# headless Chromium, scaled down and reduced to a palette so that it stays small.
# Run scripts/demo.sh first; uses build/venv's Pillow (a matplotlib dependency).
set -euo pipefail
cd "$(dirname "$0")/.."
page=${1:-driftrec-demo/report.html}
shot=$(mktemp --suffix=.png)
trap 'rm -f "$shot"' EXIT
chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1240,2480 \
  --screenshot="$shot" "file://$(realpath "$page")" 2>/dev/null
build/venv/bin/python - "$shot" docs/images/report.png <<'PY'
import sys
from PIL import Image
image = Image.open(sys.argv[1]).convert("RGB")
image = image.resize((image.width * 3 // 5, image.height * 3 // 5), Image.LANCZOS)
image.quantize(colors=64, method=Image.MEDIANCUT).save(sys.argv[2], optimize=True)
PY
ls -l docs/images/report.png
