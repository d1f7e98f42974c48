# syntax=docker/dockerfile:1
# llm-spend-monitor container: demo mode by default (simulated providers, no keys needed).
#   docker build -t llm-spend-monitor .
#   docker run --rm --read-only --tmpfs /tmp -p 127.0.0.1:9877:9877 -v spend-data:/data llm-spend-monitor
# Real accounts: mount a config (with `storage.path: /data/spend.db`) and run
#   docker run ... -v ./config.yaml:/etc/spend-monitor/config.yaml:ro llm-spend-monitor
#       run --config /etc/spend-monitor/config.yaml --listen 0.0.0.0:9877
# See docs/deployment.md.

# Both stages use the same interpreter, so the virtualenv built in the first runs in the second.
ARG PYTHON_IMAGE=python:3.11-slim

FROM ${PYTHON_IMAGE} AS builder
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY monitor ./monitor
RUN python -m pip wheel --no-deps --wheel-dir /wheels . \
 && python -m venv /opt/venv \
 && /opt/venv/bin/pip install /wheels/*.whl

FROM ${PYTHON_IMAGE}
LABEL org.opencontainers.image.title="llm-spend-monitor" \
      org.opencontainers.image.description="Polls LLM providers' usage and cost APIs, prices tokens exactly, exposes spend to Prometheus and sends budget alerts once." \
      org.opencontainers.image.licenses="Apache-2.0"
RUN groupadd --system --gid 10001 spend-monitor \
 && useradd --system --uid 10001 --gid 10001 --home-dir /data --no-create-home --shell /usr/sbin/nologin spend-monitor \
 && mkdir -p /data /etc/spend-monitor \
 && chown 10001:10001 /data
COPY --from=builder /opt/venv /opt/venv
# Only /data (the SQLite ledger) is written; HOME points there and TMPDIR at /tmp, which
# `--read-only` deployments mount as tmpfs. Bytecode was compiled at install time.
ENV PATH=/opt/venv/bin:$PATH \
    HOME=/data \
    TMPDIR=/tmp \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
WORKDIR /data
VOLUME /data
USER 10001:10001
EXPOSE 9877
# python's urllib (no curl in the slim image); urlopen raises on any non-2xx answer.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:9877/healthz', timeout=4)"]
ENTRYPOINT ["spend-monitor"]
CMD ["demo", "--listen", "0.0.0.0:9877", "--db", "/data/spend.db"]
