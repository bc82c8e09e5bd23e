"""The chat service's model catalog, read with the caller's own token."""

from provisioning.clients.calls import PeerAnswer, PeerClient


class CatalogModel(PeerAnswer):
    id: str


class Catalog(PeerAnswer):
    models: list[CatalogModel]


class CatalogClient(PeerClient):
    service = "chat"

    async def model_ids(self, caller_token: str) -> set[str]:
        response = await self.request("GET", "/api/models", user_token=caller_token)
        if response.status != 200:
            raise self.unexpected(response)
        return {model.id for model in self.parse(response, Catalog).models}
