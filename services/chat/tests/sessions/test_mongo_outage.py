"""MongoDB unreachable: chat's routes answer 503 ``database_unavailable`` in about a second
(the client's server selection timeout), not 500 after five, and answer again by themselves
once it is back."""

import asyncio
import uuid
from urllib.parse import urlsplit

from chat.config import ChatSettings
from chat.main import create_app as create_chat
from infra_fixtures.proxy import TcpProxy
from infra_fixtures.servers import serve_app

from ..conftest import bearer, funded_user, new_session


async def test_routes_answer_503_within_about_a_second_and_recover(http, stack):
    target = urlsplit(stack.settings["mongo_url"])
    async with TcpProxy(target.hostname, target.port or 27017) as proxy:
        settings = ChatSettings(
            **{
                **stack.settings,
                "mongo_url": f"mongodb://127.0.0.1:{proxy.port}/?directConnection=true",
            }
        )
        async with serve_app(create_chat(settings)) as chat:
            user = await funded_user(http, stack)
            session = await new_session(http, stack, user, base=chat)
            headers = bearer(user["token"])
            reads = [f"{chat}/api/chat/sessions", f"{chat}/api/chat/sessions/{session}"]
            await proxy.cut()
            for method, url, body in [
                *(("GET", url, None) for url in reads),
                ("POST", f"{chat}/api/chat/sessions", {"title": str(uuid.uuid4())}),
            ]:
                started = asyncio.get_running_loop().time()
                response = await http.request(method, url, json=body, headers=headers)
                took = asyncio.get_running_loop().time() - started
                assert response.status_code == 503, (url, response.text)
                assert response.json()["code"] == "database_unavailable"
                assert took < 2, (url, took)

            await proxy.restore()
            deadline = asyncio.get_running_loop().time() + 10
            for url in reads:
                while (response := await http.get(url, headers=headers)).status_code != 200:
                    assert asyncio.get_running_loop().time() < deadline, response.text
                    await asyncio.sleep(0.2)
