"""Outside environment=local, neither the API nor the worker starts with webhooks allowed to private
addresses or plain http (the settings of `make run` and the tests)."""

import pytest

from infra.deployment import Process, deployment_problems
from infra.settings import Settings
from tests.unit.test_deployment import SAFE


@pytest.mark.parametrize("process", ["api", "worker"])
@pytest.mark.parametrize(
    ("setting", "words"),
    [("webhooks_allow_private_addresses", "internal network"), ("webhooks_allow_http", "unencrypted")],
)
def test_local_webhook_settings_are_refused_in_production(process: Process, setting: str, words: str) -> None:
    assert deployment_problems(SAFE, process) == []
    [problem] = deployment_problems(SAFE.model_copy(update={setting: True}), process)
    assert words in problem
    assert deployment_problems(Settings.model_validate({"environment": "local", setting: True})) == []
