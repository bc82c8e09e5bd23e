"""The ``/docs`` page: Swagger UI served by the service itself, nothing fetched elsewhere.

FastAPI's own page loads Swagger UI from a CDN, so air-gapped it is blank. Here its assets
come from the ``fastapi-offline`` package (Swagger UI 5, which renders the OpenAPI 3.1 that
FastAPI emits), mounted at ``/docs/assets``. The page has no inline script: its settings
travel in a data attribute and a same-origin script starts Swagger UI, so the page is
served under a Content-Security-Policy that allows nothing but its own origin. ReDoc is
not served: one documentation page, and one set of assets to keep.
"""

import html
import json
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.docs import swagger_ui_default_parameters
from fastapi.staticfiles import StaticFiles
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

DOCS_PATH = "/docs"
ASSETS_PATH = f"{DOCS_PATH}/assets"
INIT_SCRIPT_PATH = f"{DOCS_PATH}/init.js"
ASSETS_PACKAGE = ("fastapi_offline", "static")

# Swagger UI sets styles through the DOM (allowed) and draws its icons as data: images.
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    )
)

_INIT_SCRIPT = """\
const root = document.getElementById("swagger-ui");
window.ui = SwaggerUIBundle({
  ...JSON.parse(root.dataset.config),
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
});
"""

_PAGE = """\
<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>{title}</title>
<link rel="stylesheet" href="{assets}/swagger-ui.css">
<link rel="icon" href="{assets}/favicon.png">
</head>
<body>
<div id="swagger-ui" data-config="{config}"></div>
<script src="{assets}/swagger-ui-bundle.js"></script>
<script src="{init}"></script>
</body>
</html>
"""


def install_docs(app: FastAPI) -> None:
    """Serve ``/docs`` and its assets; the app must be built with ``docs_url=None`` and
    ``redoc_url=None`` so FastAPI's CDN pages are not served too."""
    if app.openapi_url is None:
        return
    openapi_url = app.openapi_url

    async def page(request: Request) -> Response:
        root_path = str(request.scope.get("root_path", "")).rstrip("/")
        config: dict[str, Any] = {
            **swagger_ui_default_parameters,
            **(app.swagger_ui_parameters or {}),
            "url": root_path + openapi_url,
        }
        body = _PAGE.format(
            title=html.escape(f"{app.title} - Swagger UI"),
            assets=root_path + ASSETS_PATH,
            init=root_path + INIT_SCRIPT_PATH,
            config=html.escape(json.dumps(config), quote=True),
        )
        return HTMLResponse(body, headers={"Content-Security-Policy": CONTENT_SECURITY_POLICY})

    async def init_script(request: Request) -> Response:
        return Response(_INIT_SCRIPT, media_type="text/javascript")

    app.add_route(DOCS_PATH, page, include_in_schema=False)
    app.add_route(INIT_SCRIPT_PATH, init_script, include_in_schema=False)
    app.mount(ASSETS_PATH, StaticFiles(packages=[ASSETS_PACKAGE]), name="docs-assets")
