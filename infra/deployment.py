"""What a deployment outside `local` must not run with: the defaults that suit a laptop.

The settings' defaults match `make services` (MinIO's `minioadmin`, a plain mail catcher on loopback,
signing keys made at random per process). A production deployment that forgot a setting would inherit
them silently; outside environment=local the API (its lifespan, and `invoice-service api`) and the
worker (`invoice-service worker`) refuse to start instead, naming every problem at once.
"""

import ipaddress
from typing import Literal

from infra.settings import Settings

DEFAULT_S3_KEY = "minioadmin"


class UnsafeDeployment(RuntimeError):
    """The settings keep a default that only suits a local setup; the message lists each one."""


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:  # a host name: it may resolve anywhere
        return False


Process = Literal["api", "worker"]


def deployment_problems(settings: Settings, process: Process = "api") -> list[str]:
    """Why these settings must not run outside a local setup (none for environment=local). The signing
    keys are the API's (it issues tokens and signs links); the worker needs neither, so it is not
    given them (deploy/k8s)."""
    if settings.environment == "local":
        return []
    problems = []
    keys = {settings.s3_access_key_id.get_secret_value(), settings.s3_secret_access_key.get_secret_value()}
    if settings.storage == "s3" and DEFAULT_S3_KEY in keys:
        problems.append("S3 credentials of MinIO's default `minioadmin` (INVOICE_S3_ACCESS_KEY_ID, _SECRET_ACCESS_KEY)")
    if settings.smtp_security == "none" and not _is_loopback(settings.smtp_host):
        problems.append(
            f"SMTP to {settings.smtp_host} without TLS (INVOICE_SMTP_SECURITY=starttls or tls; none only on loopback)"
        )
    if settings.webhooks_allow_private_addresses:
        problems.append("INVOICE_WEBHOOKS_ALLOW_PRIVATE_ADDRESSES: tenants' webhooks could reach the internal network")
    if settings.webhooks_allow_http:
        problems.append("INVOICE_WEBHOOKS_ALLOW_HTTP: webhook events and signatures would travel unencrypted")
    if process == "worker":
        return problems
    if settings.link_signing_key is None:
        problems.append("no INVOICE_LINK_SIGNING_KEY: download links would die on restart and fail on other replicas")
    if settings.jwt_signing_key is None:
        problems.append("no INVOICE_JWT_SIGNING_KEY: tokens would die on restart and fail on other replicas")
    return problems


def check_deployment(settings: Settings, process: Process = "api") -> None:
    """Raises UnsafeDeployment listing every problem of deployment_problems."""
    problems = deployment_problems(settings, process)
    if problems:
        listed = "".join(f"\n  - {problem}" for problem in problems)
        raise UnsafeDeployment(
            f"refusing to start with INVOICE_ENVIRONMENT={settings.environment}:{listed}\n"
            "(INVOICE_ENVIRONMENT=local accepts these defaults, for a local setup only)"
        )
