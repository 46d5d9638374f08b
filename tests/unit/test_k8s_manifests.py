"""deploy/k8s, rendered with kustomize and checked offline: every object against the Kubernetes JSON schemas
(kubernetes-validate ships them) or, for the KEDA and Strimzi custom resources, against the small schemas
in k8s-crd-schemas/; every env var is a real setting; every secret setting comes from a Secret; the pods
are hardened and probed; the partition count, the KEDA ceiling and the topic plan agree."""

import json
import re
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml
from pydantic import SecretStr

from infra.settings import Settings

ROOT = Path(__file__).parents[2]
K8S = ROOT / "deploy" / "k8s"
KUSTOMIZE = ROOT / ".local" / "bin" / "kustomize"
INSTALL = "make kustomize (or: bash deploy/local/kustomize.sh)"

BASE = "base"
EXAMPLE = "overlays/example"
RENDERINGS = [BASE, EXAMPLE]

# The oldest Kubernetes the manifests are meant for (README "Kubernetes") and the newest whose schemas
# kubernetes-validate ships. Strict: a field unknown to Kubernetes is an error, not silently dropped.
KUBERNETES_VERSIONS = ["1.30", "1.37"]

# Custom resources have no schema in kubernetes-validate; these are written from their documentation.
CRD_SCHEMAS = {
    ("keda.sh/v1alpha1", "ScaledObject"): "scaledobject-keda-v1alpha1.json",
    ("kafka.strimzi.io/v1beta2", "KafkaTopic"): "kafkatopic-kafka-v1beta2.json",
    ("kafka.strimzi.io/v1beta2", "KafkaUser"): "kafkauser-kafka-v1beta2.json",
    ("keda.sh/v1alpha1", "TriggerAuthentication"): "triggerauthentication-keda-v1alpha1.json",
}

# Env vars the manifests may set that are not INVOICE_ settings. None yet: OTEL_* and the like would be
# listed here, each with the reason, when issue 16's tracing lands.
OTHER_ENV_VARS: frozenset[str] = frozenset()

SECRET_NAME = "invoice-service"
# Every setting typed SecretStr (also inside a container type, e.g. jwt_previous_keys: dict[str, SecretStr]).
SECRET_SETTINGS = frozenset(
    name for name, field in Settings.model_fields.items() if SecretStr.__name__ in str(field.annotation)
)
# The settings that name a topic (INVOICE_TOPIC_*), as opposed to the topics' prefix and sizes.
TOPIC_SETTINGS = sorted(
    name
    for name in Settings.model_fields
    if name.startswith("topic_") and name not in {"topic_prefix", "topic_partitions", "topic_replication_factor"}
)

# Containers without probes, and why (none since the worker serves /metrics).
WITHOUT_PROBES: dict[str, str] = {}


@cache
def render(path: str) -> tuple[dict[str, Any], ...]:
    assert KUSTOMIZE.exists(), f"{KUSTOMIZE} is missing: install it with `{INSTALL}`"
    built = subprocess.run(
        [str(KUSTOMIZE), "build", str(K8S / path)], capture_output=True, text=True, timeout=120, check=False
    )
    assert built.returncode == 0, f"kustomize build {path} failed:\n{built.stderr}"
    return tuple(doc for doc in yaml.safe_load_all(built.stdout) if doc)


def of_kind(objects: tuple[dict[str, Any], ...], kind: str) -> list[dict[str, Any]]:
    return [obj for obj in objects if obj["kind"] == kind]


def one(objects: tuple[dict[str, Any], ...], kind: str, name: str) -> dict[str, Any]:
    found = [obj for obj in of_kind(objects, kind) if obj["metadata"]["name"] == name]
    assert len(found) == 1, f"expected one {kind} {name}, found {len(found)}"
    return found[0]


def settings_config(objects: tuple[dict[str, Any], ...]) -> dict[str, str]:
    (config_map,) = of_kind(objects, "ConfigMap")
    data: dict[str, str] = config_map["data"]
    return data


