#!/usr/bin/env bash
# Vendors the compiled USWDS assets into portal/static/uswds at a pinned version.
# Pages never load anything from a CDN; run this to move to a new USWDS release.
set -euo pipefail
VERSION="${1:-3.14.0}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DEST="$ROOT/portal/static/uswds"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
(cd "$WORK" && npm pack --silent "@uswds/uswds@$VERSION" >/dev/null && tar xzf uswds-uswds-*.tgz)
DIST="$WORK/package/dist"
rm -rf "$DEST"
mkdir -p "$DEST/css" "$DEST/js"
cp "$DIST/css/uswds.min.css" "$DEST/css/"
cp "$DIST/js/uswds.min.js" "$DIST/js/uswds-init.min.js" "$DEST/js/"
# The source maps are not vendored, so their references go: collectstatic in production
# mode (the manifest storage) refuses a file that points at a file it cannot find.
sed -i -E '/^(\/\*# sourceMappingURL=.*\*\/|\/\/# sourceMappingURL=.*)$/d' \
  "$DEST/css/uswds.min.css" "$DEST/js/uswds.min.js" "$DEST/js/uswds-init.min.js"
# Only the fonts and images the stylesheet refers to, plus the icon sprite.
grep -o 'url([^)]*)' "$DIST/css/uswds.min.css" | sed 's/^url(//; s/)$//; s/["'"'"']//g; s/[?#].*//' \
  | grep '^\.\./' | sort -u | while read -r rel; do
    src="$DIST/css/$rel"
    [ -f "$src" ] || continue
    out="$DEST/css/$rel"
    mkdir -p "$(dirname "$out")"
    cp "$src" "$out"
  done
mkdir -p "$DEST/img/usa-icons"
cp "$DIST/img/sprite.svg" "$DIST/img/us_flag_small.png" "$DIST/img/icon-dot-gov.svg" "$DIST/img/icon-https.svg" "$DEST/img/"
cp "$DIST/img/usa-icons/close.svg" "$DEST/img/usa-icons/"
echo "$VERSION" > "$DEST/VERSION"
echo "USWDS $VERSION vendored into $DEST ($(du -sh "$DEST" | cut -f1))"
