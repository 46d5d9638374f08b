-- FerretDB v1 on PostgreSQL: make its indexes serve its queries.
--
-- FerretDB stores each document in a jsonb column `_jsonb` and turns `createIndexes` into btree indexes
-- on expressions like `(_jsonb -> 'tenant')`. Its reads, though, filter with containment:
-- `_jsonb -> 'tenant' @> '"acme"'`, which a btree index cannot serve, so every query scanned its table
-- (FerretDB issue #4646). A GIN index (jsonb_path_ops) on the same expression serves `@>`. This event
-- trigger adds one beside every btree index FerretDB creates, one per indexed field, in the same
-- transaction; `gin_beside_btree_backfill()` does the same for indexes that existed before it.
--
SET client_min_messages TO warning;  -- no NOTICE for a trigger that is not there yet

-- Run once per database by deploy/local/services.sh as the superuser (event triggers need one); the
-- function runs with the rights of whoever creates the index (FerretDB's role, the tables' owner).

CREATE OR REPLACE FUNCTION gin_beside_btree(btree_index oid) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    indexed_table regclass;
    table_schema name;
    definition text;
    method name;
    field text;
    gin_index name;
BEGIN
    -- The schema's bare name from pg_namespace: `relnamespace::regnamespace` prints it quoted where it
    -- needs quotes ("my-db"), and %I below would quote it again, naming a schema that does not exist.
    SELECT i.indrelid::regclass, n.nspname, pg_get_indexdef(i.indexrelid), am.amname
      INTO indexed_table, table_schema, definition, method
      FROM pg_index i
      JOIN pg_class c ON c.oid = i.indexrelid
      JOIN pg_namespace n ON n.oid = c.relnamespace
      JOIN pg_am am ON am.oid = c.relam
     WHERE i.indexrelid = btree_index;
    IF method IS DISTINCT FROM 'btree' THEN
        RETURN;  -- our own GIN indexes (and anything else) fire the trigger too: leave them be
    END IF;
    FOR field IN
        SELECT replace(m[1], '''''', '''')
          FROM regexp_matches(definition, '\(_jsonb -> ''((?:[^'']|'''')+)''::text\)', 'g') AS m
    LOOP
        -- Named by a hash of table and field: unique, stable, and within the 63-character limit.
        -- fastupdate off: no pending list of new entries that every lookup must scan until a vacuum
        -- merges it (after a burst of inserts, that list made lookups by `_id` twice as slow).
        gin_index := 'gin_' || md5(indexed_table::text || '/' || field);
        EXECUTE format(
            'CREATE INDEX IF NOT EXISTS %1$I ON %2$s USING gin ((_jsonb -> %3$L) jsonb_path_ops) WITH (fastupdate = off)',
            gin_index, indexed_table, field
        );
        EXECUTE format('ALTER INDEX %I.%I SET (fastupdate = off)', table_schema, gin_index);
    END LOOP;
EXCEPTION WHEN OTHERS THEN
    -- Never fail FerretDB's own index: without the GIN index its queries are slower, not wrong.
    RAISE WARNING 'gin_beside_btree(%): % (%)', btree_index, SQLERRM, SQLSTATE;
END
$$;

CREATE OR REPLACE FUNCTION gin_beside_btree_on_create() RETURNS event_trigger
LANGUAGE plpgsql AS $$
DECLARE
    command record;
BEGIN
    FOR command IN SELECT objid FROM pg_event_trigger_ddl_commands() WHERE object_type = 'index' LOOP
        PERFORM gin_beside_btree(command.objid);
    END LOOP;
END
$$;

CREATE OR REPLACE FUNCTION gin_beside_btree_backfill() RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    btree_index oid;
    done integer := 0;
BEGIN
    FOR btree_index IN
        SELECT i.indexrelid
          FROM pg_index i
          JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attname = '_jsonb'
    LOOP
        PERFORM gin_beside_btree(btree_index);
        done := done + 1;
    END LOOP;
    RETURN done;
END
$$;

DROP EVENT TRIGGER IF EXISTS gin_beside_btree;
CREATE EVENT TRIGGER gin_beside_btree ON ddl_command_end WHEN TAG IN ('CREATE INDEX')
    EXECUTE FUNCTION gin_beside_btree_on_create();

SELECT gin_beside_btree_backfill();