def configured_settings(objects: tuple[dict[str, Any], ...]) -> Settings:
    """The settings a pod gets from the ConfigMap (secrets aside), parsed by the Settings model; nothing of
    this process's environment or .env file mixes in."""
    values: dict[str, object] = {
        key.removeprefix("INVOICE_").lower(): value for key, value in settings_config(objects).items()
    }
    for name, value in values.items():  # as pydantic-settings reads a list or dict setting: JSON
        if str(value).startswith(("[", "{")):
            values[name] = json.loads(str(value))
    return Settings.model_validate(values)


def containers(objects: tuple[dict[str, Any], ...]) -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    """(deployment/container, container, pod spec) for every container of every Deployment."""
    return [
        (f"{deployment['metadata']['name']}/{container['name']}", container, deployment["spec"]["template"]["spec"])
        for deployment in of_kind(objects, "Deployment")
        for container in deployment["spec"]["template"]["spec"]["containers"]
    ]


def setting_of(env_var: str) -> str | None:
    """The Settings field an env var sets (pydantic-settings matches names case-insensitively), or None."""
    if not env_var.startswith("INVOICE_"):
        return None
    name = env_var.removeprefix("INVOICE_").lower()
    return name if name in Settings.model_fields else None


@pytest.mark.parametrize("path", RENDERINGS)
@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_every_object_is_valid_offline(path: str, version: str) -> None:
    objects = render(path)
    assert objects
    for obj in objects:
        where = f"{path}: {obj['kind']} {obj['metadata']['name']}"
        crd_schema = CRD_SCHEMAS.get((obj["apiVersion"], obj["kind"]))
        if crd_schema is not None:
            schema = json.loads((Path(__file__).parent / "k8s-crd-schemas" / crd_schema).read_text())
            errors = [error.message for error in jsonschema.Draft202012Validator(schema).iter_errors(obj)]
            assert not errors, f"{where}: {errors}"
            continue
        try:
            kubernetes_validate.validate(obj, version, strict=True)
        except kubernetes_validate.ValidationError as error:
            pytest.fail(f"{where} is not valid Kubernetes {version}: {error.message} at {list(error.path)}")
        except kubernetes_validate.SchemaNotFoundError as error:
            pytest.fail(f"{where}: {error.message}; a custom resource needs a schema in CRD_SCHEMAS")


def test_the_example_overlay_scales_the_worker_and_plans_the_topics() -> None:
    objects = render(EXAMPLE)
    assert of_kind(objects, "ScaledObject"), "the example overlay includes components/keda-worker-scaling"
    assert of_kind(objects, "KafkaTopic"), "the example overlay includes components/strimzi-topics"
    assert of_kind(objects, "KafkaUser"), "the example overlay includes components/strimzi-users"
    for container in (c for _, c, _ in containers(objects)):
        assert not container["image"].endswith(":latest") and ":" in container["image"], container["image"]
    # The KafkaTopics go to the Kafka cluster's namespace (Strimzi's topic operator watches only that one),
    # everything else to the service's.
    namespaces = {obj["metadata"].get("namespace") for obj in objects if obj["kind"] != "KafkaTopic"}
    assert namespaces == {"invoices"}
    assert {topic["metadata"]["namespace"] for topic in of_kind(objects, "KafkaTopic")} == {"kafka"}


@pytest.mark.parametrize("path", RENDERINGS)
def test_every_env_var_is_a_setting(path: str) -> None:
    objects = render(path)
    config_map_names = {cm["metadata"]["name"] for cm in of_kind(objects, "ConfigMap")}
    for where, container, _ in containers(objects):
        names = [env["name"] for env in container.get("env", [])]
        for source in container.get("envFrom", []):
            # A Secret consumed whole would hide which settings it sets from this test: name each key.
            assert "secretRef" not in source, f"{where}: use env[].valueFrom.secretKeyRef, not envFrom.secretRef"
            assert source["configMapRef"]["name"] in config_map_names, f"{where}: {source}"
            names += settings_config(objects).keys()
        for name in names:
            assert setting_of(name) or name in OTHER_ENV_VARS, f"{where}: {name} is no field of infra.settings"
    configured_settings(objects)  # every ConfigMap value parses as its setting's type


