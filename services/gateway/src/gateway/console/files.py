"""The console's built files, read once at startup: a handful of small files, so every request
is answered from memory (no disk or thread-pool hop) and only files of the build exist."""

import hashlib
import mimetypes
from dataclasses import dataclass
from pathlib import Path

INDEX = "index.html"
# Vite names everything under assets/ by its content hash: a changed file is a new URL.
HASHED_DIR = "assets/"
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
SHORT = "public, max-age=3600"

_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".svg": "image/svg+xml",
    ".json": "application/json",
    ".woff2": "font/woff2",
    ".map": "application/json",
}


class ConsoleNotBuilt(RuntimeError):
    """CONSOLE_DIST_DIR has no index.html."""


@dataclass(frozen=True)
class ConsoleFile:
    body: bytes
    media_type: str
    etag: str
    cache_control: str


def _media_type(path: Path) -> str:
    known = _TYPES.get(path.suffix.lower())
    if known:
        return known
    guessed, _ = mimetypes.guess_type(path.name)
    return guessed or "application/octet-stream"


def _cache_control(relative: str) -> str:
    if relative == INDEX:
        return REVALIDATE
    return IMMUTABLE if relative.startswith(HASHED_DIR) else SHORT


def load_console(dist: Path) -> dict[str, ConsoleFile]:
    """Every file under ``dist`` by its URL path (``assets/index-abc.js``)."""
    if not (dist / INDEX).is_file():
        raise ConsoleNotBuilt(
            f"CONSOLE_DIST_DIR {dist} has no {INDEX}: build the console "
            "(cd services/console && npm ci && npm run build) or unset CONSOLE_DIST_DIR"
        )
    files: dict[str, ConsoleFile] = {}
    for path in sorted(dist.rglob("*")):
        if not path.is_file():
            continue
        relative = path.relative_to(dist).as_posix()
        body = path.read_bytes()
        files[relative] = ConsoleFile(
            body=body,
            media_type=_media_type(path),
            etag=f'"{hashlib.sha256(body).hexdigest()[:32]}"',
            cache_control=_cache_control(relative),
        )
    return files
