# syntax=docker/dockerfile:1
# Simfleet: one image for every process type (see deploy/entrypoint.sh and docs/deployment.md).
#   docker build -t simfleet .
#   docker run --rm simfleet migrate && docker run -p 8000:8000 simfleet web
ARG PYTHON_IMAGE=python:3.11-slim-bookworm
ARG NODE_IMAGE=node:20-bookworm-slim

# Browser assets from the npm registry: `npm ci` runs package.json's postinstall, which copies
# htmx and uPlot into static/vendor/ (as `make install` does).
FROM ${NODE_IMAGE} AS assets
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error \
    && test -s static/vendor/htmx.min.js \
    && test -s static/vendor/uPlot.iife.min.js \
    && test -s static/vendor/uPlot.min.css

# Python dependencies in a virtualenv; compilers stay in this stage. Runtime ones only:
# the embedded servers and the development tools are in requirements-dev.txt.
FROM ${PYTHON_IMAGE} AS python-deps
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1 PYTHONDONTWRITEBYTECODE=1
RUN apt-get update \
    && apt-get install -y --no-install-recommends build-essential \
    && rm -rf /var/lib/apt/lists/*
COPY requirements.txt /tmp/requirements.txt
RUN python -m venv /opt/venv \
    && /opt/venv/bin/pip install --no-cache-dir -r /tmp/requirements.txt

FROM ${PYTHON_IMAGE} AS runtime
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    APP_ENV=production \
    BIND=0.0.0.0:8000
RUN groupadd --system --gid 10001 simfleet \
    && useradd --system --uid 10001 --gid simfleet --home-dir /app --no-create-home \
        --shell /usr/sbin/nologin simfleet
COPY --from=python-deps /opt/venv /opt/venv
WORKDIR /app
# Code and assets belong to root: the app user can read but not change them. The simulator,
# devtools/, bench/ and tests/ stay out: the image runs the app only.
COPY wsgi.py gunicorn.conf.py ./
COPY webapp ./webapp
COPY worker ./worker
COPY migrations ./migrations
COPY templates ./templates
COPY static ./static
COPY --from=assets /src/static/vendor ./static/vendor
COPY deploy/entrypoint.sh ./deploy/entrypoint.sh
RUN chmod 0755 deploy/entrypoint.sh \
    && python -m compileall -q webapp worker migrations wsgi.py

USER simfleet:simfleet
EXPOSE 8000
STOPSIGNAL SIGTERM
# Probes /health/live in the web process; worker and scheduler containers pass while running.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["/app/deploy/entrypoint.sh", "healthcheck"]
ENTRYPOINT ["/app/deploy/entrypoint.sh"]
CMD ["web"]
