"""What of the job requests' limits needs the real Kafka (the 4xx answers are tested over the fakes in
tests/unit/api/test_api_jobs.py)."""

import httpx
import pytest

pytestmark = pytest.mark.integration

URL = "/invoice/{tenant}/jobs/invoices"


async def test_the_largest_manual_job_fits_under_the_limits(unconsumed_api: httpx.AsyncClient, tenant: str) -> None:
    order_ids = [f"{i:06d}-" + "x" * 57 for i in range(10_000)]  # 10,000 IDs of 64 characters
    response = await unconsumed_api.post(URL.format(tenant=tenant), json={"jobType": "MANUAL", "orderIds": order_ids})
    assert response.status_code == 201, response.text
