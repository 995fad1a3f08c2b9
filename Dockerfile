# pacs-reconcile as a container: the CLI is the entrypoint, the spec is mounted at /work.
#   docker build -t pacs-reconcile .
#   docker run --rm -v "$PWD:/work" -e AWS_REGION -e AWS_ACCESS_KEY_ID -e AWS_SECRET_ACCESS_KEY \
#     pacs-reconcile plan --format markdown
# The local emulator (`demo`, `emulator`) needs the emulator extra: --build-arg EXTRAS=emulator.
# The base image is pinned to an exact Python and Debian release; pin its digest too in a release
# pipeline that can resolve it (e.g. python:3.11.11-slim-bookworm@sha256:...).
ARG PYTHON_IMAGE=python:3.11.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
WORKDIR /src
COPY pyproject.toml setup.py MANIFEST.in README.md LICENSE CHANGELOG.md monitoring.yaml ./
COPY src ./src
COPY specs ./specs
COPY functions ./functions
COPY configs ./configs
COPY docs ./docs
COPY schema ./schema
RUN pip install --no-cache-dir build==1.2.2 \
    && python -m build --wheel --outdir /dist

FROM ${PYTHON_IMAGE}
ARG EXTRAS=""
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
RUN groupadd --gid 10001 pacs \
    && useradd --uid 10001 --gid 10001 --create-home --shell /usr/sbin/nologin pacs
COPY --from=build /dist /tmp/dist
# What is installed is the wheel built above: its version is this source tree's, and the ranges of
# its dependencies are pyproject.toml's.
# hadolint ignore=DL3013
RUN wheel="$(ls /tmp/dist/*.whl)" \
    && pip install --no-cache-dir "${wheel}${EXTRAS:+[${EXTRAS}]}" \
    && rm -rf /tmp/dist
USER 10001:10001
WORKDIR /work
ENTRYPOINT ["pacs-reconcile"]
CMD ["--help"]
