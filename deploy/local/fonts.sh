#!/usr/bin/env bash
# The invoice PDF's font, DejaVu Sans, from Debian's fonts-dejavu-core (never committed to git).
# INVOICE_FONT_DIR points elsewhere for systems that keep it in another place.
set -euo pipefail
font_dir=${INVOICE_FONT_DIR:-/usr/share/fonts/truetype/dejavu}
if [[ -f $font_dir/DejaVuSans.ttf && -f $font_dir/DejaVuSans-Bold.ttf ]]; then
    exit 0
fi
if command -v apt-get >/dev/null && [[ $(id -u) == 0 ]]; then
    echo "fonts: installing fonts-dejavu-core"
    apt-get update -qq && apt-get install -y -qq fonts-dejavu-core >/dev/null
elif command -v apt-get >/dev/null; then
    sudo apt-get update -qq && sudo apt-get install -y -qq fonts-dejavu-core >/dev/null
else
    echo "fonts: DejaVu Sans not found in $font_dir; install it (e.g. fonts-dejavu-core) or set INVOICE_FONT_DIR" >&2
    exit 1
fi
