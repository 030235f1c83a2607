/**
 * The metadata schema as an ordered list of migrations. A migration is never edited once shipped;
 * changes go in a new one. `schema_version` holds one row per applied migration.
 */

export interface Migration {
  readonly version: number;
  readonly description: string;
  readonly sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'cache records, refs, stat cache, layer blobs, images, build history, locks',
    sql: `
      CREATE TABLE cache_records (
        key          TEXT    NOT NULL,
        output       INTEGER NOT NULL,
        result_id    TEXT    NOT NULL,
        record_type  TEXT    NOT NULL,
        description  TEXT    NOT NULL,
        created_at   INTEGER NOT NULL,
        last_used_at INTEGER NOT NULL,
        use_count    INTEGER NOT NULL,
        size         INTEGER,
        PRIMARY KEY (key, output)
      ) WITHOUT ROWID;
      CREATE INDEX cache_records_result ON cache_records (result_id);
      CREATE INDEX cache_records_last_used ON cache_records (last_used_at);

      -- The cache keys of a record's inputs, in input order (links, for export and miss reports).
      CREATE TABLE cache_record_inputs (
        key       TEXT    NOT NULL,
        output    INTEGER NOT NULL,
        idx       INTEGER NOT NULL,
        input_key TEXT    NOT NULL,
        PRIMARY KEY (key, output, idx),
        FOREIGN KEY (key, output) REFERENCES cache_records (key, output) ON DELETE CASCADE
      ) WITHOUT ROWID;
      CREATE INDEX cache_record_inputs_input ON cache_record_inputs (input_key);

      CREATE TABLE refs (
        result_id    TEXT PRIMARY KEY,
        parent       TEXT,
        size         INTEGER,
        created_at   INTEGER NOT NULL,
        last_used_at INTEGER NOT NULL
      ) WITHOUT ROWID;

      -- One row per acquire(); the reference count is the number of rows whose process is alive.
      CREATE TABLE ref_holders (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        result_id   TEXT    NOT NULL,
        holder      TEXT    NOT NULL,
        pid         INTEGER NOT NULL,
        pid_start   TEXT    NOT NULL,
        acquired_at INTEGER NOT NULL
      );
      CREATE INDEX ref_holders_result ON ref_holders (result_id);

      -- Results a prune is removing right now: acquire() refuses them.
      CREATE TABLE tombstones (
        result_id  TEXT PRIMARY KEY,
        pid        INTEGER NOT NULL,
        pid_start  TEXT    NOT NULL,
        created_at INTEGER NOT NULL
      ) WITHOUT ROWID;

      CREATE TABLE stat_cache (
        root     TEXT    NOT NULL,
        path     TEXT    NOT NULL,
        size     INTEGER NOT NULL,
        mtime_ms REAL    NOT NULL,
        ctime_ms REAL    NOT NULL,
        ino      INTEGER NOT NULL,
        mode     INTEGER NOT NULL,
        digest   TEXT    NOT NULL,
        PRIMARY KEY (root, path)
      ) WITHOUT ROWID;

      CREATE TABLE layer_blobs (
        snapshot_id TEXT    NOT NULL,
        compression TEXT    NOT NULL,
        blob_digest TEXT    NOT NULL,
        diff_id     TEXT    NOT NULL,
        size        INTEGER NOT NULL,
        media_type  TEXT    NOT NULL,
        created_at  INTEGER NOT NULL,
        PRIMARY KEY (snapshot_id, compression)
      ) WITHOUT ROWID;
      CREATE INDEX layer_blobs_blob ON layer_blobs (blob_digest);

      CREATE TABLE images (
        name            TEXT PRIMARY KEY,
        manifest_digest TEXT    NOT NULL,
        config_digest   TEXT    NOT NULL,
        media_type      TEXT    NOT NULL,
        created_at      INTEGER NOT NULL,
        updated_at      INTEGER NOT NULL
      ) WITHOUT ROWID;

      CREATE TABLE builds (
        build_id       TEXT PRIMARY KEY,
        description    TEXT    NOT NULL,
        status         TEXT    NOT NULL,
        started_at     INTEGER NOT NULL,
        finished_at    INTEGER,
        steps_total    INTEGER NOT NULL DEFAULT 0,
        steps_cached   INTEGER NOT NULL DEFAULT 0,
        steps_executed INTEGER NOT NULL DEFAULT 0
      ) WITHOUT ROWID;
      CREATE INDEX builds_started ON builds (started_at);

      CREATE TABLE build_steps (
        build_id      TEXT    NOT NULL REFERENCES builds (build_id) ON DELETE CASCADE,
        idx           INTEGER NOT NULL,
        vertex_digest TEXT    NOT NULL,
        name          TEXT    NOT NULL,
        cache_key     TEXT,
        outcome       TEXT    NOT NULL,
        reason        TEXT,
        started_at    INTEGER,
        finished_at   INTEGER,
        PRIMARY KEY (build_id, idx)
      ) WITHOUT ROWID;

      -- Advisory locks between processes (e.g. one GC at a time), owned by pid + start time.
      CREATE TABLE locks (
        name        TEXT PRIMARY KEY,
        pid         INTEGER NOT NULL,
        pid_start   TEXT    NOT NULL,
        acquired_at INTEGER NOT NULL
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 2,
    description: 'layer sizes by blob digest (uncompressed tar bytes and file content bytes)',
    sql: `
      -- Facts about a layer blob that cost a decompression to learn (src/engine/layer-sizes.ts).
      -- Keyed by the blob digest, so they never go stale; rows of deleted blobs are harmless.
      CREATE TABLE layer_sizes (
        blob_digest       TEXT    PRIMARY KEY,
        diff_id           TEXT    NOT NULL,
        uncompressed_size INTEGER NOT NULL,
        content_size      INTEGER NOT NULL
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 3,
    description: 'where a layer blob came from: an image (keep it as is) or an export of the snapshot',
    sql: `
      -- 'image': the blob the snapshot was unpacked from (a base image layer); its diff_id is the
      -- image's, so every export reuses it, also a reproducible (SOURCE_DATE_EPOCH) one.
      ALTER TABLE layer_blobs ADD COLUMN origin TEXT NOT NULL DEFAULT 'export';
    `,
  },
  {
    version: 4,
    description: 'operation leases: what a running operation creates is not garbage yet',
    sql: `
      -- One row per running operation (build, load, pull, rmi, prune...), owned by pid + start time.
      -- started_at is a file-system timestamp (ms), comparable with the mtimes of what it creates.
      -- A lease of a dead process marks an interrupted operation: the next start collects garbage.
      CREATE TABLE leases (
        id         TEXT    PRIMARY KEY,
        label      TEXT    NOT NULL,
        pid        INTEGER NOT NULL,
        pid_start  TEXT    NOT NULL,
        protects   INTEGER NOT NULL,
        started_at REAL    NOT NULL
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 5,
    description: 'build history: what went into each step (for exact miss reasons), sizes, file fingerprints',
    sql: `
      -- Which Dockerfile a build ran (its absolute path, or the daemon's client context key and
      -- name): earlier builds of the same Dockerfile are what a miss is compared with.
      ALTER TABLE builds ADD COLUMN dockerfile TEXT NOT NULL DEFAULT '';
      CREATE INDEX builds_dockerfile ON builds (dockerfile, started_at);
      ALTER TABLE build_steps ADD COLUMN stage TEXT NOT NULL DEFAULT '';
      ALTER TABLE build_steps ADD COLUMN instruction TEXT NOT NULL DEFAULT '';
      -- The cache key of the step's first input keyed by cache key (its parent layer).
      ALTER TABLE build_steps ADD COLUMN parent_key TEXT;
      -- JSON: the other parts of the key (op digest, input keys, ARG values, base image).
      ALTER TABLE build_steps ADD COLUMN facts TEXT;
      ALTER TABLE build_steps ADD COLUMN files_digest TEXT;
      ALTER TABLE build_steps ADD COLUMN why TEXT;
      ALTER TABLE build_steps ADD COLUMN duration_ms INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE build_steps ADD COLUMN layer_size INTEGER;
      ALTER TABLE build_steps ADD COLUMN bytes_read INTEGER;
      CREATE INDEX build_steps_parent ON build_steps (parent_key);
      -- The files a step read, with their fingerprints: one row per distinct set, shared by every
      -- build that read the same files (a rebuild with nothing changed stores nothing new).
      CREATE TABLE history_file_sets (
        digest    TEXT    PRIMARY KEY,
        files     TEXT    NOT NULL,
        count     INTEGER NOT NULL,
        truncated INTEGER NOT NULL DEFAULT 0
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 6,
    description: 'build history: the built image\'s layers (sizes and bytes hidden by later layers), for reports',
    sql: `
      -- JSON: [{size, files, wastedBytes}] bottom layer first; NULL when the build made no image.
      ALTER TABLE builds ADD COLUMN layers TEXT;
    `,
  },
  {
    version: 7,
    description: 'RepoDigests: the manifest digest an image has in each repository it was pushed to or pulled from',
    sql: `
      -- As docker's RepoDigests: keyed by the image ID (config digest), not by a tag, so a retag or a
      -- moved tag keeps them; one row per repository (the full name, docker.io/library/app), the
      -- latest push or pull winning. Rows go when the image's last name goes (ImageStore.delete).
      CREATE TABLE repo_digests (
        image_id   TEXT    NOT NULL,
        repository TEXT    NOT NULL,
        digest     TEXT    NOT NULL,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (image_id, repository)
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 8,
    description: 'lazy compression: layer blobs found by diff_id',
    sql: `
      -- Builds store layers uncompressed; a push or an export finds the compressed blob of a layer
      -- by its diff_id (the manifest names the uncompressed blob, whose digest is the diff_id).
      -- Data roots from before keep their gzip rows: they are read as they are.
      CREATE INDEX layer_blobs_diff ON layer_blobs (diff_id);
    `,
  },
];

export const LATEST_SCHEMA_VERSION = MIGRATIONS.reduce((m, x) => Math.max(m, x.version), 0);
