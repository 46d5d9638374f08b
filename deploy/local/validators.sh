#!/usr/bin/env bash
# The e-invoice validators the test suite runs (tests/validators/), installed into .local/validators/:
#   rules/en16931/{cii,ubl}/   the official EN 16931 Schematron, as the XSLT the phive rules jars ship
#   rules/xrechnung/           XRechnung 3.0.x Schematron (CII and UBL), XSLT
#   rules/peppol/              Peppol BIS Billing 3.0 Schematron (PEPPOL-EN16931-UBL), XSLT
#   xsd/cii/ xsd/ubl/          the CII D16B and UBL 2.1 XML Schemas
#   verapdf/                   veraPDF greenfield apps' class path (org.verapdf.apps.GreenfieldCliWrapper)
#   mustang/Mustang-CLI.jar    Mustang (java -jar ... --action validate)
# and saxonche (which runs the XSLT) into the virtualenv. Everything comes from Maven Central
# (deploy/local/validators/pom.xml) and PyPI; nothing is committed.
#
# Idempotent and cached: a second run with the same pom, script and rule versions does nothing.
# Usage: deploy/local/validators.sh [--force]
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$SCRIPT_DIR/../.." && pwd)
LOCAL_DIR=${LOCAL_DIR:-$ROOT/.local}
VALIDATORS_DIR=${VALIDATORS_DIR:-$LOCAL_DIR/validators}
MVN=${MVN:-mvn}
MVN_ARGS=${MVN_ARGS:-}  # e.g. -Dmaven.repo.local=/tmp/m2
PYTHON=${PYTHON:-$ROOT/.venv/bin/python}

# Which rule sets inside the jars: the current ones of each (see the folders external/schematron/*/).
EN16931_RULES=${EN16931_RULES:-1.3.16}
XRECHNUNG_RULES=${XRECHNUNG_RULES:-3.0.2}
PEPPOL_RULES=${PEPPOL_RULES:-2026.5}
MUSTANG_VERSION=${MUSTANG_VERSION:-2.26.0}

say() { echo "validators: $*"; }
die() { echo "validators: $*" >&2; exit 1; }

# Whatever changes what is installed changes the stamp; the stamp of the last complete install is kept.
stamp=$(cat "$SCRIPT_DIR/validators/pom.xml" "${BASH_SOURCE[0]}" | sha256sum | cut -c1-16)
stamp="$stamp $EN16931_RULES $XRECHNUNG_RULES $PEPPOL_RULES $MUSTANG_VERSION"

install_saxonche() {
    if "$PYTHON" -c 'import saxonche' 2>/dev/null; then
        return 0
    fi
    say "installing saxonche into the virtualenv ..."
    "$PYTHON" -m pip install --quiet -c "$ROOT/constraints.txt" saxonche
}

# Copy the files under `prefix` of a jar into `target`, flat (the XSLT and XSD refer to siblings by
# relative paths, which a flat copy of one folder keeps).
extract() {
    local jar=$1 prefix=$2 target=$3
    mkdir -p "$target"
    "$PYTHON" - "$jar" "$prefix" "$target" <<'PY'
import sys, zipfile
from pathlib import Path

jar, prefix, target = sys.argv[1], sys.argv[2], Path(sys.argv[3])
count = 0
with zipfile.ZipFile(jar) as archive:
    for name in archive.namelist():
        if name.startswith(prefix) and not name.endswith("/"):
            path = target / name[len(prefix):]
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(archive.read(name))
            count += 1
if count == 0:
    sys.exit(f"nothing under {prefix} in {jar}")
PY
}

# ph-ubl21's schemas import CCTS, XML Signature and XAdES by namespace only (its Java resolver finds
# them by namespace); libxml2 needs a schemaLocation, so one is added that names the local file.
locate_ubl_imports() {
    "$PYTHON" - "$1" <<'PY'
import re, sys
from pathlib import Path

folder = Path(sys.argv[1])
files = {
    "urn:un:unece:uncefact:data:specification:CoreComponentTypeSchemaModule:2": "CCTS_CCT_SchemaModule.xsd",
    "http://www.w3.org/2000/09/xmldsig#": "xmldsig-core-schema.xsd",
    "http://uri.etsi.org/01903/v1.3.2#": "XAdES01903v132-201601.xsd",
    "http://uri.etsi.org/01903/v1.4.1#": "XAdES01903v141-201601.xsd",
}
pattern = re.compile(r'<xsd:import\s+namespace="([^"]+)"\s*(?:schemaLocation="[^"]*"\s*)?/>')
for schema in folder.glob("*.xsd"):
    text = schema.read_text(encoding="utf-8")
    located = pattern.sub(
        lambda m: f'<xsd:import namespace="{m[1]}" schemaLocation="{files[m[1]]}"/>' if m[1] in files else m[0], text
    )
    if located != text:
        schema.write_text(located, encoding="utf-8")
PY
}

