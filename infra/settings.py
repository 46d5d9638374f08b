"""All configuration, from the environment (prefix INVOICE_), with defaults that match `make services`."""

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="INVOICE_", env_file=".env", extra="ignore")

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
    login_failures_per_client: int = Field(default=5, description="Failed token requests per client per minute")
    login_failures_per_address: int = Field(default=20, description="Failed token requests per address per minute")

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

    @field_validator("jwt_signing_key", "link_signing_key")
    @classmethod
    def _long_enough(cls, key: SecretStr | None) -> SecretStr | None:
        if key is not None and len(key.get_secret_value()) < 32:
            raise ValueError("a signing key must be at least 32 characters (e.g. `openssl rand -hex 32`)")
        return key

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
