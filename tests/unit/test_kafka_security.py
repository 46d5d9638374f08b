"""Kafka security from the settings: each protocol and mechanism gives the aiokafka options every client
uses (infra/kafka.py kafka_client_options) and the same as Faust credentials (streams/app.py); the
combinations that cannot work are refused when the settings load, and no secret shows in a repr or an
error. The real broker's SASL_SSL listener is tests/integration/test_kafka_security.py."""

import ssl
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from faust.transport.drivers.aiokafka import credentials_to_aiokafka_auth
from pydantic import ValidationError

from infra.kafka import kafka_client_options
from infra.settings import Settings
from streams.app import faust_credentials

PASSWORD = "s3cret-sasl-password"
KEY_PASSWORD = "s3cret-key-password"


def certificate(subject: str, key: ec.EllipticCurvePrivateKey, issuer: x509.Certificate | None = None,
                issuer_key: ec.EllipticCurvePrivateKey | None = None) -> x509.Certificate:  # fmt: skip
    now = datetime.now(UTC)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer.subject if issuer else name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=issuer is None, path_length=None), critical=True)
    )
    return builder.sign(issuer_key or key, hashes.SHA256())


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A CA and a client certificate signed by it, the client's key encrypted with KEY_PASSWORD."""
    folder = tmp_path_factory.mktemp("kafka-tls")
    ca_key, client_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = certificate("test CA", ca_key)
    client = certificate("invoice-client", client_key, ca, ca_key)
    files = {"ca": folder / "ca.crt", "cert": folder / "client.crt", "key": folder / "client.key"}
    files["ca"].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    files["cert"].write_bytes(client.public_bytes(serialization.Encoding.PEM))
    files["key"].write_bytes(
        client_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(KEY_PASSWORD.encode()),
        )
    )
    return files


def settings(**values: Any) -> Settings:
    """Settings from these values only (no environment or .env file of this process mixes in)."""
    return Settings.model_validate({"kafka_bootstrap_servers": "broker-1:9093,broker-2:9093", **values})


def sasl(protocol: str, mechanism: str, **values: Any) -> Settings:
    return settings(
        kafka_security_protocol=protocol,
        kafka_sasl_mechanism=mechanism,
        kafka_sasl_username="invoice-api",
        kafka_sasl_password=PASSWORD,
        **values,
    )


def faust_options(options: dict[str, Any]) -> dict[str, Any]:
    """What Faust's aiokafka driver makes of the worker's credentials, to compare with the other clients'."""
    auth = credentials_to_aiokafka_auth(faust_credentials(options))
    return {"bootstrap_servers": options["bootstrap_servers"]} | {k: v for k, v in auth.items() if v is not None}


def test_plaintext_by_default_as_make_run_has_it() -> None:
    options = kafka_client_options(settings())
    assert options == {"bootstrap_servers": "broker-1:9093,broker-2:9093", "security_protocol": "PLAINTEXT"}
    assert faust_credentials(options) is None
    assert faust_options(options) == options


def test_ssl_verifies_the_broker_with_the_ca_file(tls_files: dict[str, Path]) -> None:
    options = kafka_client_options(settings(kafka_security_protocol="SSL", kafka_ssl_cafile=tls_files["ca"]))
    assert options.keys() == {"bootstrap_servers", "security_protocol", "ssl_context"}
    assert options["security_protocol"] == "SSL"
    context: ssl.SSLContext = options["ssl_context"]
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    assert [cert["subject"] for cert in context.get_ca_certs()] == [((("commonName", "test CA"),),)]
    assert faust_options(options) == options


def test_ssl_without_a_ca_file_trusts_the_system_cas() -> None:
    context: ssl.SSLContext = kafka_client_options(settings(kafka_security_protocol="SSL"))["ssl_context"]
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname


