# The portal's image: web (gunicorn), worker and beat (Celery) and the one-shot migrate all run
# it, with different commands (docker-compose.yml). Dependencies come from the lock file, every
# file checked against its hash; the code runs as an unprivileged user.
FROM python:3.11-slim-bookworm

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH \
    XDG_CACHE_HOME=/tmp/cache \
    DJANGO_SETTINGS_MODULE=portal.settings

# WeasyPrint's system libraries (handout PDFs) and a font.
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*

RUN groupadd --system --gid 10001 portal \
    && useradd --system --uid 10001 --gid portal --home-dir /app --shell /usr/sbin/nologin portal

# Dependencies first (a layer that changes only with the lock file): exactly the pinned
# versions, refused if a file's hash differs or a dependency is not pinned.
COPY requirements/prod.txt /tmp/requirements.txt
RUN python -m venv /opt/venv \
    && pip install --require-hashes --only-binary :all: -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

WORKDIR /app
# The code belongs to root: the portal user can read it, not change it (.dockerignore keeps
# .git, .venv, var/ and the caches out).
COPY . .

# The static files with their manifest (hashed names), whatever the environment the image will
# run in: the manifest storage is forced on here and at run time (STATIC_MANIFEST=1). The key
# only lets the settings load for collectstatic; it is not kept in the image.
RUN SECRET_KEY=collectstatic-build-only STATIC_MANIFEST=1 python manage.py collectstatic --noinput \
    && test -f staticfiles/staticfiles.json
ENV STATIC_MANIFEST=1

# Writable by the portal user: handout files (a volume shared by web and worker, see
# docker-compose.yml) and var/ (the embedded defaults' SQLite file and mail folder).
ENV MEDIA_ROOT=/data/media
RUN mkdir -p /data/media /app/var \
    && chown portal:portal /data/media /app/var

USER portal
EXPOSE 8000
# The process refuses to start without SECRET_KEY (DEBUG is off); ALLOWED_HOSTS and SITE_URL
# come from the environment too.
CMD ["gunicorn", "--config", "gunicorn.conf.py", "portal.wsgi"]
