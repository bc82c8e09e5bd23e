"""Typed aliases for what routes receive from the app's state."""

from typing import Annotated

from fastapi import Depends, Request

from model_simulator.config import SimulatorSettings


def _settings(request: Request) -> SimulatorSettings:
    return request.app.state.settings


Settings = Annotated[SimulatorSettings, Depends(_settings)]
