# The portal's image: web (gunicorn), worker and beat all run from it.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PORTAL_VAR_DIR=/var/lib/portal STATIC_ROOT=/app/staticfiles

# Pango, HarfBuzz and fonts: WeasyPrint makes the letters' PDFs with them (portal/pdf.py).
RUN apt-get update && apt-get install -y --no-install-recommends curl \
        libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --create-home --home-dir /home/portal portal \
    && mkdir -p /var/lib/portal && chown portal /var/lib/portal

WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
# Static files in production mode (hashed names and their manifest); the test suite runs
# the same script (portal/tests/test_production_pages.py).
RUN scripts/build_static

USER portal
EXPOSE 8000
# Healthy only when a page renders (templates and static files), not merely when the
# database answers.
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=5 \
    CMD curl -fsS http://localhost:8000/healthz/ready || exit 1
# Workers, timeout and port from the environment: see gunicorn.conf.py.
CMD ["gunicorn", "portal.wsgi:application", "--config", "gunicorn.conf.py"]
