#!/bin/sh
# Render the page `dlt plot` wrote in headless Chromium and save a screenshot, to check
# by eye that the learning curves (or a sweep's chart) draw (see docs/plot.md).
#
#   scripts/plot-screenshot.sh <run-dir | sweep-dir | plot.html> [out.png]
#
# Prints the PNG's path on its last line. Without out.png the screenshot goes to a new
# file under $TMPDIR (or /tmp): screenshots are not meant to be committed.
# The window is sized to the chart: the <svg> element's width and height plus the
# page's 8-pixel margins. Needs Chromium (Debian: apt-get install chromium); set
# CHROMIUM=/path/to/chrome to use another binary. --no-sandbox lets it run as root
# (containers, CI); the page is a local file without scripts.
set -eu

usage() {
  echo "usage: $0 <run-dir | sweep-dir | plot.html> [out.png]" >&2
  exit 2
}
[ $# -ge 1 ] && [ $# -le 2 ] || usage

page=$1
[ -d "$page" ] && page=$page/plot.html
if [ ! -f "$page" ]; then
  echo "error: $page: no such file; run dlt plot <run-dir | sweep-dir> first" >&2
  exit 2
fi
page=$(cd "$(dirname "$page")" && pwd)/$(basename "$page")

browser=${CHROMIUM:-}
if [ -z "$browser" ]; then
  for candidate in chromium chromium-browser google-chrome; do
    if command -v "$candidate" >/dev/null 2>&1; then
      browser=$candidate
      break
    fi
  done
fi
if [ -z "$browser" ]; then
  echo "error: no Chromium found (tried chromium, chromium-browser, google-chrome); install it (Debian: apt-get install chromium) or set CHROMIUM" >&2
  exit 1
fi

# The chart's size, from the first <svg ...> tag of the page.
svg_tag=$(grep -o '<svg [^>]*>' "$page" | head -n 1)
width=$(printf '%s\n' "$svg_tag" | sed -n 's/.* width="\([0-9]*\)".*/\1/p')
height=$(printf '%s\n' "$svg_tag" | sed -n 's/.* height="\([0-9]*\)".*/\1/p')
if [ -z "$width" ] || [ -z "$height" ]; then
  echo "error: $page: found no <svg width=... height=...>; is it a page dlt plot wrote?" >&2
  exit 2
fi
width=$((width + 16))
height=$((height + 16))

tmp=${TMPDIR:-/tmp}
if [ $# -eq 2 ]; then
  png=$2
else
  png=$(mktemp "$tmp/dlt-plot-XXXXXX")
  mv "$png" "$png.png"
  png=$png.png
fi
case $png in /*) ;; *) png=$(pwd)/$png ;; esac

# A throwaway profile, so nothing is read from or written to the user's own.
profile=$(mktemp -d "$tmp/dlt-chromium-XXXXXX")
log=$profile.log
trap 'rm -rf "$profile"' EXIT
rm -f "$png"
# --run-all-compositor-stages-before-draw: headless Chromium waits for every compositor
# stage (rasterising all tiles) before it draws the frame it captures. Without it, twice
# under load, test/sweepPlot.test.ts found a sweep page's curves in the screenshot but
# none of the best dot's pixels in the panels below them: most likely a frame taken
# before the lower tiles were rasterised. It happened once more with the flag, so that
# test takes the screenshot again when a panel is unpainted.
if ! timeout 120 "$browser" --headless --no-sandbox --disable-gpu --hide-scrollbars \
  --run-all-compositor-stages-before-draw \
  --force-device-scale-factor=1 --user-data-dir="$profile" \
  --window-size="$width,$height" --screenshot="$png" "file://$page" >"$log" 2>&1 || [ ! -s "$png" ]; then
  echo "error: $browser did not write $png; its output:" >&2
  cat "$log" >&2
  rm -f "$log"
  exit 1
fi
rm -f "$log"
echo "screenshot of $page (${width}x${height}):"
echo "$png"
