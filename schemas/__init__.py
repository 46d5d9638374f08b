"""Wire formats: the pydantic models of the REST API and of every Kafka event.

These models are the single source of truth; `python -m schemas.export` writes their JSON Schemas
into `schemas/json/`, and the contract files this service implements live in `schemas/contract/`.
"""
