"""Outside environment=local, startup refuses the defaults that only suit a laptop, naming each."""

import pytest
from pydantic import SecretStr

from infra.deployment import UnsafeDeployment, check_deployment, deployment_problems
from infra.settings import Settings

SAFE = Settings(
    storage="s3",
    s3_access_key_id=SecretStr("AKIA-real"),
    s3_secret_access_key=SecretStr("a-real-secret"),
    smtp_host="smtp.example.com",
    smtp_security="starttls",
    link_signing_key=SecretStr("l" * 32),
    jwt_signing_key=SecretStr("j" * 32),
)


def test_production_is_the_default() -> None:
    assert Settings().environment == "production"


def test_the_defaults_are_refused_outside_local_with_every_problem_in_one_message() -> None:
    defaults = Settings(storage="s3", smtp_host="smtp.example.com")
    with pytest.raises(UnsafeDeployment) as refused:
        check_deployment(defaults)
    message = str(refused.value)
    for named in ("minioadmin", "smtp.example.com without TLS", "INVOICE_LINK_SIGNING_KEY", "INVOICE_JWT_SIGNING_KEY"):
        assert named in message
    assert len(deployment_problems(defaults)) == 4


def test_the_same_defaults_are_accepted_for_local() -> None:
    check_deployment(Settings(environment="local", storage="s3", smtp_host="smtp.example.com"))


def test_a_configured_production_starts() -> None:
    check_deployment(SAFE)
    unused = SAFE.model_copy(update={"storage": "local", "s3_access_key_id": SecretStr("minioadmin")})
    assert deployment_problems(unused) == []  # S3 keys matter only with S3 storage


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1"])
def test_plain_smtp_to_loopback_is_accepted(host: str) -> None:
    assert deployment_problems(SAFE.model_copy(update={"smtp_host": host, "smtp_security": "none"})) == []


@pytest.mark.parametrize(
    "update",
    [
        {"s3_secret_access_key": SecretStr("minioadmin")},
        {"smtp_security": "none"},
        {"link_signing_key": None},
        {"jwt_signing_key": None},
    ],
)
def test_each_default_alone_is_refused(update: dict[str, object]) -> None:
    assert len(deployment_problems(SAFE.model_copy(update=update))) == 1


def test_the_worker_needs_no_signing_key_but_no_default_credentials_either() -> None:
    keyless = SAFE.model_copy(update={"link_signing_key": None, "jwt_signing_key": None})
    assert deployment_problems(keyless, "worker") == []
    assert len(deployment_problems(keyless, "api")) == 2
    defaults = Settings(storage="s3", smtp_host="smtp.example.com")
    assert len(deployment_problems(defaults, "worker")) == 2  # minioadmin and plain SMTP


async def test_the_api_does_not_start_with_the_defaults() -> None:
    from bootstrap.api import build_api

    app = build_api(Settings())
    with pytest.raises(UnsafeDeployment):
        async with app.router.lifespan_context(app):
            pass


@pytest.mark.parametrize("command", ["api", "worker"])
def test_the_commands_refuse_to_start_with_the_defaults(command: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from cli import app as cli_app
    from infra.settings import get_settings

    for name in ("INVOICE_ENVIRONMENT", "INVOICE_LINK_SIGNING_KEY", "INVOICE_JWT_SIGNING_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("INVOICE_STORAGE", "s3")
    monkeypatch.setenv("INVOICE_SMTP_HOST", "smtp.example.com")
    monkeypatch.chdir("/")  # no .env file
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(cli_app, [command])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 2, result.output
    assert "refusing to start with INVOICE_ENVIRONMENT=production" in result.output
    assert "minioadmin" in result.output and "without TLS" in result.output
