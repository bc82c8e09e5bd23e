"""The model simulator's app: Bedrock, OpenAI and Anthropic wire protocols over deterministic
answers."""

from fastapi import FastAPI

from model_simulator import __doc__ as usage_notes
from model_simulator.anthropic import router as anthropic_router
from model_simulator.bedrock import foundation_models
from model_simulator.bedrock import router as bedrock_router
from model_simulator.config import SimulatorSettings
from model_simulator.control import ModelConditions
from model_simulator.control import router as control_router
from model_simulator.health import answer_liveness_with_purpose
from model_simulator.keys import KeyCheck, KeyRules, RequestRecords
from model_simulator.keys import router as keys_router
from model_simulator.keys.rules import words
from model_simulator.openai import router as openai_router
from service_kit import create_app as create_service_app
from service_kit import run_service


def create_app(settings: SimulatorSettings | None = None) -> FastAPI:
    settings = settings or SimulatorSettings()
    routers = [
        bedrock_router.router,
        foundation_models.router,
        openai_router.router,
        anthropic_router.router,
    ]
    if not settings.is_production:  # tests change how models behave, for every client
        routers.extend([control_router.router, keys_router.router])
    app = create_service_app(
        settings,
        title="Model simulator (development and test backend, not a model)",
        description=usage_notes or "",
        routers=routers,
    )
    app.state.model_conditions = ModelConditions()
    app.state.request_records = records = RequestRecords()
    rules = KeyRules(words(settings.api_keys), words(settings.access_key_ids))
    app.add_middleware(KeyCheck, rules=rules, records=records)
    answer_liveness_with_purpose(app)
    return app


def run() -> None:
    run_service(SimulatorSettings, create_app)