@pytest.mark.parametrize("path", RENDERINGS)
def test_every_secret_setting_comes_from_a_secret(path: str) -> None:
    objects = render(path)
    assert "mongo_url" in SECRET_SETTINGS and "jwt_previous_keys" in SECRET_SETTINGS  # the detection works
    from_secrets: set[str] = set()
    # Strimzi's User Operator makes a Secret named like each KafkaUser, its SCRAM password under `password`.
    kafka_user_secrets = {(user["metadata"]["name"], "password") for user in of_kind(objects, "KafkaUser")}
    for key in settings_config(objects):
        assert setting_of(key) not in SECRET_SETTINGS, f"{key} is a secret: it belongs in the Secret, not the ConfigMap"
    for where, container, _ in containers(objects):
        for env in container.get("env", []):
            setting = setting_of(env["name"])
            if setting not in SECRET_SETTINGS:
                continue
            assert "value" not in env, f"{where}: {env['name']} is a secret, set as a literal"
            ref = env.get("valueFrom", {}).get("secretKeyRef")
            assert ref is not None, f"{where}: {env['name']} is a secret and must come from a secretKeyRef"
            from_kafka_user = setting == "kafka_sasl_password" and (ref["name"], ref["key"]) in kafka_user_secrets
            assert ref["name"] == SECRET_NAME or from_kafka_user, f"{where}: {env['name']} from Secret {ref['name']}"
            from_secrets.add(setting)
    assert from_secrets == SECRET_SETTINGS, f"secret settings no container gets: {SECRET_SETTINGS - from_secrets}"

    # More than one API replica (the HPA's minimum) must share the token signing key: it may not be optional.
    api = one(objects, "Deployment", "invoice-api")["spec"]["template"]["spec"]["containers"][0]
    jwt_key = next(env for env in api["env"] if env["name"] == "INVOICE_JWT_SIGNING_KEY")
    assert not jwt_key["valueFrom"]["secretKeyRef"].get("optional", False)


@pytest.mark.parametrize("path", RENDERINGS)
def test_pods_are_hardened_sized_and_probed(path: str) -> None:
    objects = render(path)
    assert {name for name, _, _ in containers(objects)} == {"invoice-api/api", "invoice-worker/worker"}
    for where, container, pod in containers(objects):
        assert pod["securityContext"]["runAsNonRoot"] is True, where
        assert pod["securityContext"]["runAsUser"] != 0, where
        assert pod["automountServiceAccountToken"] is False, where
        context = container["securityContext"]
        assert context["readOnlyRootFilesystem"] is True, where
        assert context["allowPrivilegeEscalation"] is False, where
        assert context["capabilities"]["drop"] == ["ALL"], where
        assert {"cpu", "memory"} <= container["resources"]["requests"].keys(), where
        assert "memory" in container["resources"]["limits"], where
        # With a read-only root, whatever the process writes needs a volume: /tmp always.
        mounts = {mount["mountPath"] for mount in container.get("volumeMounts", [])}
        assert "/tmp" in mounts, where
        probes = {"readinessProbe", "livenessProbe"} & container.keys()
        if where in WITHOUT_PROBES:
            assert not probes, f"{where}: has probes now; drop it from WITHOUT_PROBES"
        else:
            assert probes == {"readinessProbe", "livenessProbe"}, where

    api = one(objects, "Deployment", "invoice-api")["spec"]["template"]["spec"]["containers"][0]
    assert api["readinessProbe"]["httpGet"]["path"] == "/health"  # the dependencies
    assert api["livenessProbe"]["httpGet"]["path"] == "/health/live"  # the process only
    port = api["ports"][0]["containerPort"]
    assert port == configured_settings(objects).api_port
    assert configured_settings(objects).api_host == "0.0.0.0"  # reachable from the Service, not loopback only

    worker_container = one(objects, "Deployment", "invoice-worker")["spec"]["template"]["spec"]["containers"][0]
    metrics_port = worker_container["ports"][0]["containerPort"]
    assert metrics_port == configured_settings(objects).worker_metrics_port
    assert configured_settings(objects).worker_metrics_host == "0.0.0.0"  # reachable by Prometheus and probes
    for probe in ("readinessProbe", "livenessProbe"):
        assert worker_container[probe]["httpGet"] == {"path": "/metrics", "port": "metrics"}, probe
    admitted = {
        port["port"]
        for policy in of_kind(objects, "NetworkPolicy")
        if policy["metadata"]["name"] == "invoice-worker"
        for rule in policy["spec"]["ingress"]
        for port in rule["ports"]
    }
    assert admitted == {metrics_port}

    worker = one(objects, "Deployment", "invoice-worker")["spec"]["template"]["spec"]
    data_dir = configured_settings(objects).worker_data_dir
    mounts = {Path(mount["mountPath"]) for mount in worker["containers"][0]["volumeMounts"]}
    assert any(data_dir.is_relative_to(mount) for mount in mounts), f"{data_dir} is on the read-only root"


