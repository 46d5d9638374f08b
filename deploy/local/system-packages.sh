#!/usr/bin/env bash
# Debian packages the project needs beside Python: DejaVu Sans, the invoice PDF's font (fonts-dejavu-core,
# never committed to git) and its Noto fallbacks (fonts-noto-core, fonts-noto-cjk), pdftoppm (poppler-utils), with which tests check that each PDF renders, and
# PostgreSQL, the storage under the local FerretDB (deploy/local/services.sh runs its own cluster), and openssl.
# INVOICE_FONT_DIR points elsewhere for systems that keep the font in another place.
set -euo pipefail
font_dir=${INVOICE_FONT_DIR:-/usr/share/fonts/truetype/dejavu}
missing=()
[[ -f $font_dir/DejaVuSans.ttf && -f $font_dir/DejaVuSans-Bold.ttf ]] || missing+=(fonts-dejavu-core)
# The fallback fonts for characters DejaVu Sans lacks (streams/rendering/fonts.py): Noto Sans, Noto Sans CJK.
[[ -f /usr/share/fonts/truetype/noto/NotoSans-Regular.ttf && -f /usr/share/fonts/truetype/noto/NotoSans-Bold.ttf ]] ||
    missing+=(fonts-noto-core)
[[ -f /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc && -f /usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc ]] ||
    missing+=(fonts-noto-cjk)
command -v pdftoppm >/dev/null || missing+=(poppler-utils)
command -v openssl >/dev/null || missing+=(openssl)  # the local Kafka TLS listener's CA and certificates
[[ -n ${POSTGRES_BIN:-} || -n $(find /usr/lib/postgresql -maxdepth 3 -path '*/bin/postgres' 2>/dev/null) ]] ||
    missing+=(postgresql)
if ((${#missing[@]} == 0)); then
    exit 0
fi
sudo=()
[[ $(id -u) == 0 ]] || sudo=(sudo)
if command -v apt-get >/dev/null; then
    echo "system packages: installing ${missing[*]}"
    "${sudo[@]}" apt-get update -qq && "${sudo[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
else
    echo "system packages: ${missing[*]} missing; install them (or set INVOICE_FONT_DIR to DejaVu Sans)" >&2
    exit 1
fi