def test_mutual_tls_loads_the_client_certificate_with_its_key_password(tls_files: dict[str, Path]) -> None:
    values = {
        "kafka_security_protocol": "SSL",
        "kafka_ssl_cafile": tls_files["ca"],
        "kafka_ssl_certfile": tls_files["cert"],
        "kafka_ssl_keyfile": tls_files["key"],
    }
    assert isinstance(
        kafka_client_options(settings(**values, kafka_ssl_key_password=KEY_PASSWORD))["ssl_context"], ssl.SSLContext
    )
    # A wrong key password fails where the options are made (the API and the worker at start), loudly.
    with pytest.raises(ssl.SSLError):
        kafka_client_options(settings(**values, kafka_ssl_key_password="not-the-key-password"))


@pytest.mark.parametrize("mechanism", ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"])
def test_sasl_plaintext_logs_in_without_tls(mechanism: str) -> None:
    options = kafka_client_options(sasl("SASL_PLAINTEXT", mechanism))
    assert options == {
        "bootstrap_servers": "broker-1:9093,broker-2:9093",
        "security_protocol": "SASL_PLAINTEXT",
        "sasl_mechanism": mechanism,
        "sasl_plain_username": "invoice-api",
        "sasl_plain_password": PASSWORD,
    }
    assert faust_options(options) == options


@pytest.mark.parametrize("mechanism", ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"])
def test_sasl_ssl_logs_in_over_tls(mechanism: str, tls_files: dict[str, Path]) -> None:
    options = kafka_client_options(sasl("SASL_SSL", mechanism, kafka_ssl_cafile=tls_files["ca"]))
    assert options["security_protocol"] == "SASL_SSL"
    assert options["sasl_mechanism"] == mechanism
    assert (options["sasl_plain_username"], options["sasl_plain_password"]) == ("invoice-api", PASSWORD)
    assert isinstance(options["ssl_context"], ssl.SSLContext)
    assert faust_options(options) == options  # the same context object, the same login


def test_secrets_show_in_no_repr(tls_files: dict[str, Path]) -> None:
    loaded = sasl("SASL_SSL", "SCRAM-SHA-512", kafka_ssl_cafile=tls_files["ca"])
    assert PASSWORD not in repr(loaded) and PASSWORD not in str(loaded.model_dump())
    assert PASSWORD not in repr(faust_credentials(kafka_client_options(loaded)))


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"kafka_security_protocol": "SASL_SSL"}, "needs kafka_sasl_username and kafka_sasl_password"),
        (
            {"kafka_security_protocol": "SASL_PLAINTEXT", "kafka_sasl_username": "invoice-api"},
            "needs kafka_sasl_username and kafka_sasl_password",
        ),
        ({"kafka_sasl_username": "invoice-api", "kafka_sasl_password": PASSWORD}, "PLAINTEXT sends none"),
        ({"kafka_ssl_cafile": "CA"}, "PLAINTEXT uses no TLS"),
        (
            {
                "kafka_security_protocol": "SASL_PLAINTEXT",
                "kafka_sasl_username": "u",
                "kafka_sasl_password": "p",
                "kafka_ssl_cafile": "CA",
            },
            "SASL_PLAINTEXT uses no TLS",
        ),
        ({"kafka_security_protocol": "SSL", "kafka_ssl_certfile": "CERT"}, "both kafka_ssl_certfile and"),
        ({"kafka_security_protocol": "SSL", "kafka_ssl_keyfile": "KEY"}, "both kafka_ssl_certfile and"),
        ({"kafka_security_protocol": "SSL", "kafka_ssl_key_password": "x"}, "without kafka_ssl_keyfile"),
        ({"kafka_security_protocol": "SSL", "kafka_ssl_cafile": "/no/such/ca.crt"}, "kafka_ssl_cafile"),
        ({"kafka_security_protocol": "TLS"}, "kafka_security_protocol"),
        ({"kafka_security_protocol": "SASL_SSL", "kafka_sasl_mechanism": "GSSAPI"}, "kafka_sasl_mechanism"),
    ],
)
def test_combinations_that_cannot_work_are_refused_at_load(
    values: dict[str, str], message: str, tls_files: dict[str, Path]
) -> None:
    files = {"CA": tls_files["ca"], "CERT": tls_files["cert"], "KEY": tls_files["key"]}
    with pytest.raises(ValidationError, match=message) as refused:
        settings(**{name: files.get(value, value) for name, value in values.items()})
    assert PASSWORD not in str(refused.value)
