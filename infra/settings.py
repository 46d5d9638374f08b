"""All configuration, from the environment (prefix INVOICE_), with defaults that match `make services`."""

import ipaddress
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, FilePath, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    # hide_input_in_errors: a refused value (or, for a check across fields, all of them) would otherwise be
    # printed in the error, secrets included.
    model_config = SettingsConfigDict(env_prefix="INVOICE_", env_file=".env", extra="ignore", hide_input_in_errors=True)

    # Kafka
    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    topic_prefix: str = Field(default="", description="Prepended to every topic and the consumer group id")
    topic_partitions: int = 4
    topic_replication_factor: int = Field(default=1, description="For the topics the worker creates; 3 in production")
    topic_job_requests: str = "invoice-job-requests"
    topic_order_requests: str = "invoice-order-requests"
    topic_order_results: str = "invoice-order-results"
    topic_order_events: str = "order-events"
    topic_dead_letters: str = "invoice-dead-letters"
    worker_app_id: str = "invoice-worker"
    worker_data_dir: Path = PROJECT_ROOT / ".local" / "worker"
    invoice_concurrency: int = Field(default=4, description="Orders processed at once per worker")
    render_processes: int = Field(default=2, description="Size of the PDF rendering process pool")
    kafka_timeout_seconds: float = 5.0

    # --- Kafka security: TLS and SASL of every Kafka client (infra/kafka.py kafka_client_options) -----
    kafka_security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = Field(
        default="PLAINTEXT", description="SSL and SASL_SSL encrypt; SASL_* authenticate with a user and password"
    )
    kafka_sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] = Field(
        default="SCRAM-SHA-512", description="With SASL_PLAINTEXT or SASL_SSL"
    )
    kafka_sasl_username: str | None = None
    kafka_sasl_password: SecretStr | None = Field(default=None, description="Never logged")
    kafka_ssl_cafile: FilePath | None = Field(
        default=None, description="PEM CA of the brokers' certificates; the system's CAs if unset"
    )
    kafka_ssl_certfile: FilePath | None = Field(default=None, description="PEM client certificate (mutual TLS)")
    kafka_ssl_keyfile: FilePath | None = Field(default=None, description="PEM key of kafka_ssl_certfile")
    kafka_ssl_key_password: SecretStr | None = Field(default=None, description="Of an encrypted kafka_ssl_keyfile")

    # MongoDB (or FerretDB)
    mongo_url: SecretStr = SecretStr("mongodb://127.0.0.1:27017")
    mongo_database: str = "invoices"
    mongo_timeout_seconds: float = 3.0
    # Commands one process has in flight at most. FerretDB v1 can stall every client when all its
    # PostgreSQL connections are held by commands waiting for its metadata lock while an index or
    # collection is created; a bound per process keeps the sum of all processes below its pool.
    mongo_max_pool_size: int = 20

    # Invoice PDF storage
    storage: Literal["local", "s3"] = "local"
    local_storage_dir: Path = PROJECT_ROOT / ".local" / "invoices"
    s3_endpoint_url: str | None = "http://127.0.0.1:9000"
    s3_bucket: str = "invoices"
    s3_region: str = "us-east-1"
    s3_access_key_id: SecretStr = SecretStr("minioadmin")
    s3_secret_access_key: SecretStr = SecretStr("minioadmin")

    # API
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    # The worker's Prometheus endpoint (GET /metrics); 0 turns it off (say, for several workers on one host).
    worker_metrics_host: str = "127.0.0.1"
    worker_metrics_port: int = 9102
    tracing: bool = Field(
        default=False, description="Trace with OpenTelemetry (also on with OTEL_EXPORTER_OTLP_ENDPOINT)"
    )
    metrics_tenant_labels: bool = Field(default=False, description="Tenant IDs as metric label values (cardinality)")
    topic_invoice_events: str = Field(default="invoice-events", description="Public CloudEvents for downstream systems")
    public_base_url: str = Field(
        default="http://127.0.0.1:8000", description="Base of the download links for local storage"
    )
    download_link_ttl_seconds: int = 900
    max_order_ids: int = 10_000
    # 2 MiB: a MANUAL job of max_order_ids IDs of 64 characters is ~670 KB in ASCII and ~1.95 MB when
    # every character takes 3 bytes in UTF-8; a logo (at most 1 MiB) fits too.
    max_order_lines: int = Field(
        default=5_000, description="Lines (entries) per order event; an order with more is dead-lettered"
    )
    max_request_body_bytes: int = Field(default=2 * 1024 * 1024, description="Larger request bodies are 413")

    # Access control: OAuth2 client credentials; access tokens are JWTs
    jwt_signing_key: SecretStr | None = Field(
        default=None, description="HS256 key of the tokens this service issues; a random one per process if unset"
    )
    jwt_key_id: str = Field(default="k1", description="Key id of jwt_signing_key, written into each token")
    jwt_previous_keys: dict[str, SecretStr] = Field(
        default_factory=dict, description='Earlier keys by key id (JSON: {"k0": "..."}), still accepted: rotation'
    )
    jwt_issuer: str = "invoice-service"
    jwt_audience: str = "invoice-api"
    jwt_tenant_claim: str = "tenant"
    jwt_jwks_url: str | None = Field(default=None, description="Also accept tokens of this issuer's JWKS")
    jwt_external_issuer: str | None = Field(default=None, description="`iss` of the tokens checked by jwt_jwks_url")
    access_token_ttl_seconds: int = 3600
    token_session_idle_seconds: int = 120

    # --- Trust boundaries: proxies, login backoff, external tokens, revocation, tenant quotas ------
    trusted_proxies: list[str] = Field(
        default_factory=list,
        description='Addresses or CIDRs of proxies whose X-Forwarded-For is believed (JSON: ["10.0.0.0/8"])',
    )
    jwt_external_audience: str | None = Field(
        default=None, description="`aud` the tokens checked by jwt_jwks_url must carry; required with it"
    )
    login_free_failures: int = Field(
        default=5, ge=1, description="Failed token requests of one client from one address before backoff"
    )
    login_backoff_max_seconds: int = Field(default=900, ge=1, description="Longest wait of the login backoff")
    login_failure_window_seconds: int = Field(default=3600, ge=60, description="Failures are counted per window")
    client_check_seconds: float = Field(
        default=60.0, ge=0, le=60, description="How long a client's revocation state is cached per API process"
    )
    quota_jobs_per_minute: int = Field(default=60, ge=1, description="Job creation requests per tenant per minute")
    quota_resends_per_invoice_per_hour: int = Field(
        default=3, ge=1, description="Email resend requests per invoice per hour"
    )

    log_level: str = "INFO"
    log_json: bool = False

    # --- Payment capture and invoice email --------------------------------------------------------
    # The payment gateway (docs/payment-gateway.md). Without a URL, orders that need a capture fail and
    # stay open for a later job; orders paid on invoice or already captured are invoiced as before.
    payment_gateway_url: str | None = Field(default=None, description="Base URL, e.g. https://pay.example.com/v1")
    payment_gateway_api_key: SecretStr | None = Field(default=None, description="Sent as a Bearer token; never logged")
    payment_gateway_connect_timeout_seconds: float = 3.0
    payment_gateway_timeout_seconds: float = Field(default=10.0, description="For one request's answer")
    payment_gateway_retry_seconds: float = Field(
        default=60.0, description="Timeouts and 5xx answers are retried with backoff for at most this long"
    )
    # Invoice email: SMTP (aiosmtplib). The defaults suit a local mail catcher on port 1025.
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 1025
    smtp_security: Literal["none", "starttls", "tls"] = Field(
        default="none", description="none: plain SMTP; starttls: upgrade after connecting; tls: TLS from the start"
    )
    smtp_username: str | None = None
    smtp_password: SecretStr | None = Field(default=None, description="Never logged")
    smtp_timeout_seconds: float = 10.0
    email_default_sender: str = Field(
        default="invoices@example.com",
        description="The operator's From address and envelope sender; the seller's email becomes Reply-To",
    )
    email_retry_initial_seconds: float = Field(default=2.0, description="First wait before an email is sent again")
    email_retry_max_seconds: float = Field(default=300.0, description="Longest wait between two attempts")
    email_concurrency: int = Field(default=2, description="Emails retried or resent at once per worker")
    topic_invoice_emails: str = "invoice-emails"
    schedule_check_seconds: float = Field(
        default=30.0, gt=0, description="How often each worker looks for scheduled AUTOMATIC jobs that are due"
    )
    reminder_pass_seconds: float = Field(
        default=60.0, gt=0, description="How often each worker runs the overdue and reminder pass"
    )
    amount_open_seconds: float = Field(
        default=300.0,
        gt=0,
        description="How often each worker refreshes the invoice_amount_open gauge (it reads every open invoice)",
    )
    clock_offset_seconds: float = Field(
        default=0.0,
        description="Moves the worker's clock by this many seconds (tests of overdue and reminders); 0 in production",
    )
    topic_credit_note_requests: str = "invoice-credit-note-requests"
    topic_refunds: str = Field(default="invoice-refunds", description="Refunds of credit notes to retry")
    refund_retry_initial_seconds: float = Field(default=5.0, description="First wait before a refund is tried again")
    refund_retry_max_seconds: float = Field(default=600.0, description="Longest wait between two refund attempts")

    # --- Trust boundaries: the kind of deployment, download-link keys, the mail sender (issue 21) ----
    # Outside "local", startup refuses the defaults that only suit a laptop (infra/deployment.py).
    environment: Literal["local", "production"] = Field(
        default="production", description="local: `make run`, docker compose and the tests; anything else: production"
    )
    link_signing_key: SecretStr | None = Field(
        default=None, description="HMAC key of signed download links; required outside local (random per process)"
    )
    link_key_id: str = Field(default="k1", description="Key id of link_signing_key, written into each link (kid=)")
    link_previous_keys: dict[str, SecretStr] = Field(
        default_factory=dict, description='Earlier link keys by key id (JSON: {"k0": "..."}), still accepted: rotation'
    )
    email_verified_sender_domains: dict[str, list[str]] = Field(
        default_factory=dict,
        description='Per tenant, domains the operator verified (SPF, DKIM) for From: {"shop": ["shop.example"]}',
    )
    # --- end of trust boundaries -----------------------------------------------------------------------

    # --- Webhooks (docs/webhooks.md): tenants' endpoints, signed by Standard Webhooks ----------------------
    webhooks_allow_http: bool = Field(default=False, description="Accept plain http endpoints (local runs only)")
    webhooks_allow_private_addresses: bool = Field(
        default=False, description="Call loopback, private and link-local addresses (the tests and `make run`)"
    )
    webhooks_timeout_seconds: float = Field(default=10.0, gt=0, le=60, description="One attempt, connect to answer")
    webhooks_secret_overlap_hours: float = Field(
        default=24.0, ge=0, description="After a secret rotation, the old secret signs too for this long"
    )
    webhooks_retry_schedule_seconds: list[float] | None = Field(
        default=None,
        description="Waits after each failed attempt; unset: 5 s, 5 min, 30 min, 2 h, 5 h, 6 x 10 h (2.8 days)",
    )
    webhooks_poll_seconds: float = Field(default=1.0, gt=0, description="How often a worker looks for due deliveries")
    webhooks_concurrency: int = Field(default=32, ge=1, description="Attempts in flight per worker, all endpoints")
    webhooks_endpoint_concurrency: int = Field(default=2, ge=1, description="Attempts in flight per endpoint")
    webhooks_secret_key: SecretStr | None = Field(
        default=None, description="Encrypts webhook signing secrets at rest (AES-GCM); the same on API and worker"
    )
    webhooks_max_endpoints: int = Field(default=20, ge=1, description="Endpoints per tenant")

    @field_validator("jwt_signing_key", "link_signing_key")
    @classmethod
    def _long_enough(cls, key: SecretStr | None) -> SecretStr | None:
        if key is not None and len(key.get_secret_value()) < 32:
            raise ValueError("a signing key must be at least 32 characters (e.g. `openssl rand -hex 32`)")
        return key

    @field_validator("trusted_proxies")
    @classmethod
    def _addresses_or_networks(cls, proxies: list[str]) -> list[str]:
        for proxy in proxies:
            try:
                ipaddress.ip_network(proxy)
            except ValueError:
                raise ValueError(
                    f"trusted_proxies: {proxy!r} is not an IP address or network (CIDR such as 10.0.0.0/8)"
                ) from None
        return proxies

    @model_validator(mode="after")
    def _external_tokens_fully_checked(self) -> "Settings":
        # PyJWT checks no issuer for issuer=None: a JWKS alone would accept any issuer those keys sign for.
        if self.jwt_jwks_url and not (self.jwt_external_issuer and self.jwt_external_audience):
            raise ValueError(
                "jwt_jwks_url needs jwt_external_issuer and jwt_external_audience (INVOICE_JWT_EXTERNAL_ISSUER, "
                "INVOICE_JWT_EXTERNAL_AUDIENCE): the `iss` and `aud` that the external issuer's tokens carry"
            )
        return self

    @model_validator(mode="after")
    def _kafka_security_fits(self) -> "Settings":
        """Refuse at start what a Kafka client would otherwise fail on at its first connection, or ignore."""
        protocol = self.kafka_security_protocol
        sasl = protocol.startswith("SASL_")
        tls = protocol in ("SSL", "SASL_SSL")
        if sasl and not (self.kafka_sasl_username and self.kafka_sasl_password):
            raise ValueError(
                f"kafka_security_protocol {protocol} needs kafka_sasl_username and kafka_sasl_password "
                "(INVOICE_KAFKA_SASL_USERNAME, INVOICE_KAFKA_SASL_PASSWORD)"
            )
        if not sasl and (self.kafka_sasl_username or self.kafka_sasl_password):
            raise ValueError(f"kafka_sasl_username/password are set, but kafka_security_protocol {protocol} sends none")
        tls_options = (self.kafka_ssl_cafile, self.kafka_ssl_certfile, self.kafka_ssl_keyfile)
        if not tls and any(value is not None for value in (*tls_options, self.kafka_ssl_key_password)):
            raise ValueError(f"kafka_ssl_* settings are set, but kafka_security_protocol {protocol} uses no TLS")
        if (self.kafka_ssl_certfile is None) != (self.kafka_ssl_keyfile is None):
            raise ValueError("mutual TLS needs both kafka_ssl_certfile and kafka_ssl_keyfile")
        if self.kafka_ssl_key_password is not None and self.kafka_ssl_keyfile is None:
            raise ValueError("kafka_ssl_key_password is set without kafka_ssl_keyfile")
        return self

    @field_validator("link_previous_keys")
    @classmethod
    def _previous_long_enough(cls, keys: dict[str, SecretStr]) -> dict[str, SecretStr]:
        for key in keys.values():
            cls._long_enough(key)
        return keys

    def topic(self, name: str) -> str:
        return f"{self.topic_prefix}{name}"


@lru_cache
def get_settings() -> Settings:
    return Settings()
