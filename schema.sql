-- The ocpp-bridge tag database: the canonical schema.
--
-- This file is the single source of truth. `tools/embed-schema.sh` copies it into
-- `Sources/TagStore/Schema.swift`, and the bridge applies it with GRDB's `DatabaseMigrator`.
-- Each `-- migration: NAME` line starts one migration; migrations run in file order, once each,
-- and are never edited after a release: add a new migration instead.
--
-- Other processes may read and write this file directly (sqlite3, SCADA, HMI tools). The
-- triggers below keep the change log and the `type` column right for them:
--   sqlite3 bridge.sqlite "UPDATE tags SET value = 'Accepted' WHERE name = 'CP1.Authorize.Status'"
--   sqlite3 bridge.sqlite "INSERT INTO tags (name, value) VALUES ('Site.Setpoint', 11.5)"
-- Set a busy timeout in such tools (sqlite3: `.timeout 5000`), the bridge writes often.
-- The triggers assume nothing about `PRAGMA recursive_triggers` (they work either way).

-- migration: v1

-- The current value of every tag.
CREATE TABLE tags (
    -- Dot-separated tag path, e.g. 'CP1.Connector1.Status'.
    name TEXT PRIMARY KEY NOT NULL,
    -- The value, stored with its own SQLite type (no column affinity): INTEGER for 'int' and
    -- 'bool' (0 or 1), REAL for 'double', TEXT for 'string', NULL for 'null'.
    value,
    -- The value's type: 'bool', 'int', 'double', 'string' or 'null'. Writers may leave it NULL:
    -- the triggers then infer it from typeof(value). A write that fits the declared type keeps
    -- it: an integer (or 'true'/'false') into a 'bool' tag stays a bool (normalized to 0/1), an
    -- integer or a numeric text into a 'double' tag becomes REAL, an integer text into an 'int'
    -- tag becomes INTEGER. A blob is stored as its text.
    type TEXT CHECK (type IN ('bool', 'int', 'double', 'string', 'null')),
    -- 'good', 'bad' or 'uncertain' (open set: other values are kept as written).
    quality TEXT NOT NULL DEFAULT 'good',
    -- Time of the last write, ISO-8601 UTC with milliseconds and Z ('2025-01-31T12:00:00.000Z').
    -- Filled by the triggers when a writer leaves it NULL or unchanged while changing the value.
    updated_at TEXT,
    -- Unit of a measured value ('Wh', 'W', 'A', ...), NULL where none applies.
    unit TEXT,
    -- 'ro': derived by the bridge from OCPP messages, read-only for REST clients;
    -- 'rw': writable (handshake answers, command requests, user tags).
    access TEXT NOT NULL DEFAULT 'rw' CHECK (access IN ('ro', 'rw'))
) WITHOUT ROWID;