@pytest.mark.parametrize("path", RENDERINGS)
def test_the_worker_may_finish_a_step_when_stopped(path: str) -> None:
    objects = render(path)
    settings = configured_settings(objects)
    worker = one(objects, "Deployment", "invoice-worker")["spec"]["template"]["spec"]
    # The slowest bounded step of one order: a capture retried for its whole window plus one last try,
    # then the email (one SMTP timeout per command; a few commands, so twice it as a margin).
    step = (
        settings.payment_gateway_retry_seconds
        + settings.payment_gateway_timeout_seconds
        + 2 * settings.smtp_timeout_seconds
    )
    assert worker["terminationGracePeriodSeconds"] >= step


@pytest.mark.parametrize("path", RENDERINGS)
def test_api_autoscaling_disruption_budget_and_service_match_the_pods(path: str) -> None:
    objects = render(path)
    api = one(objects, "Deployment", "invoice-api")
    labels = api["spec"]["template"]["metadata"]["labels"]
    assert "replicas" not in api["spec"], "the HPA owns the replica count"
    hpa = one(objects, "HorizontalPodAutoscaler", "invoice-api")
    assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "invoice-api"}
    assert [metric["resource"]["name"] for metric in hpa["spec"]["metrics"]] == ["cpu"]
    pdb = one(objects, "PodDisruptionBudget", "invoice-api")
    assert pdb["spec"]["selector"]["matchLabels"].items() <= labels.items()
    assert hpa["spec"]["minReplicas"] > pdb["spec"]["minAvailable"], "a drain could never evict an API pod"
    service = one(objects, "Service", "invoice-api")
    assert service["spec"]["selector"].items() <= labels.items()
    # Each NetworkPolicy selects the pods of one Deployment, and each Deployment's pods have one.
    policed = {
        policy["metadata"]["name"]: [
            deployment["metadata"]["name"]
            for deployment in of_kind(objects, "Deployment")
            if policy["spec"]["podSelector"]["matchLabels"].items()
            <= deployment["spec"]["template"]["metadata"]["labels"].items()
        ]
        for policy in of_kind(objects, "NetworkPolicy")
    }
    assert policed == {"invoice-api": ["invoice-api"], "invoice-worker": ["invoice-worker"]}


