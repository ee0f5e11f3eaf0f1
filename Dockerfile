FROM python:3.11-slim-bookworm
ENV PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1 LINGGONG_ENV=production
RUN apt-get update && apt-get install -y --no-install-recommends \
      libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b libharfbuzz-subset0 fonts-wqy-microhei gettext \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
RUN DJANGO_SECRET_KEY=build-only-$(head -c 32 /dev/urandom | base64) LINGGONG_PII_KEYS=k:$(head -c 32 /dev/urandom | base64) \
    LINGGONG_BLIND_INDEX_KEY=build-only-blind-index-key-0123456789 python manage.py collectstatic --noinput
RUN useradd --create-home linggong && mkdir -p /data/media && chown linggong /data/media
USER linggong
EXPOSE 8000