install_jars() {
    if [[ ${1:-} != --force && $(cat "$VALIDATORS_DIR/stamp" 2>/dev/null) == "$stamp" ]]; then
        say "already installed in $VALIDATORS_DIR ($EN16931_RULES, XRechnung $XRECHNUNG_RULES, Peppol $PEPPOL_RULES)"
        return 0
    fi
    command -v "$MVN" >/dev/null || die "mvn not found (used to fetch the validators from Maven Central)"
    command -v java >/dev/null || die "java not found (veraPDF and Mustang run on Java 17+)"
    local started=$SECONDS
    say "fetching rules, schemas, veraPDF and Mustang from Maven Central ..."
    # A fresh folder: jars of another version never end up on the same class path.
    rm -rf "$VALIDATORS_DIR"
    mkdir -p "$VALIDATORS_DIR"
    # shellcheck disable=SC2086  # MVN_ARGS is a list of words on purpose
    "$MVN" -q -B -Dstyle.color=never -f "$SCRIPT_DIR/validators/pom.xml" $MVN_ARGS -Dvalidators.dir="$VALIDATORS_DIR" \
        dependency:copy@rules dependency:copy-dependencies@verapdf

    local jars=$VALIDATORS_DIR/jars rules=$VALIDATORS_DIR/rules
    extract "$jars/phive-rules-en16931.jar" "external/schematron/$EN16931_RULES/cii/" "$rules/en16931/cii"
    extract "$jars/phive-rules-en16931.jar" "external/schematron/$EN16931_RULES/ubl/" "$rules/en16931/ubl"
    extract "$jars/phive-rules-xrechnung.jar" "external/schematron/$XRECHNUNG_RULES/" "$rules/xrechnung"
    extract "$jars/phive-rules-peppol.jar" "external/schematron/openpeppol/$PEPPOL_RULES/xslt/" "$rules/peppol"
    extract "$jars/ph-cii-d16b.jar" "external/schemas/d16b/" "$VALIDATORS_DIR/xsd/cii"
    extract "$jars/ph-ubl21.jar" "external/schemas/ubl21/" "$VALIDATORS_DIR/xsd/ubl"
    for schemas in ccts-cct-schemamodule xmldsig xades132 xades141; do
        extract "$jars/ph-xsds-$schemas.jar" "schemas/" "$VALIDATORS_DIR/xsd/ubl/common"
    done
    locate_ubl_imports "$VALIDATORS_DIR/xsd/ubl/common"
    # Mustang-CLI is one shaded jar whose pom's parent is missing from Maven Central (see the pom):
    # fetched into the local Maven repository without its descriptor's dependencies, then copied.
    # shellcheck disable=SC2086
    "$MVN" -q -B -Dstyle.color=never $MVN_ARGS dependency:get -Dartifact="org.mustangproject:Mustang-CLI:$MUSTANG_VERSION" -Dtransitive=false
    local repository
    # shellcheck disable=SC2086
    repository=$("$MVN" -q -B -Dstyle.color=never $MVN_ARGS help:evaluate -Dexpression=settings.localRepository -DforceStdout |
        sed 's/\x1b\[[0-9;]*m//g')  # Debian's mvn colours even -q -B output
    mkdir -p "$VALIDATORS_DIR/mustang"
    cp "$repository/org/mustangproject/Mustang-CLI/$MUSTANG_VERSION/Mustang-CLI-$MUSTANG_VERSION.jar" \
        "$VALIDATORS_DIR/mustang/Mustang-CLI.jar"
    # The rules jars are extracted; keeping them would only double the space.
    rm -rf "$jars"
    echo "$stamp" >"$VALIDATORS_DIR/stamp"
    say "installed in $VALIDATORS_DIR in $((SECONDS - started)) s"
}

install_saxonche
install_jars "${1:-}"
