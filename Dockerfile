# syntax=docker/dockerfile:1
# facestyle: HTTP API (default CMD) and, with `facestyle worker` as the command, the RQ worker.
# The same image serves both; see docker-compose.yml.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# Runtime libraries only: opencv-python-headless needs glib (no libGL for the headless build);
# the av wheel bundles its own ffmpeg.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends libglib2.0-0 \
    && rm -rf /var/lib/apt/lists/*

RUN useradd --system --create-home --uid 10001 --user-group facestyle

WORKDIR /app

# Dependencies first (torch is large), so that code changes do not reinstall them.
# They are read from pyproject.toml, so the torch==2.14.1 / torchvision==0.29.1 pins hold.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" > /tmp/requirements.txt \
    && pip install --no-cache-dir -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

COPY facestyle/ ./facestyle/
COPY service/ ./service/
COPY worker/ ./worker/
COPY weights/ ./weights/
COPY openapi/ ./openapi/
RUN pip install --no-cache-dir .

# the installed package lives in site-packages; point it at the weights copied beside it
ENV FACESTYLE_WEIGHTS_DIR=/app/weights

USER 10001:10001

EXPOSE 8000

HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4).status == 200 else 1)"]

CMD ["facestyle", "serve", "--host", "0.0.0.0", "--port", "8000"]
