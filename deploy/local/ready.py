"""Readiness checks for deploy/local/services.sh: one real request in each service's own protocol.

    python3 ready.py kafka HOST PORT            Kafka ApiVersions + Metadata: the broker answers and lists itself
    python3 ready.py kafka-tls HOST PORT CA     a TLS listener (SASL_SSL): the handshake verifies the broker's
                                                certificate against CA, then it answers ApiVersions (before login)
    python3 ready.py mongo HOST PORT            MongoDB wire protocol OP_MSG {ping: 1}: answers {ok: 1}
    python3 ready.py s3-bucket URL BUCKET       create the S3 bucket if absent (needs boto3; the project's venv has it)

Exit status 0 when ready, 1 when not (the reason on stderr). Kafka and MongoDB checks use only the
standard library, so they work with any python3 and do not depend on the project's venv being built.
"""

import os
import socket
import ssl
import struct
import sys

TIMEOUT_SECONDS = 3.0


def recv_exactly(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise ConnectionError("connection closed by the server")
        data += chunk
    return data


# --- Kafka ---------------------------------------------------------------------------------------------

API_METADATA = 3
API_API_VERSIONS = 18
METADATA_VERSION = 4  # the oldest Metadata version Kafka 4.x still accepts, and the last non-flexible one


def kafka_request(sock: socket.socket, api_key: int, api_version: int, body: bytes) -> bytes:
    """Send one request (header v1) and return the response body (after the v0 response header)."""
    client_id = b"services.sh"
    header = struct.pack(">hhih", api_key, api_version, 1, len(client_id)) + client_id
    message = header + body
    sock.sendall(struct.pack(">i", len(message)) + message)
    (size,) = struct.unpack(">i", recv_exactly(sock, 4))
    response = recv_exactly(sock, size)
    return response[4:]  # skip the correlation id


def api_versions(sock: socket.socket) -> dict[int, tuple[int, int]]:
    """ApiVersions v0, which every broker version answers (a SASL listener too, before the login)."""
    body = kafka_request(sock, API_API_VERSIONS, 0, b"")
    error_code, count = struct.unpack(">hi", body[:6])
    if error_code != 0:
        raise RuntimeError(f"ApiVersions error code {error_code}")
    versions = {}
    for i in range(count):
        key, low, high = struct.unpack(">hhh", body[6 + 6 * i : 12 + 6 * i])
        versions[key] = (low, high)
    return versions


def check_kafka_tls(host: str, port: int, cafile: str) -> str:
    context = ssl.create_default_context(cafile=cafile)  # verifies the certificate and that it names host
    with (
        socket.create_connection((host, port), timeout=TIMEOUT_SECONDS) as raw,
        context.wrap_socket(raw, server_hostname=host) as sock,
    ):
        sock.settimeout(TIMEOUT_SECONDS)
        versions = api_versions(sock)
        return f"kafka TLS listener ready: {sock.version()}, {len(versions)} APIs"


def check_kafka(host: str, port: int) -> str:
    with socket.create_connection((host, port), timeout=TIMEOUT_SECONDS) as sock:
        sock.settimeout(TIMEOUT_SECONDS)
        versions = api_versions(sock)
        low, high = versions.get(API_METADATA, (0, -1))
        if not low <= METADATA_VERSION <= high:
            raise RuntimeError(f"broker supports Metadata v{low}-v{high}, this check speaks v{METADATA_VERSION}")

        # Metadata v4 for no topics: the broker must list at least one broker (itself) once it is serving.
        request = struct.pack(">ib", 0, 0)  # empty topic array, allow_auto_topic_creation=false
        body = kafka_request(sock, API_METADATA, METADATA_VERSION, request)
        (broker_count,) = struct.unpack(">i", body[4:8])  # after throttle_time_ms
        if broker_count < 1:
            raise RuntimeError("Metadata lists no broker yet")
        return f"kafka ready: {broker_count} broker(s), Metadata v{low}-v{high}"


# --- MongoDB wire protocol (FerretDB) ------------------------------------------------------------------

OP_MSG = 2013


def bson_ping_document() -> bytes:
    """The BSON document {ping: 1, $db: "admin"}, encoded by hand (no bson package needed)."""
    ping = b"\x10ping\x00" + struct.pack("<i", 1)  # int32 element
    db = b"admin\x00"
    database = b"\x02$db\x00" + struct.pack("<i", len(db)) + db  # string element
    elements = ping + database + b"\x00"
    return struct.pack("<i", 4 + len(elements)) + elements


def check_mongo(host: str, port: int) -> str:
    payload = struct.pack("<I", 0) + b"\x00" + bson_ping_document()  # flagBits, section kind 0, body
    header = struct.pack("<iiii", 16 + len(payload), 1, 0, OP_MSG)
    with socket.create_connection((host, port), timeout=TIMEOUT_SECONDS) as sock:
        sock.settimeout(TIMEOUT_SECONDS)
        sock.sendall(header + payload)
        size, _request_id, _response_to, op_code = struct.unpack("<iiii", recv_exactly(sock, 16))
        reply = recv_exactly(sock, size - 16)
    if op_code != OP_MSG:
        raise RuntimeError(f"unexpected reply opCode {op_code}")
    # The reply document must hold ok: 1 (a double in MongoDB and FerretDB replies).
    if b"\x01ok\x00" + struct.pack("<d", 1.0) not in reply:
        raise RuntimeError(f"ping not ok: {reply!r}")
    return "mongo ready: ping ok"


# --- S3 (MinIO) ----------------------------------------------------------------------------------------


def ensure_bucket(endpoint_url: str, bucket: str) -> str:
    import boto3
    from botocore.exceptions import ClientError

    s3 = boto3.client(
        "s3",
        endpoint_url=endpoint_url,
        region_name="us-east-1",
        aws_access_key_id=os.environ["MINIO_ROOT_USER"],
        aws_secret_access_key=os.environ["MINIO_ROOT_PASSWORD"],
    )
    try:
        s3.head_bucket(Bucket=bucket)
        return f"s3 bucket {bucket} exists"
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") not in ("404", "NoSuchBucket"):
            raise
    s3.create_bucket(Bucket=bucket)
    return f"s3 bucket {bucket} created"


def main(argv: list[str]) -> int:
    try:
        if argv[1] == "kafka":
            message = check_kafka(argv[2], int(argv[3]))
        elif argv[1] == "kafka-tls":
            message = check_kafka_tls(argv[2], int(argv[3]), argv[4])
        elif argv[1] == "mongo":
            message = check_mongo(argv[2], int(argv[3]))
        elif argv[1] == "s3-bucket":
            message = ensure_bucket(argv[2], argv[3])
        else:
            print(__doc__, file=sys.stderr)
            return 2
    except Exception as error:  # any failure just means "not ready (yet)"
        print(f"{argv[1]} not ready: {type(error).__name__}: {error}", file=sys.stderr)
        return 1
    print(message)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
