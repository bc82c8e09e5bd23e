"""The models clients may use: which provider serves each, who may use it, what it is good at."""

from chat.config import ModelConfig
from chat.plans.caller import EVERY_MODEL, PlanModels
from jwt_contract import Principal
from service_kit import ApiError


class ModelCatalog:
    def __init__(
        self, models: list[ModelConfig], default_model_id: str, plan: PlanModels = EVERY_MODEL
    ) -> None:
        self._models = {model.id: model for model in models}
        if default_model_id not in self._models:
            raise ValueError(f"DEFAULT_MODEL_ID {default_model_id!r} is not in the catalog")
        self.default_model_id = default_model_id
        self._plan = plan

    def under_plan(self, plan: PlanModels) -> "ModelCatalog":
        """This catalog as one caller sees it, narrowed by their plan's models (for one
        request)."""
        return ModelCatalog(self.all(), self.default_model_id, plan)

    def all(self) -> list[ModelConfig]:
        return list(self._models.values())

    def for_role(self, role: str) -> list[ModelConfig]:
        return [model for model in self._models.values() if role in model.roles]

    def for_principal(self, principal: Principal) -> list[ModelConfig]:
        """What the caller may use: its role's models, narrowed by a key's model list and by
        the caller's plan."""
        allowed = self._allowed_models(principal)
        return [m for m in self.for_role(principal.role) if allowed is None or m.id in allowed]

    def resolve(self, model_id: str | None, principal: Principal) -> ModelConfig:
        """The model to use; 400 invalid_model when unknown or not allowed for the caller."""
        model = self._models.get(model_id or self.default_model_id)
        if model is None:
            raise ApiError(400, "invalid_model", f"Unknown model: {model_id}")
        allowed = self._allowed_models(principal)
        if principal.role not in model.roles or (allowed is not None and model.id not in allowed):
            raise ApiError(400, "invalid_model", f"Model {model.id} is not available to you")
        return model

    def _allowed_models(self, principal: Principal) -> set[str] | None:
        """A key's token lists its models (a team key: its team's model groups); the plan's
        narrow them further (``PlanModels``: none for a team key's token)."""
        if self._plan.refusal is not None:
            raise self._plan.refusal
        models = principal.claims.get("models")
        allowed = set(models) if isinstance(models, list) else None
        if self._plan.allowed is None:
            return allowed
        return set(self._plan.allowed) if allowed is None else allowed & self._plan.allowed
