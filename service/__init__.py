"""The REST API (FastAPI): thin path operations over the repositories and the Kafka publisher."""
