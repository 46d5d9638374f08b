# One image for both processes: `invoice-service api` and `invoice-service worker`.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app

COPY pyproject.toml constraints.txt README.md ./
COPY bootstrap ./bootstrap
COPY cli ./cli
COPY infra ./infra
COPY invoicing ./invoicing
COPY schemas ./schemas
COPY service ./service
COPY streams ./streams
RUN apt-get update && apt-get install -y --no-install-recommends fonts-dejavu-core fonts-noto-core fonts-noto-cjk && rm -rf /var/lib/apt/lists/* \
    && pip install --no-cache-dir -c constraints.txt babel \
    && pybabel compile -D invoice -d invoicing/locales \
    && pip install --no-cache-dir -c constraints.txt . \
    && useradd --system --uid 10001 invoice \
    && mkdir -p /data && chown invoice /data

USER invoice
ENV INVOICE_WORKER_DATA_DIR=/data/worker INVOICE_LOCAL_STORAGE_DIR=/data/invoices
EXPOSE 8000
CMD ["invoice-service", "api"]
