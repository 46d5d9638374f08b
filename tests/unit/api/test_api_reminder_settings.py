"""The reminder settings over the fakes: a round trip, and each invalid body a clear 400 with nothing stored."""

from typing import Any

import httpx
import pytest

from tests.api_fakes import FakeApi

URL = "/invoice/shop/settings/reminders"
LEVELS = {
    "levels": [
        {"daysAfterDue": 7},
        {"daysAfterDue": 21, "fee": "5.00", "wording": {"de-DE": {"subject": "Mahnung zu {number}"}}},
    ]
}


async def test_reminder_settings_round_trip_with_the_language_tag_normalised(api: httpx.AsyncClient) -> None:
    assert (await api.get(URL)).status_code == 404
    stored = await api.put(URL, json=LEVELS)
    assert stored.status_code == 200, stored.text
    read = (await api.get(URL)).json()
    assert read["levels"][0] == {"daysAfterDue": 7, "wording": {}}
    assert read["levels"][1]["fee"] == "5.00"
    assert read["levels"][1]["wording"] == {"de": {"subject": "Mahnung zu {number}"}}


@pytest.mark.parametrize(
    ("levels", "says"),
    [
        ([{"daysAfterDue": 7}, {"daysAfterDue": 7}], "strictly increasing"),
        ([{"daysAfterDue": 14}, {"daysAfterDue": 7}], "strictly increasing"),
        ([{"daysAfterDue": 0}], "greater than or equal to 1"),
        ([{"daysAfterDue": 7, "fee": "five"}], "decimal string"),
        ([{"daysAfterDue": 7, "fee": "-1"}], "between 0"),
        ([{"daysAfterDue": 7, "fee": "1.00001"}], "at most 4 decimals"),
        ([{"daysAfterDue": 7, "wording": {"xx": {"subject": "x"}}}], "not a language with a catalog"),
        ([{"daysAfterDue": 7, "wording": {"de": {"body": "Hallo {customer}"}}}], "only the placeholders"),
        ([{"daysAfterDue": 7, "extra": 1}], "Extra inputs"),
    ],
)
async def test_invalid_reminder_settings_are_400_and_not_stored(
    api: httpx.AsyncClient, levels: list[dict[str, Any]], says: str
) -> None:
    response = await api.put(URL, json={"levels": levels})
    assert response.status_code == 400, response.text
    assert says in response.text
    assert (await api.get(URL)).status_code == 404


def test_the_openapi_document_has_the_reminder_settings_with_an_example(fake: FakeApi) -> None:
    document = fake.app.openapi()
    operations = document["paths"]["/invoice/{tenant}/settings/reminders"]
    assert {operations["get"]["operationId"], operations["put"]["operationId"]} == {
        "GET-invoice-retrieve-reminders-settings",
        "PUT-invoice-update-reminders-settings",
    }
    example = document["components"]["schemas"]["ReminderSettings"]["examples"][0]
    assert example["levels"][1]["fee"] == "5.00"
