"""Each model's condition as tests set it: served normally unless told otherwise."""

from pydantic import Field, StrictBool, StrictInt

from service_kit import ClosedCamelModel


class Condition(ClosedCamelModel):
    available: StrictBool = Field(
        True,
        description="false: the model is missing from both model lists and every call to it "
        "answers 503 (Bedrock ServiceUnavailableException, OpenAI server_error)",
    )
    extra_latency_ms: StrictInt = Field(
        0, ge=0, le=600_000, description="Added before the first token of every answer"
    )


NORMAL = Condition()


class ModelConditions:
    """The conditions set so far, by model id; a model never set is in ``NORMAL`` condition."""

    def __init__(self) -> None:
        self._by_model: dict[str, Condition] = {}

    def of(self, model_id: str) -> Condition:
        return self._by_model.get(model_id, NORMAL)

    def is_listed(self, model_id: str) -> bool:
        return self.of(model_id).available

    def set(self, model_id: str, condition: Condition) -> None:
        if condition == NORMAL:
            self._by_model.pop(model_id, None)
        else:
            self._by_model[model_id] = condition

    def reset(self, model_id: str | None = None) -> None:
        """Back to normal: one model, or every model when none is named."""
        if model_id is None:
            self._by_model.clear()
        else:
            self._by_model.pop(model_id, None)

    def all(self) -> dict[str, Condition]:
        return dict(self._by_model)
