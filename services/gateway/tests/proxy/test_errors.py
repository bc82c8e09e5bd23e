"""An upstream that is down or too slow gets a clean envelope, never a stack trace."""

import time

from ..conftest import closed_port_url, silent_server


async def test_an_upstream_that_is_down_is_502_naming_it(http, start_gateway):
    async with start_gateway(provisioning_url=closed_port_url()) as url:
        response = await http.post(
            f"{url}/api/organizations", json={"slug": "acme"}, headers={"X-Request-ID": "r-502"}
        )
        assert response.status_code == 502
        assert response.json() == {
            "message": "The provisioning service is unavailable",
            "code": "upstream_unavailable",
            "details": {"upstream": "provisioning"},
        }
        assert response.headers["x-request-id"] == "r-502"
        # The other services are unaffected.
        assert (await http.get(f"{url}/api/chat/sessions")).status_code == 200


async def test_an_upstream_that_does_not_answer_in_time_is_504(http, start_gateway):
    async with start_gateway(upstream_read_timeout_seconds=0.3) as url:
        started = time.monotonic()
        response = await http.get(f"{url}/api/chat/_test/slow", params={"seconds": 1.5})
        elapsed = time.monotonic() - started
    assert response.status_code == 504
    assert response.json() == {
        "message": "The chat service did not answer in time",
        "code": "upstream_timeout",
        "details": {"upstream": "chat"},
    }
    assert elapsed < 1.2
    assert response.headers["x-request-id"]


async def test_an_upstream_that_accepts_and_never_answers_is_504(http, start_gateway):
    async with (
        silent_server() as silent,
        start_gateway(accounting_url=silent, upstream_read_timeout_seconds=0.3) as url,
    ):
        response = await http.get(f"{url}/api/credits/balance")
    assert response.status_code == 504
    assert response.json()["code"] == "upstream_timeout"
