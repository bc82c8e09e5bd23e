from chat.config import ModelConfig
from chat.providers.base import ModelProvider


class Providers:
    """The provider that serves each model, by the model's ``provider`` field."""

    def __init__(self, by_name: dict[str, ModelProvider]) -> None:
        self._by_name = by_name

    def for_model(self, model: ModelConfig) -> ModelProvider:
        return self._by_name[model.provider]
