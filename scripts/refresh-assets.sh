#!/usr/bin/env bash
# Downloads the pinned front-end assets from the npm registry (`npm pack`: no Node.js project, no
# node_modules) into the package (the dashboard's static files) and into the browser tests (axe-core).
# Change a version here, run it, commit the files it writes. Neither installing nor running outagesync
# needs Node.js or the network: the files are committed and shipped in the wheel.
set -euo pipefail
cd "$(dirname "$0")/.."
HTMX=2.0.11      # htmx.org: partial page updates (0BSD)
ECHARTS=6.1.0    # echarts: the outage timeline (Apache-2.0)
AXE=4.11.1       # axe-core: accessibility checks injected by the browser tests only (MPL-2.0)
STATIC=src/outagesync/entrypoints/web/static/vendor
AXE_DIR=tests/browser/assets
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

fetch() {  # fetch <package> <version>: unpacks the tarball into $work/<package>
    mkdir -p "$work/$1"
    (cd "$work/$1" && npm pack --silent "$1@$2" >/dev/null && tar -xzf ./*.tgz)
}

fetch htmx.org "$HTMX"
fetch echarts "$ECHARTS"
fetch axe-core "$AXE"
mkdir -p "$STATIC" "$AXE_DIR"
cp "$work/htmx.org/package/dist/htmx.min.js" "$STATIC/htmx.min.js"
cp "$work/htmx.org/package/LICENSE" "$STATIC/htmx.LICENSE"
cp "$work/echarts/package/dist/echarts.min.js" "$STATIC/echarts.min.js"
cp "$work/echarts/package/LICENSE" "$STATIC/echarts.LICENSE"
cp "$work/echarts/package/NOTICE" "$STATIC/echarts.NOTICE"
cp "$work/axe-core/package/axe.min.js" "$AXE_DIR/axe.min.js"
cp "$work/axe-core/package/LICENSE" "$AXE_DIR/axe.LICENSE"
cat >"$STATIC/VERSIONS.md" <<EOT
# Vendored front-end assets (written by scripts/refresh-assets.sh; do not edit by hand)

| file | npm package | version | licence |
|---|---|---|---|
| htmx.min.js | htmx.org | $HTMX | 0BSD (htmx.LICENSE) |
| echarts.min.js | echarts | $ECHARTS | Apache-2.0 (echarts.LICENSE, echarts.NOTICE) |

The browser tests' axe-core $AXE (MPL-2.0) is in tests/browser/assets/.
EOT
echo "assets refreshed: htmx.org $HTMX, echarts $ECHARTS, axe-core $AXE"
