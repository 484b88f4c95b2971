# syntax=docker/dockerfile:1
# Build wheels in one stage; run as a non-root user from a slim image in the next.
FROM python:3.11.7-slim-bookworm AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY app ./app
COPY migrations ./migrations
COPY seed_data ./seed_data
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11.7-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    TREATYKB_DATABASE_URL=sqlite:////data/treatykb.db
RUN groupadd --system --gid 10001 treatykb \
    && useradd --system --uid 10001 --gid 10001 --home-dir /data --create-home treatykb
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir --no-index /wheels/*.whl && rm -rf /wheels
USER 10001:10001
WORKDIR /data
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s --start-period=20s \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/readyz', timeout=2)"]
# Migrates, loads the bundled seed data into an empty database, then serves. With several
# instances (compose.yaml), a one-shot `treatykb db upgrade --seed` prepares the database
# and each instance runs `treatykb serve --no-migrate`.
CMD ["treatykb", "serve", "--host", "0.0.0.0", "--port", "8000"]