@pytest.mark.parametrize("path", RENDERINGS)
def test_partitions_bound_the_worker_scaling_and_size_the_topics(path: str) -> None:
    objects = render(path)
    settings = configured_settings(objects)
    assert "INVOICE_TOPIC_PARTITIONS" in settings_config(objects), "the partition count is set explicitly"
    group = settings.topic(settings.worker_app_id)  # Faust's consumer group is its app id (streams/app.py)

    for scaled in of_kind(objects, "ScaledObject"):
        spec = scaled["spec"]
        assert spec["scaleTargetRef"]["name"] == "invoice-worker"
        assert 1 <= spec["minReplicaCount"] <= spec["maxReplicaCount"] <= settings.topic_partitions
        (trigger,) = spec["triggers"]
        assert trigger["type"] == "kafka"
        assert trigger["metadata"]["bootstrapServers"] == settings.kafka_bootstrap_servers
        assert trigger["metadata"]["consumerGroup"] == group
        assert trigger["metadata"]["topic"] == settings.topic(settings.topic_order_requests)
        assert trigger["metadata"]["allowIdleConsumers"] == "false"
        # The README states the lag threshold; keep the two the same.
        assert f'lagThreshold: "{trigger["metadata"]["lagThreshold"]}"' in (ROOT / "README.md").read_text()

    topics = {topic["spec"]["topicName"]: topic["spec"] for topic in of_kind(objects, "KafkaTopic")}
    if topics:
        leader = f"{group}-__assignor-__leader"  # Faust's own topic, always one partition
        wanted = {settings.topic(getattr(settings, name)) for name in TOPIC_SETTINGS}
        assert topics.keys() == wanted | {leader}
        for name, spec in topics.items():
            assert spec["partitions"] == (1 if name == leader else settings.topic_partitions), name
            assert spec["replicas"] == settings.topic_replication_factor, name


