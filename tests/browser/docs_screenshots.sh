#!/usr/bin/env bash
# Refresh the README's screenshots (docs/screenshots/) from the pictures the browser journeys
# leave in test-artifacts/. Run the journeys first (python -m pytest tests/browser; under CI=true
# add TEST_PICTURES=1, or they keep only a failing step's pictures), then this.
# Needs ImageMagick (apt-get install -y imagemagick); each picture is cropped to the part worth
# showing, 1000 px wide, 256 colours, well under 300 KB.
set -euo pipefail
cd "$(dirname "$0")/../.."
convert_bin=/usr/bin/convert
[ -x "$convert_bin" ] || convert_bin=$(command -v convert)
mkdir -p docs/screenshots
# name  crop (width x height of the 1280-wide original; empty: whole page)
while read -r name crop; do
  src="test-artifacts/$name.png"
  [ -f "$src" ] || { echo "missing $src: run the browser journeys first" >&2; exit 1; }
  args=()
  [ -n "$crop" ] && args+=(-crop "$crop+0+0" +repage)
  "$convert_bin" "$src" "${args[@]}" -resize 1000x -strip -colors 256 "PNG8:docs/screenshots/$name.png"
  echo "docs/screenshots/$name.png $(stat -c %s "docs/screenshots/$name.png") bytes"
done <<'LIST'
sign-in
vendor-dashboard
customer-import-preview
request-approved 1280x1350
decision-letter
agency-case-approved 1280x1600
agency-dashboard 1280x1100
agency-suspend
vendor-attest-cutoff
LIST
