"""The models clients may use: which provider serves each, who may use it, what it is good at."""

from chat.config import ModelConfig
from jwt_contract import Principal
from service_kit import ApiError


class ModelCatalog:
    def __init__(self, models: list[ModelConfig], default_model_id: str) -> None:
        self._models = {model.id: model for model in models}
        if default_model_id not in self._models:
            raise ValueError(f"DEFAULT_MODEL_ID {default_model_id!r} is not in the catalog")
        self.default_model_id = default_model_id

    def for_role(self, role: str) -> list[ModelConfig]:
        return [model for model in self._models.values() if role in model.roles]

    def resolve(self, model_id: str | None, principal: Principal) -> ModelConfig:
        """The model to use; 400 invalid_model when unknown or not allowed for the caller."""
        model = self._models.get(model_id or self.default_model_id)
        if model is None:
            raise ApiError(400, "invalid_model", f"Unknown model: {model_id}")
        if principal.role not in model.roles:
            raise ApiError(400, "invalid_model", f"Model {model.id} is not available to you")
        return model
