"""Copy every database of one MongoDB-wire server into another: collections, their indexes, documents.

Used by `deploy/local/services.sh migrate-sqlite` to move the data of the earlier FerretDB-on-SQLite
store into the FerretDB-on-PostgreSQL one. A document whose `_id` the target already holds is kept as
it is, so running the copy again continues an interrupted one and never duplicates anything.

Usage: python copy_store.py SOURCE_URL TARGET_URL
"""

import sys
from typing import Any

from pymongo import MongoClient
from pymongo.collection import Collection
from pymongo.errors import BulkWriteError

SYSTEM_DATABASES = {"admin", "local", "config"}
BATCH = 1000


def copy_indexes(source: Collection[dict[str, Any]], target: Collection[dict[str, Any]]) -> None:
    for name, index in source.index_information().items():
        if name == "_id_":
            continue
        options = {key: index[key] for key in ("unique", "sparse", "expireAfterSeconds") if key in index}
        target.create_index(index["key"], name=name, **options)


def insert_missing(target: Collection[dict[str, Any]], documents: list[dict[str, Any]]) -> int:
    try:
        return len(target.insert_many(documents, ordered=False).inserted_ids)
    except BulkWriteError as error:
        if any(failure.get("code") != 11000 for failure in error.details.get("writeErrors", [])):
            raise
        return int(error.details.get("nInserted", 0))


def copy_collection(source: Collection[dict[str, Any]], target: Collection[dict[str, Any]]) -> tuple[int, int]:
    copy_indexes(source, target)
    seen = inserted = 0
    batch: list[dict[str, Any]] = []
    for document in source.find():
        batch.append(document)
        if len(batch) == BATCH:
            inserted += insert_missing(target, batch)
            seen += len(batch)
            batch = []
    if batch:
        inserted += insert_missing(target, batch)
        seen += len(batch)
    return seen, inserted


def main(source_url: str, target_url: str) -> None:
    source: MongoClient[dict[str, Any]] = MongoClient(source_url)
    target: MongoClient[dict[str, Any]] = MongoClient(target_url)
    for database in source.list_database_names():
        if database in SYSTEM_DATABASES:
            continue
        for collection in source[database].list_collection_names():
            seen, inserted = copy_collection(source[database][collection], target[database][collection])
            print(f"copy_store: {database}.{collection}: {seen} documents, {inserted} new, {seen - inserted} kept")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
