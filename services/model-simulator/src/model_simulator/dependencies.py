"""Typed aliases for what routes receive from the app's state."""

from typing import Annotated

from fastapi import Depends

from model_simulator.config import SimulatorSettings
from model_simulator.control import ModelConditions
from service_kit import app_state

Settings = Annotated[SimulatorSettings, Depends(app_state("settings"))]
Conditions = Annotated[ModelConditions, Depends(app_state("model_conditions"))]
