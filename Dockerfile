# Production image: one uvicorn process per container; scale by running more containers behind a proxy
# (see docs/operations.md). PostgreSQL and Redis are chosen by DATABASE_URL and REDIS_URL.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    HOST=0.0.0.0 PORT=8000 DATA_DIR=/data DEMO=false

WORKDIR /app
COPY pyproject.toml README.md ./
COPY widget_server ./widget_server
COPY widget_js ./widget_js
COPY email_templates ./email_templates
RUN pip install --no-cache-dir '.[postgres,redis]' \
    && useradd --system --home /data openline && mkdir -p /data && chown openline /data

USER openline
VOLUME /data
EXPOSE 8000
HEALTHCHECK CMD python -c "import urllib.request,os; urllib.request.urlopen(f'http://127.0.0.1:{os.environ[\"PORT\"]}/healthz')"
CMD ["openline", "serve"]
