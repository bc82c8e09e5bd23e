# syntax=docker/dockerfile:1.7
#
# The one image recipe of every service. Build from the workspace root, which holds the single
# uv.lock, naming the service with three build arguments (docker-compose.yml passes them):
#
#   docker build -f deploy/docker/service.Dockerfile \
#     --build-arg SERVICE=auth --build-arg PORT=3000 --build-arg COMMAND=auth-service \
#     -t llm-platform/auth .
#
# SERVICE is the workspace package, which is also its directory under services/; PORT the port
# it listens on (and checks its health on); COMMAND one of the package's console scripts.
# Packages ship their own data files (SQL migrations under src/<name>/migrations), so the
# installed wheel carries them.

ARG PYTHON_IMAGE=python:3.11-slim
# Same uv as the one that wrote uv.lock, so `--frozen` reads the lock format it expects.
ARG UV_IMAGE=ghcr.io/astral-sh/uv:0.13.9
# Builds the web console (Vite needs Node >= 20.19).
ARG NODE_IMAGE=node:22-slim

FROM ${UV_IMAGE} AS uv

# ---------------------------------------------------------------------------------------------
# console: the web console's static build, for the gateway (which serves it at /); for every
# other service an empty directory, so the one recipe copies it unconditionally
# ---------------------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS console
ARG SERVICE
WORKDIR /console
COPY services/console/package.json services/console/package-lock.json ./
RUN --mount=type=cache,target=/root/.npm \
    mkdir -p /out && if [ "${SERVICE}" = gateway ]; then npm ci --no-audit --no-fund; fi
COPY services/console/ ./
RUN if [ "${SERVICE}" = gateway ]; then npm run build && cp -R dist/. /out/; fi

# ---------------------------------------------------------------------------------------------
# builder: resolve nothing, install exactly what uv.lock pins for this one service
# ---------------------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS builder
ARG SERVICE

COPY --from=uv /uv /uvx /usr/local/bin/

# The venv lives at the same path in both stages, so its scripts' shebangs stay valid.
# Use the image's own CPython (never a downloaded one) so the venv's `python` symlink resolves
# in the runtime stage, which has the same base image.
ENV UV_PROJECT_ENVIRONMENT=/app/.venv \
    UV_PYTHON=/usr/local/bin/python3.11 \
    UV_PYTHON_DOWNLOADS=never \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_NO_PROGRESS=1

WORKDIR /src
COPY pyproject.toml uv.lock ./
COPY libs/ libs/
COPY services/${SERVICE}/ services/${SERVICE}/

# --frozen: install what uv.lock says and fail rather than re-resolve.
# --no-dev: no test tooling. --package: only this service and the libs it depends on.
# --no-editable: workspace libs are installed into the venv, so the runtime needs no sources.
RUN --mount=type=cache,target=/root/.cache/uv \
    test -n "${SERVICE}" && uv sync --frozen --no-dev --no-editable --package "${SERVICE}"

# ---------------------------------------------------------------------------------------------
# runtime: the venv, a non-root user, nothing else
# ---------------------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS runtime
ARG SERVICE
ARG PORT
ARG COMMAND

LABEL org.opencontainers.image.title="llm-platform-${SERVICE}" \
      org.opencontainers.image.description="Metered LLM chat platform: ${SERVICE} service"

RUN groupadd --system --gid 10001 app \
 && useradd --system --uid 10001 --gid app --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin app

# Owned by root and not writable by the app user.
COPY --from=builder /app/.venv /app/.venv
# The gateway's CONSOLE_DIST_DIR (empty in the other images).
COPY --from=console /out /app/console

# An image runs as production unless told otherwise: it never falls back to dev secrets.
ENV PATH="/app/.venv/bin:${PATH}" \
    ENVIRONMENT=production \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    SERVICE_NAME=${SERVICE} \
    SERVICE_COMMAND=${COMMAND} \
    HOST=0.0.0.0 \
    PORT=${PORT}

WORKDIR /app
# Numeric, so orchestrators that enforce runAsNonRoot can verify it.
USER 10001:10001

EXPOSE ${PORT}

# Shell form on purpose: /bin/sh expands ${PORT} when the check runs. urlopen raises (exit 1)
# on a refused connection, a timeout or any non-2xx status.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:${PORT}/api/health', timeout=4)" || exit 1

# exec: the service is PID 1 and receives the orchestrator's SIGTERM itself.
CMD ["/bin/sh", "-c", "exec \"$SERVICE_COMMAND\""]
