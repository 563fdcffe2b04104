# The outagesync image: the `outagesync` command under tini, as a non-root user. docs/deploy.md says how to
# run it; `make container-test` builds and checks it with podman. No secret is baked in: they come from the
# environment (or AWS SSM Parameter Store) when the container starts.
#
# The base image is a build argument so that a mirror, or a local image of the same name, can stand in.
ARG PYTHON_IMAGE=docker.io/library/python:3.11-slim-bookworm

# --- build: a virtual environment with outagesync and its locked dependencies ---------------------------
FROM ${PYTHON_IMAGE} AS build
# PIP_CERT: a CA bundle for a TLS-intercepting proxy (mounted by the builder); empty means the system's.
ARG PIP_CERT=""
ARG PIP_INDEX_URL=https://pypi.org/simple
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1
WORKDIR /src
RUN python3 -m venv /opt/outagesync
COPY requirements.lock pyproject.toml README.md ./
COPY src ./src
# every version from the lock (as constraints: only what outagesync[aws,telemetry] needs is installed; the
# telemetry SDKs are imported only when configured, docs/observability.md); a wheel, not an editable
# install, so the sources stay in this stage; byte-code compiled now, as the non-root user cannot write it
# later; pip and setuptools are not needed at run time
RUN /opt/outagesync/bin/pip install --no-cache-dir --constraint requirements.lock ".[aws,telemetry]" \
    && /opt/outagesync/bin/python -m compileall -q /opt/outagesync/lib \
    && /opt/outagesync/bin/pip uninstall --yes --quiet pip setuptools

# --- runtime --------------------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE}
ARG VERSION=0.1.0
ARG REVISION=unknown
LABEL org.opencontainers.image.title="outagesync" \
      org.opencontainers.image.description="Keeps each energy site's outage list on the KrakenFlex platform correct: CLI, REST API and sandbox." \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.licenses="MIT" \
      org.opencontainers.image.documentation="docs/deploy.md" \
      org.opencontainers.image.base.name="docker.io/library/python:3.11-slim-bookworm"

# tini as PID 1: it forwards SIGTERM/SIGINT to outagesync (whose own handlers record interrupted runs and
# stop the API gracefully) and reaps zombies; a Python PID 1 would not get SIGTERM's default action
RUN apt-get update \
    && apt-get install -y --no-install-recommends tini=0.19.* \
    && apt-get clean \
    && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin \
    && useradd --uid 10001 --user-group --home-dir /home/outagesync --create-home \
       --shell /usr/sbin/nologin outagesync \
    && install -d -o outagesync -g outagesync -m 0750 /data

COPY --from=build /opt/outagesync /opt/outagesync
ENV PATH=/opt/outagesync/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    XDG_DATA_HOME=/data \
    OUTAGESYNC_HEALTHCHECK_URL=http://127.0.0.1:8000/check

USER 10001:10001
WORKDIR /home/outagesync
EXPOSE 8000

# for `serve`: GET /check answers 200 when the API and its database are up (no token needed)
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen(os.environ['OUTAGESYNC_HEALTHCHECK_URL'], timeout=4)"]

ENTRYPOINT ["/usr/bin/tini", "--", "outagesync"]
# listening beyond loopback needs OUTAGESYNC_API_TOKEN (serve refuses otherwise)
CMD ["serve", "--host", "0.0.0.0", "--port", "8000"]
