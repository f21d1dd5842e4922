# syntax=docker/dockerfile:1
# Check-in Coach: a slim, non-root image. Build: docker build -t checkin-coach .
# Nothing secret is baked in: tokens and DATABASE_URL come from the environment at run time, and
# the database is migrated when the bot starts (or by `checkin-bot db upgrade`), never at build.

ARG PYTHON_VERSION=3.11

FROM python:${PYTHON_VERSION}-slim AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
RUN python -m venv /opt/venv
WORKDIR /src
# Pinned, hash-checked dependencies first (refreshed by `make lock`), so this layer stays cached.
COPY requirements.lock ./
RUN /opt/venv/bin/pip install --require-hashes --no-deps -r requirements.lock
COPY pyproject.toml README.md LICENSE bot.py ./
COPY coaching ./coaching
COPY core ./core
COPY handlers ./handlers
COPY sandbox ./sandbox
COPY scheduling ./scheduling
COPY storage ./storage
RUN /opt/venv/bin/pip install --no-deps . && /opt/venv/bin/checkin-bot --version

FROM python:${PYTHON_VERSION}-slim AS runtime
RUN useradd --system --uid 10001 --user-group --home-dir /app --create-home --shell /usr/sbin/nologin checkin
COPY --from=build /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PORT=3000 \
    LOG_FORMAT=json \
    CHECKINS_CONFIG=/etc/checkin-coach/checkins.toml
WORKDIR /app
USER 10001:10001
EXPOSE 3000
# /healthz on $PORT (HTTP mode) or $METRICS_PORT (Socket Mode); Python, since slim has no curl.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; port = os.environ.get('METRICS_PORT') or os.environ.get('PORT') or '3000'; urllib.request.urlopen(f'http://127.0.0.1:{port}/healthz', timeout=4)"]
ENTRYPOINT ["checkin-bot"]
CMD ["serve", "--http"]
