# The operator image: `azbackup run` as a non-root user, nothing but Python and the project's venv.
#
#   docker build -t REGISTRY/azbackup-operator:0.1.0 .
#
# Two stages: the builder makes a wheel of the project and installs it with its dependencies into a
# venv; the final image copies only that venv, so no build tools, sources or pip caches ship. Both
# stages use the same base image, so the venv's interpreter path (/usr/local/bin/python3.11) exists
# in the final image too.

FROM python:3.11-slim AS builder
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /src
# Only what the wheel is built from (see .dockerignore): metadata first, then the two packages.
COPY pyproject.toml README.md ./
COPY operator ./operator
COPY emulator ./emulator
RUN python -m pip wheel --no-deps --wheel-dir /wheels . \
 && python -m venv /opt/venv \
 && /opt/venv/bin/pip install /wheels/*.whl

FROM python:3.11-slim
LABEL org.opencontainers.image.title="azbackup-operator" \
      org.opencontainers.image.description="Kubernetes operator for Azure VM Backup" \
      org.opencontainers.image.licenses="Apache-2.0"
# MALLOC_ARENA_MAX=2: glibc otherwise keeps one malloc arena per thread (the Kubernetes client's
# thread pool), and their fragmentation, not live objects, dominates RSS at fleet scale.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    MALLOC_ARENA_MAX=2 \
    PATH=/opt/venv/bin:$PATH
# A fixed numeric uid/gid (the chart's runAsUser), so `runAsNonRoot` can be verified by the kubelet.
RUN groupadd --system --gid 65532 azbackup \
 && useradd --system --uid 65532 --gid 65532 --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin azbackup
COPY --from=builder /opt/venv /opt/venv
USER 65532:65532
# 8080: kopf's liveness endpoint (--liveness); 9090: Prometheus metrics (--metrics-port).
EXPOSE 8080 9090
ENTRYPOINT ["azbackup", "run"]