def test_a_missing_kustomize_fails_naming_the_install_command(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(f"{__name__}.KUSTOMIZE", ROOT / ".local" / "bin" / "no-such-kustomize")
    with pytest.raises(AssertionError, match="make kustomize"):
        render.__wrapped__("base")


def acl_grants(user: dict[str, Any]) -> dict[tuple[str, str, str], set[str]]:
    """(resource type, name, pattern type) -> the operations a KafkaUser's ACLs allow on it."""
    grants: dict[tuple[str, str, str], set[str]] = {}
    for rule in user["spec"]["authorization"]["acls"]:
        assert rule.get("type", "allow") == "allow", rule
        resource = rule["resource"]
        key = (resource["type"], resource.get("name", ""), resource.get("patternType", "literal"))
        grants.setdefault(key, set()).update(rule["operations"])
    return grants


def topics_with(grants: dict[tuple[str, str, str], set[str]], operation: str) -> set[str]:
    return {name for (kind, name, _), operations in grants.items() if kind == "topic" and operation in operations}


def topic_settings_named_in(folder: str) -> set[str]:
    """The topic settings (topic_* names) the code of a folder names: where it produces or consumes."""
    found = set()
    for path in (ROOT / folder).rglob("*.py"):
        found |= set(re.findall(r"settings\.(topic_[a-z_]+)", path.read_text()))
    return found & set(TOPIC_SETTINGS)


WORKER_WRITES = (
    r"topics\.{}\.(send|publish)\b",
    r"bind_dead_letters\(topics\.{}\.channel\)",  # streams/failures.py sends there
    r"announcer\(topics\.{}\)",  # streams/public_events.py announces there
)
WORKER_READS = (r"app\.agent\(\s*topics\.{}\.channel",)


def worker_topics(patterns: tuple[str, ...]) -> set[str]:
    """The topic settings of the worker's Faust topics (streams/app.py Topics, from schemas/topics.py) that
    the worker's code (streams/, bootstrap/worker.py) uses as one of the `patterns` says."""
    from schemas import topics as contract

    declared = dict(re.findall(r"^\s*(\w+)=raw_topic\(contract\.(\w+)\)", (ROOT / "streams/app.py").read_text(), re.M))
    paths = [*(ROOT / "streams").rglob("*.py"), ROOT / "bootstrap" / "worker.py"]
    code = "\n".join(path.read_text() for path in paths)
    return {
        getattr(contract, spec).setting
        for variable, spec in declared.items()
        if any(re.search(pattern.format(variable), code) for pattern in patterns)
    }


def test_kafka_users_may_do_only_their_part() -> None:
    """components/strimzi-users: the API writes only the topics it publishes to, upstream only the order
    events, monitoring reads only the public events, the worker has its topics and its group; nobody may
    act on the cluster, on all topics, or delete and alter them. And the pods log in as their users."""
    objects = render(EXAMPLE)
    settings = configured_settings(objects)
    users = {user["metadata"]["name"]: acl_grants(user) for user in of_kind(objects, "KafkaUser")}
    assert users.keys() == {"invoice-api", "invoice-worker", "invoice-upstream", "invoice-monitoring"}
    topic = {name: settings.topic(getattr(settings, name)) for name in TOPIC_SETTINGS}
    planned = {spec["spec"]["topicName"] for spec in of_kind(objects, "KafkaTopic")}
    allowed = {"Read", "Write", "Describe", "Create"}
    for name, grants in users.items():
        for (kind, resource, pattern), operations in grants.items():
            assert kind in {"topic", "group"} and resource not in {"", "*"}, f"{name}: {kind} {resource!r}"
            assert operations <= allowed, f"{name} may {operations - allowed} on {resource}"
            if kind == "topic":
                assert pattern == "literal" and resource in planned, f"{name}: {resource} is no planned topic"

    api = users["invoice-api"]
    assert topics_with(api, "Write") == {topic[name] for name in topic_settings_named_in("service")}
    assert topics_with(api, "Read") == set() and not [key for key in api if key[0] == "group"]
    assert topics_with(users["invoice-upstream"], "Write") == {topic["topic_order_events"]}
    assert topics_with(users["invoice-upstream"], "Read") == set()
    monitoring = users["invoice-monitoring"]
    assert topics_with(monitoring, "Read") == {topic["topic_invoice_events"]}
    assert topics_with(monitoring, "Write") == set()
    assert ("group", settings.topic(settings.worker_app_id), "literal") not in monitoring

    worker = users["invoice-worker"]
    leader = f"{settings.topic(settings.worker_app_id)}-__assignor-__leader"  # Faust's own topic
    assert topics_with(worker, "Write") == {topic[name] for name in worker_topics(WORKER_WRITES)} | {leader}
    assert topics_with(worker, "Read") == {topic[name] for name in worker_topics(WORKER_READS)} | {leader}
    assert worker[("group", settings.topic(settings.worker_app_id), "literal")] >= {"Read"}

    for deployment, user in (("invoice-api", "invoice-api"), ("invoice-worker", "invoice-worker")):
        env = {
            item["name"]: item
            for item in one(objects, "Deployment", deployment)["spec"]["template"]["spec"]["containers"][0]["env"]
        }
        assert env["INVOICE_KAFKA_SECURITY_PROTOCOL"]["value"] == "SASL_SSL", deployment
        assert env["INVOICE_KAFKA_SASL_MECHANISM"]["value"] == "SCRAM-SHA-512", deployment
        assert env["INVOICE_KAFKA_SASL_USERNAME"]["value"] == user, deployment
        ref = env["INVOICE_KAFKA_SASL_PASSWORD"]["valueFrom"]["secretKeyRef"]
        assert (ref["name"], ref["key"], ref.get("optional", False)) == (user, "password", False), deployment

    # KEDA reads the worker's lag on the same listener, logged in as the worker.
    (trigger,) = one(objects, "ScaledObject", "invoice-worker")["spec"]["triggers"]
    assert (trigger["metadata"]["sasl"], trigger["metadata"]["tls"]) == ("scram_sha512", "enable")
    login = one(objects, "TriggerAuthentication", trigger["authenticationRef"]["name"])["spec"]
    assert {(env["parameter"], env["name"], env["containerName"]) for env in login["env"]} == {
        ("username", "INVOICE_KAFKA_SASL_USERNAME", "worker"),
        ("password", "INVOICE_KAFKA_SASL_PASSWORD", "worker"),
    }
    assert [ref["parameter"] for ref in login["secretTargetRef"]] == ["ca"]
