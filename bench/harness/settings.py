"""Where the local stack answers, what the benches ask it for and log in as.

Every URL can be overridden from the environment, to bench another deployment.
"""

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RUN_DIR = ROOT / ".local" / "run"  # the local stack's pid files
LOG_DIR = ROOT / ".local" / "logs"
LOCAL_STACK = ROOT / "deploy" / "local" / "stack.py"

AUTH_URL = os.environ.get("AUTH_URL", "http://127.0.0.1:3000")
ACCOUNTING_URL = os.environ.get("ACCOUNTING_URL", "http://127.0.0.1:3001")
CHAT_URL = os.environ.get("CHAT_URL", "http://127.0.0.1:3002")
SIMULATOR_URL = os.environ.get("SIMULATOR_URL", "http://127.0.0.1:3005")
GATEWAY_URL = os.environ.get("GATEWAY_URL", "http://127.0.0.1:8080")
MONGO_URL = os.environ.get("MONGO_URL", "mongodb://127.0.0.1:27017")
MONGO_DATABASE = os.environ.get("MONGO_DATABASE", "chat")

MODEL = "anthropic.claude-3-haiku-20240307-v1:0"  # chat's default model, open to endusers
MAX_TOKENS = 1024  # what chat asks the model for (MAX_OUTPUT_TOKENS)
ADMIN = ("admin", "admin@admin")
SUPERVISOR = ("supervisor1", "Supervisor1@")