-- The change log: one row per change of a tag's value, type or quality, whoever made it.
-- A write that only refreshes updated_at adds no row. The bridge trims it to the newest
-- `changeRetention` rows; `seq` is never reused (AUTOINCREMENT), so a client may resume
-- from the last seq it saw.
CREATE TABLE tag_changes (
    -- Position in the log, strictly increasing in commit order.
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    -- The tag's name, value, type, quality and updated_at after the change (as in `tags`).
    name TEXT NOT NULL,
    value,
    type TEXT NOT NULL,
    quality TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

-- After an INSERT: complete the row (type, value, updated_at) if the writer left it incomplete
-- or inconsistent, then log it. The completing UPDATE does not log again: `tags_after_update`
-- ignores updates of rows that were incomplete before.
CREATE TRIGGER tags_after_insert AFTER INSERT ON tags
BEGIN
    UPDATE tags SET
        value = CASE
            WHEN NEW.type = 'bool' AND typeof(NEW.value) = 'integer' THEN NEW.value <> 0
            WHEN NEW.type = 'bool' AND typeof(NEW.value) = 'text' AND lower(NEW.value) IN ('true', 'false') THEN lower(NEW.value) = 'true'
            WHEN NEW.type = 'int' AND typeof(NEW.value) = 'text' AND CAST(CAST(NEW.value AS INTEGER) AS TEXT) = NEW.value THEN CAST(NEW.value AS INTEGER)
            WHEN NEW.type = 'double' AND typeof(NEW.value) = 'integer' THEN CAST(NEW.value AS REAL)
            WHEN NEW.type = 'double' AND typeof(NEW.value) = 'text' AND NEW.value GLOB '*[0-9]*' AND NEW.value NOT GLOB '*[^0-9.eE+-]*' THEN CAST(NEW.value AS REAL)
            WHEN typeof(NEW.value) = 'blob' THEN CAST(NEW.value AS TEXT)
            ELSE NEW.value
        END,
        type = CASE
            WHEN NEW.type = 'bool' AND (typeof(NEW.value) = 'integer' OR (typeof(NEW.value) = 'text' AND lower(NEW.value) IN ('true', 'false'))) THEN 'bool'
            WHEN NEW.type = 'int' AND typeof(NEW.value) = 'text' AND CAST(CAST(NEW.value AS INTEGER) AS TEXT) = NEW.value THEN 'int'
            WHEN NEW.type = 'double' AND (typeof(NEW.value) = 'integer' OR (typeof(NEW.value) = 'text' AND NEW.value GLOB '*[0-9]*' AND NEW.value NOT GLOB '*[^0-9.eE+-]*')) THEN 'double'
            ELSE CASE typeof(NEW.value) WHEN 'integer' THEN 'int' WHEN 'real' THEN 'double' WHEN 'null' THEN 'null' ELSE 'string' END
        END,
        updated_at = coalesce(NEW.updated_at, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
    WHERE name = NEW.name AND (
        NEW.updated_at IS NULL OR NOT CASE NEW.type
            WHEN 'bool' THEN typeof(NEW.value) = 'integer' AND NEW.value IN (0, 1)
            WHEN 'int' THEN typeof(NEW.value) = 'integer'
            WHEN 'double' THEN typeof(NEW.value) = 'real'
            WHEN 'string' THEN typeof(NEW.value) = 'text'
            WHEN 'null' THEN NEW.value IS NULL
            ELSE 0
        END
    );
    INSERT INTO tag_changes (name, value, type, quality, updated_at)
        SELECT name, value, type, quality, updated_at FROM tags WHERE name = NEW.name;
END;

-- After an UPDATE of a complete row: complete the new row as above (and move updated_at if the
-- writer changed the value, type or quality but left updated_at as it was), then log it if its
-- value, type or quality differ from the old row.
CREATE TRIGGER tags_after_update AFTER UPDATE ON tags
WHEN OLD.updated_at IS NOT NULL AND CASE OLD.type
    WHEN 'bool' THEN typeof(OLD.value) = 'integer' AND OLD.value IN (0, 1)
    WHEN 'int' THEN typeof(OLD.value) = 'integer'
    WHEN 'double' THEN typeof(OLD.value) = 'real'
    WHEN 'string' THEN typeof(OLD.value) = 'text'
    WHEN 'null' THEN OLD.value IS NULL
    ELSE 0
END
BEGIN
    UPDATE tags SET
        value = CASE
            WHEN NEW.type = 'bool' AND typeof(NEW.value) = 'integer' THEN NEW.value <> 0
            WHEN NEW.type = 'bool' AND typeof(NEW.value) = 'text' AND lower(NEW.value) IN ('true', 'false') THEN lower(NEW.value) = 'true'
            WHEN NEW.type = 'int' AND typeof(NEW.value) = 'text' AND CAST(CAST(NEW.value AS INTEGER) AS TEXT) = NEW.value THEN CAST(NEW.value AS INTEGER)
            WHEN NEW.type = 'double' AND typeof(NEW.value) = 'integer' THEN CAST(NEW.value AS REAL)
            WHEN NEW.type = 'double' AND typeof(NEW.value) = 'text' AND NEW.value GLOB '*[0-9]*' AND NEW.value NOT GLOB '*[^0-9.eE+-]*' THEN CAST(NEW.value AS REAL)
            WHEN typeof(NEW.value) = 'blob' THEN CAST(NEW.value AS TEXT)
            ELSE NEW.value
        END,
        type = CASE
            WHEN NEW.type = 'bool' AND (typeof(NEW.value) = 'integer' OR (typeof(NEW.value) = 'text' AND lower(NEW.value) IN ('true', 'false'))) THEN 'bool'
            WHEN NEW.type = 'int' AND typeof(NEW.value) = 'text' AND CAST(CAST(NEW.value AS INTEGER) AS TEXT) = NEW.value THEN 'int'
            WHEN NEW.type = 'double' AND (typeof(NEW.value) = 'integer' OR (typeof(NEW.value) = 'text' AND NEW.value GLOB '*[0-9]*' AND NEW.value NOT GLOB '*[^0-9.eE+-]*')) THEN 'double'
            ELSE CASE typeof(NEW.value) WHEN 'integer' THEN 'int' WHEN 'real' THEN 'double' WHEN 'null' THEN 'null' ELSE 'string' END
        END,
        updated_at = CASE
            WHEN NEW.updated_at IS NULL OR NEW.updated_at IS OLD.updated_at THEN strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
            ELSE NEW.updated_at
        END
    WHERE name = NEW.name AND (
        NEW.updated_at IS NULL
        OR (NEW.updated_at IS OLD.updated_at
            AND (NEW.value IS NOT OLD.value OR NEW.type IS NOT OLD.type OR NEW.quality IS NOT OLD.quality))
        OR NOT CASE NEW.type
            WHEN 'bool' THEN typeof(NEW.value) = 'integer' AND NEW.value IN (0, 1)
            WHEN 'int' THEN typeof(NEW.value) = 'integer'
            WHEN 'double' THEN typeof(NEW.value) = 'real'
            WHEN 'string' THEN typeof(NEW.value) = 'text'
            WHEN 'null' THEN NEW.value IS NULL
            ELSE 0
        END
    );
    INSERT INTO tag_changes (name, value, type, quality, updated_at)
        SELECT name, value, type, quality, updated_at FROM tags
        WHERE name = NEW.name
          AND (value IS NOT OLD.value OR type IS NOT OLD.type OR quality IS NOT OLD.quality);
END;

-- OCPP transactions, stored durably before the charge point gets its answer.
CREATE TABLE transactions (
    -- The transactionId given to the charge point. AUTOINCREMENT: never reused, even after
    -- deletes or restarts.
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    -- The charge point id (last path segment of its WebSocket URL).
    charge_point TEXT NOT NULL,
    -- The connector (OCPP 1.6) or EVSE (2.0.1) the transaction runs on.
    connector_id INTEGER NOT NULL,
    -- The idTag that started it.
    id_tag TEXT NOT NULL,
    -- Meter reading at start, in Wh.
    meter_start INTEGER NOT NULL,
    -- Start time as reported by the charge point, ISO-8601 UTC with milliseconds and Z.
    start_time TEXT NOT NULL,
    -- Meter reading at stop (Wh), NULL while the transaction runs.
    meter_stop INTEGER,
    -- Stop time as reported by the charge point, NULL while the transaction runs.
    stop_time TEXT,
    -- The idTag that stopped it, if the charge point sent one.
    stop_id_tag TEXT,
    -- The stop reason ('Local', 'Remote', 'EVDisconnected', ...), if sent.
    reason TEXT,
    -- The StopTransaction transactionData (meter values) as JSON text, if sent.
    transaction_data TEXT CHECK (transaction_data IS NULL OR json_valid(transaction_data)),
    -- When the bridge stored the start, ISO-8601 UTC with milliseconds and Z.
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

-- Finds a resent StartTransaction, and a charge point's transactions.
CREATE INDEX transactions_by_charge_point ON transactions (charge_point, connector_id, start_time);

-- migration: v2

-- Proxy mode: messages queued durably for an upstream CSMS while it is unreachable. Only
-- transaction-related messages are queued (StartTransaction, StopTransaction, transaction
-- MeterValues); the bridge replays them per upstream and charge point in seq order, and deletes
-- each row once the upstream has answered it, in the same commit as the id mapping a
-- StartTransaction answer brings (see `upstream_transactions`).
CREATE TABLE upstream_queue (
    -- Position in the queue, strictly increasing in commit order. AUTOINCREMENT: never reused,
    -- so a replayed row can never be mistaken for a newer one.
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    -- The upstream CSMS's configured name, e.g. 'primary' or 'backup'.
    upstream TEXT NOT NULL,
    -- The charge point id the message came from.
    charge_point TEXT NOT NULL,
    -- The OCPP action: 'StartTransaction', 'StopTransaction' or 'MeterValues'.
    action TEXT NOT NULL,
    -- The request payload as JSON text, as the charge point sent it (transactionIds are the
    -- bridge's local ids; the bridge rewrites them to the upstream's ids when it sends the row).
    payload TEXT NOT NULL CHECK (json_valid(payload)),
    -- The local transaction id (`transactions.id`) the message belongs to, NULL if none (a
    -- MeterValues without transactionId). Not a foreign key: old transactions may be deleted.
    local_transaction_id INTEGER,
    -- When the bridge queued it, ISO-8601 UTC with milliseconds and Z.
    created_at TEXT NOT NULL,
    -- Sends that got no acknowledgement so far.
    attempts INTEGER NOT NULL DEFAULT 0,
    -- Why the last send failed (transport error, timeout, CALLERROR), NULL if none did.
    last_error TEXT
);

-- Replays one upstream's queue for one charge point in order, and counts it.
CREATE INDEX upstream_queue_by_upstream ON upstream_queue (upstream, charge_point, seq);

-- Proxy mode: the transaction ids each upstream gave, per local id. The bridge allocates the id
-- the charge point sees (`transactions.id`, the local id); each upstream answers the relayed
-- StartTransaction with an id of its own (the remote id). The bridge rewrites transactionIds with
-- this table: local to remote going up (StopTransaction, MeterValues), remote to local coming down
-- (RemoteStopTransaction, SetChargingProfile).
CREATE TABLE upstream_transactions (
    -- The upstream CSMS's configured name.
    upstream TEXT NOT NULL,
    -- The charge point the transaction runs on.
    charge_point TEXT NOT NULL,
    -- The bridge's transaction id (`transactions.id`).
    local_id INTEGER NOT NULL,
    -- The transactionId the upstream answered the StartTransaction with.
    remote_id INTEGER NOT NULL,
    -- When the bridge recorded the mapping, ISO-8601 UTC with milliseconds and Z.
    created_at TEXT NOT NULL,
    PRIMARY KEY (upstream, local_id)
) WITHOUT ROWID;

-- Maps a remote id back to its one local id per upstream and charge point.
CREATE UNIQUE INDEX upstream_transactions_by_remote_id
    ON upstream_transactions (upstream, charge_point, remote_id);

-- migration: v3

-- OCPP 2.0.1: the charging station creates a transaction's id (a string, at most 36 characters).
-- It is kept beside the bridge's own integer id; NULL for OCPP 1.6 transactions, whose id is the
-- bridge's.
ALTER TABLE transactions ADD COLUMN station_transaction_id TEXT;

-- Finds a 2.0.1 transaction by the station's id; one row per charge point and station id, so a
-- resent Started event finds the stored row.
CREATE UNIQUE INDEX transactions_by_station_id
    ON transactions (charge_point, station_transaction_id) WHERE station_transaction_id IS NOT NULL;

-- migration: v4

-- Who may connect (docs/security.md): one row per charge point the bridge knows. A charge point without a
-- row is unknown and follows the configured policy (accept, pending or reject), which may add its row.
CREATE TABLE charge_point_registrations (
    -- The charge point id (last path segment of its WebSocket URL, percent-decoded).
    charge_point TEXT PRIMARY KEY NOT NULL,
    -- 'Accepted' (may connect and boot), 'Pending' (connects; BootNotification is answered Pending until
    -- an operator accepts it) or 'Rejected' (refused at the WebSocket upgrade).
    status TEXT NOT NULL CHECK (status IN ('Accepted', 'Pending', 'Rejected')),
    -- The HTTP Basic password (security profiles 1 and 2) as SHA-256(salt || password), with a 16-byte
    -- random salt; both NULL when no password is set. The password itself is never stored.
    password_salt BLOB,
    password_hash BLOB,
    -- When the row last changed, ISO-8601 UTC with milliseconds and Z.
    updated_at TEXT NOT NULL,
    CHECK ((password_salt IS NULL) = (password_hash IS NULL))
) WITHOUT ROWID;

-- migration: v5

-- The same `tags` table with its `type` rule spelled as comparisons. SQLite compiles an IN list of more
-- than two values into a temporary index that every INSERT and UPDATE of a row builds anew; with the
-- upsert's conflict path and its triggers that was about half the cost of writing a tag (docs/performance.md).
-- The rule is the same: one of the five names, or NULL. SQLite cannot change a CHECK constraint in place,
-- so the table is rebuilt, rows kept, and its triggers (dropped with the old table) are created again as
-- in v1, unchanged.
CREATE TABLE tags_v5 (
    -- Dot-separated tag path, e.g. 'CP1.Connector1.Status'.
    name TEXT PRIMARY KEY NOT NULL,
    -- The value, stored with its own SQLite type (no column affinity): INTEGER for 'int' and
    -- 'bool' (0 or 1), REAL for 'double', TEXT for 'string', NULL for 'null'.
    value,
    -- The value's type: 'bool', 'int', 'double', 'string' or 'null'. Writers may leave it NULL:
    -- the triggers then infer it from typeof(value). A write that fits the declared type keeps
    -- it: an integer (or 'true'/'false') into a 'bool' tag stays a bool (normalized to 0/1), an
    -- integer or a numeric text into a 'double' tag becomes REAL, an integer text into an 'int'
    -- tag becomes INTEGER. A blob is stored as its text.
    type TEXT CHECK (type = 'bool' OR type = 'int' OR type = 'double' OR type = 'string' OR type = 'null'),
    -- 'good', 'bad' or 'uncertain' (open set: other values are kept as written).
    quality TEXT NOT NULL DEFAULT 'good',
    -- Time of the last write, ISO-8601 UTC with milliseconds and Z ('2025-01-31T12:00:00.000Z').
    -- Filled by the triggers when a writer leaves it NULL or unchanged while changing the value.
    updated_at TEXT,
    -- Unit of a measured value ('Wh', 'W', 'A', ...), NULL where none applies.
    unit TEXT,
    -- 'ro': derived by the bridge from OCPP messages, read-only for REST clients;
    -- 'rw': writable (handshake answers, command requests, user tags).
    access TEXT NOT NULL DEFAULT 'rw' CHECK (access IN ('ro', 'rw'))
) WITHOUT ROWID;

INSERT INTO tags_v5 (name, value, type, quality, updated_at, unit, access)
    SELECT name, value, type, quality, updated_at, unit, access FROM tags;
DROP TABLE tags;
ALTER TABLE tags_v5 RENAME TO tags;

-- After an INSERT: complete the row (type, value, updated_at) if the writer left it incomplete
-- or inconsistent, then log it. The completing UPDATE does not log again: `tags_after_update`
-- ignores updates of rows that were incomplete before.
CREATE TRIGGER tags_after_insert AFTER INSERT ON tags
BEGIN
    UPDATE tags SET
        value = CASE
            WHEN NEW.type = 'bool' AND typeof(NEW.value) = 'integer' THEN NEW.value <> 0
            WHEN NEW.type = 'bool' AND typeof(NEW.value) = 'text' AND lower(NEW.value) IN ('true', 'false') THEN lower(NEW.value) = 'true'
            WHEN NEW.type = 'int' AND typeof(NEW.value) = 'text' AND CAST(CAST(NEW.value AS INTEGER) AS TEXT) = NEW.value THEN CAST(NEW.value AS INTEGER)
            WHEN NEW.type = 'double' AND typeof(NEW.value) = 'integer' THEN CAST(NEW.value AS REAL)
            WHEN NEW.type = 'double' AND typeof(NEW.value) = 'text' AND NEW.value GLOB '*[0-9]*' AND NEW.value NOT GLOB '*[^0-9.eE+-]*' THEN CAST(NEW.value AS REAL)
            WHEN typeof(NEW.value) = 'blob' THEN CAST(NEW.value AS TEXT)
            ELSE NEW.value
        END,
        type = CASE
            WHEN NEW.type = 'bool' AND (typeof(NEW.value) = 'integer' OR (typeof(NEW.value) = 'text' AND lower(NEW.value) IN ('true', 'false'))) THEN 'bool'
            WHEN NEW.type = 'int' AND typeof(NEW.value) = 'text' AND CAST(CAST(NEW.value AS INTEGER) AS TEXT) = NEW.value THEN 'int'
            WHEN NEW.type = 'double' AND (typeof(NEW.value) = 'integer' OR (typeof(NEW.value) = 'text' AND NEW.value GLOB '*[0-9]*' AND NEW.value NOT GLOB '*[^0-9.eE+-]*')) THEN 'double'
            ELSE CASE typeof(NEW.value) WHEN 'integer' THEN 'int' WHEN 'real' THEN 'double' WHEN 'null' THEN 'null' ELSE 'string' END
        END,
        updated_at = coalesce(NEW.updated_at, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
    WHERE name = NEW.name AND (
        NEW.updated_at IS NULL OR NOT CASE NEW.type
            WHEN 'bool' THEN typeof(NEW.value) = 'integer' AND NEW.value IN (0, 1)
            WHEN 'int' THEN typeof(NEW.value) = 'integer'
            WHEN 'double' THEN typeof(NEW.value) = 'real'
            WHEN 'string' THEN typeof(NEW.value) = 'text'
            WHEN 'null' THEN NEW.value IS NULL
            ELSE 0
        END
    );
    INSERT INTO tag_changes (name, value, type, quality, updated_at)
        SELECT name, value, type, quality, updated_at FROM tags WHERE name = NEW.name;
END;

-- After an UPDATE of a complete row: complete the new row as above (and move updated_at if the
-- writer changed the value, type or quality but left updated_at as it was), then log it if its
-- value, type or quality differ from the old row.
CREATE TRIGGER tags_after_update AFTER UPDATE ON tags
WHEN OLD.updated_at IS NOT NULL AND CASE OLD.type
    WHEN 'bool' THEN typeof(OLD.value) = 'integer' AND OLD.value IN (0, 1)
    WHEN 'int' THEN typeof(OLD.value) = 'integer'
    WHEN 'double' THEN typeof(OLD.value) = 'real'
    WHEN 'string' THEN typeof(OLD.value) = 'text'
    WHEN 'null' THEN OLD.value IS NULL
    ELSE 0
END
BEGIN
    UPDATE tags SET
        value = CASE
            WHEN NEW.type = 'bool' AND typeof(NEW.value) = 'integer' THEN NEW.value <> 0
            WHEN NEW.type = 'bool' AND typeof(NEW.value) = 'text' AND lower(NEW.value) IN ('true', 'false') THEN lower(NEW.value) = 'true'
            WHEN NEW.type = 'int' AND typeof(NEW.value) = 'text' AND CAST(CAST(NEW.value AS INTEGER) AS TEXT) = NEW.value THEN CAST(NEW.value AS INTEGER)
            WHEN NEW.type = 'double' AND typeof(NEW.value) = 'integer' THEN CAST(NEW.value AS REAL)
            WHEN NEW.type = 'double' AND typeof(NEW.value) = 'text' AND NEW.value GLOB '*[0-9]*' AND NEW.value NOT GLOB '*[^0-9.eE+-]*' THEN CAST(NEW.value AS REAL)
            WHEN typeof(NEW.value) = 'blob' THEN CAST(NEW.value AS TEXT)
            ELSE NEW.value
        END,
        type = CASE
            WHEN NEW.type = 'bool' AND (typeof(NEW.value) = 'integer' OR (typeof(NEW.value) = 'text' AND lower(NEW.value) IN ('true', 'false'))) THEN 'bool'
            WHEN NEW.type = 'int' AND typeof(NEW.value) = 'text' AND CAST(CAST(NEW.value AS INTEGER) AS TEXT) = NEW.value THEN 'int'
            WHEN NEW.type = 'double' AND (typeof(NEW.value) = 'integer' OR (typeof(NEW.value) = 'text' AND NEW.value GLOB '*[0-9]*' AND NEW.value NOT GLOB '*[^0-9.eE+-]*')) THEN 'double'
            ELSE CASE typeof(NEW.value) WHEN 'integer' THEN 'int' WHEN 'real' THEN 'double' WHEN 'null' THEN 'null' ELSE 'string' END
        END,
        updated_at = CASE
            WHEN NEW.updated_at IS NULL OR NEW.updated_at IS OLD.updated_at THEN strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
            ELSE NEW.updated_at
        END
    WHERE name = NEW.name AND (
        NEW.updated_at IS NULL
        OR (NEW.updated_at IS OLD.updated_at
            AND (NEW.value IS NOT OLD.value OR NEW.type IS NOT OLD.type OR NEW.quality IS NOT OLD.quality))
        OR NOT CASE NEW.type
            WHEN 'bool' THEN typeof(NEW.value) = 'integer' AND NEW.value IN (0, 1)
            WHEN 'int' THEN typeof(NEW.value) = 'integer'
            WHEN 'double' THEN typeof(NEW.value) = 'real'
            WHEN 'string' THEN typeof(NEW.value) = 'text'
            WHEN 'null' THEN NEW.value IS NULL
            ELSE 0
        END
    );
    INSERT INTO tag_changes (name, value, type, quality, updated_at)
        SELECT name, value, type, quality, updated_at FROM tags
        WHERE name = NEW.name
          AND (value IS NOT OLD.value OR type IS NOT OLD.type OR quality IS NOT OLD.quality);
END;
