#!/usr/bin/env bash
# Installs kustomize into .local/bin, for the tests that render deploy/k8s (tests/unit/test_k8s_manifests.py).
# Built from source with `go install` through the Go module proxy (prebuilt release binaries are not
# something this project downloads); a no-op when .local/bin/kustomize is already this version.
#
# Usage: deploy/local/kustomize.sh        (GO, GOPATH, GOMODCACHE, GOCACHE and LOCAL_DIR are honoured)
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$SCRIPT_DIR/../.." && pwd)
LOCAL_DIR=${LOCAL_DIR:-$ROOT/.local}
BIN_DIR=$LOCAL_DIR/bin
GO=${GO:-go}

MODULE=sigs.k8s.io/kustomize/kustomize/v5
# Pinned: the rendered manifests are what the tests check, so a new kustomize is a deliberate change.
# v5.8.1 is the newest that builds with Go 1.24 (the README's minimum); v5.8.2 needs 1.26, v5.8.3 needs 1.27.
KUSTOMIZE_VERSION=${KUSTOMIZE_VERSION:-v5.8.1}

say() { echo "kustomize: $*"; }

command -v "$GO" >/dev/null || { echo "kustomize: ERROR: Go is needed (1.24+) to build kustomize" >&2; exit 1; }

# The module version a Go binary was built from (`go version -m`), or nothing if there is no binary.
installed_version() {
    [[ -x $BIN_DIR/kustomize ]] || return 0
    "$GO" version -m "$BIN_DIR/kustomize" 2>/dev/null | awk -v m="$MODULE" '$1 == "mod" && $2 == m { print $3 }'
}

have=$(installed_version)
if [[ $have == "$KUSTOMIZE_VERSION" ]]; then
    say "$have already installed"
    exit 0
fi
say "installing $KUSTOMIZE_VERSION with go install (a build from source: a few minutes on a cold Go cache) ..."
mkdir -p "$BIN_DIR"
# CGO off: kustomize is pure Go, and then no C compiler is needed.
GOBIN=$BIN_DIR CGO_ENABLED=0 "$GO" install "$MODULE@$KUSTOMIZE_VERSION"
say "installed: $(installed_version) at $BIN_DIR/kustomize"
