#!/usr/bin/env bash
# `make run`: the stream worker and the API in the foreground until Ctrl-C, which stops both.
# The services (Kafka, FerretDB, MinIO) are started by `make services` before this runs.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
bin="$root/.venv/bin"

# Zero-setup default: invoice PDFs in a local folder. INVOICE_STORAGE=s3 uses the local MinIO instead.
export INVOICE_STORAGE="${INVOICE_STORAGE:-local}"
export INVOICE_ENVIRONMENT="${INVOICE_ENVIRONMENT:-local}"  # accepts minioadmin and plain SMTP (infra/deployment.py)
export INVOICE_WEBHOOKS_ALLOW_HTTP="${INVOICE_WEBHOOKS_ALLOW_HTTP:-true}"  # webhooks to a receiver on this machine
export INVOICE_WEBHOOKS_ALLOW_PRIVATE_ADDRESSES="${INVOICE_WEBHOOKS_ALLOW_PRIVATE_ADDRESSES:-true}"

# Tokens and download links must outlive a restart of the API: local keys, made once, kept in .local/.
keys="$root/.local/signing-keys.env"
if [[ ! -f $keys ]]; then
  (umask 077 && "$bin/python" -c 'import secrets
print(f"INVOICE_JWT_SIGNING_KEY={secrets.token_hex(32)}")
print(f"INVOICE_LINK_SIGNING_KEY={secrets.token_hex(32)}")' >"$keys")
fi
while IFS='=' read -r name value; do
  [[ -n ${!name:-} ]] || export "$name=$value"  # the environment wins over the local file
done <"$keys"

# A client of the tenant "demo", made on first start; prints its credentials and a ready curl command.
"$bin/invoice-service" clients demo --credentials-file "$root/.local/demo-client.json"

# Demo orders of the tenant demo (several tax rates, a card payment, a business customer with a long
# order), published once onto the order events topic, as the upstream order service would.
seeded="$root/.local/demo-orders.published"
if [[ ! -f $seeded ]]; then
  "$bin/invoice-service" orders publish "$root/deploy/local/demo-orders.ndjson" && touch "$seeded"
  echo "demo orders demo-1001 ... demo-1005 published for tenant demo"
fi

# Invoice emails: unless INVOICE_SMTP_HOST names a mail server, a local catcher on 127.0.0.1:1025 keeps
# each message as a file in .local/mail/new/.
mail_sink=""
if [[ -z ${INVOICE_SMTP_HOST:-} ]]; then
  mkdir -p "$root/.local/mail/"{cur,new,tmp} "$root/.local/logs"  # a Maildir
  "$bin/python" -m aiosmtpd -n -l 127.0.0.1:1025 -c aiosmtpd.handlers.Mailbox "$root/.local/mail" \
    >>"$root/.local/logs/mail-sink.log" 2>&1 &
  mail_sink=$!
  echo "invoice emails go to .local/mail/new/ (a local catcher on 127.0.0.1:1025)"
fi

"$bin/invoice-service" worker &
worker=$!
stop() {
  kill -TERM "$worker" $mail_sink 2>/dev/null || true
  wait "$worker" 2>/dev/null || true
}
trap stop EXIT INT TERM

echo "invoice PDFs: .local/invoices/ (or the MinIO bucket with INVOICE_STORAGE=s3); emails: .local/mail/new/"
echo "API on http://${INVOICE_API_HOST:-127.0.0.1}:${INVOICE_API_PORT:-8000} (docs at /docs); worker pid $worker; Ctrl-C stops both"
"$bin/invoice-service" api
