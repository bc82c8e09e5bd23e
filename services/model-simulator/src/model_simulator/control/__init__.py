"""Development and test only: what tests tell the simulator about a model's condition, so
that a health probe sees a model go away or slow down (``PUT /sim/models/{modelId}``)."""

from model_simulator.control.conditions import Condition, ModelConditions

__all__ = ["Condition", "ModelConditions"]
