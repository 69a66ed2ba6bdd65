# The PRM image: the same image runs the web server (gunicorn), the Celery worker and beat.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app

COPY requirements.txt .
RUN pip install -r requirements.txt

COPY . .
# Translations and static files are built into the image; build-time settings only.
RUN PRM_ENV=production SECRET_KEY=build-only ALLOWED_HOSTS=build \
    sh -c "python manage.py compile_translations && python manage.py collectstatic --no-input -v 0"

RUN useradd --system --home /app prm && mkdir -p /data && chown prm /data
USER prm
ENV PRM_ENV=production PRM_DATA_DIR=/data MEDIA_ROOT=/data/media
EXPOSE 8000
CMD ["gunicorn", "prm.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
