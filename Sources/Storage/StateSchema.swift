/// The tables of `state.db`, at schema version 5 (`PRAGMA user_version`).
///
/// Times are REAL seconds since 1970 (UTC), but for `orphaned_since_boot` and `last_run_boot`,
/// seconds on the boot clock (CLOCK_BOOTTIME) of the namespace's boot, which the grace period
/// counts on and which orders the runs recording a namespace. A namespace is one incarnation in one boot
/// (`NamespaceIdentity`); every other table refers to it by `namespaces.id`. Interface names are
/// the text tunwarden shows and reports (a byte that is not printable UTF-8 as `\xHH`), as in
/// the JSON. Counters are the kernel's unsigned 64-bit values stored in SQLite's signed integers
/// by their bit pattern. Numbers tunwarden never writes are refused by CHECK constraints, and any
/// found all the same make the database damaged.
enum StateSchema {
    static let version: Int64 = 5

    /// The tables every database has; one missing makes the schema unreadable (damage).
    static let tables = ["namespaces", "interfaces", "counts", "alerted_orphans", "alerts", "meta"]

    static let create = """
    CREATE TABLE namespaces (
        id INTEGER PRIMARY KEY,
        identity TEXT NOT NULL UNIQUE,
        -- The boot id of a Linux identity, so that other boots' namespaces are forgotten by one DELETE.
        boot TEXT,
        -- The `ip netns` name it was audited under or found by, when it had one.
        name TEXT,
        -- 1 for the namespace process 1 runs in (this host's).
        host INTEGER NOT NULL DEFAULT 0,
        -- The last inventory recorded: every interface row below was seen then (their last_seen).
        last_run REAL,
        alerted_status TEXT,
        reaped_total INTEGER NOT NULL DEFAULT 0 CHECK (reaped_total BETWEEN 0 AND 9007199254740992),
        -- The boot clock when the last inventory recorded was taken (nil without one: macOS, a
        -- capture): a run whose inventory is older is not recorded, whatever the wall clock says.
        last_run_boot REAL
    );
    CREATE TABLE interfaces (
        namespace INTEGER NOT NULL,
        ifindex INTEGER NOT NULL CHECK (ifindex BETWEEN 1 AND 2147483647),
        ifname TEXT NOT NULL,
        kind TEXT NOT NULL,
        first_seen REAL NOT NULL,
        orphaned_since REAL,
        rx_packets INTEGER, tx_packets INTEGER, rx_bytes INTEGER, tx_bytes INTEGER,
        last_traffic_change REAL,
        -- A JSON array of "comm[pid]", oldest first.
        holders_seen TEXT,
        -- The boot clock when orphaned_since was, or (for a row older than this column) when an
        -- orphan was next seen: its age counts from here, whatever the wall clock did.
        orphaned_since_boot REAL,
        -- What tells the device from another that later stands at its ifindex under its name
        -- (`DeviceIdentity.text`: kind, queue mode, hardware address), as last seen.
        identity TEXT,
        PRIMARY KEY (namespace, ifindex, ifname)
    ) WITHOUT ROWID;
    CREATE TABLE counts (
        namespace INTEGER NOT NULL,
        time REAL NOT NULL,
        count INTEGER NOT NULL CHECK (count BETWEEN 0 AND 2147483647)
    );
    CREATE INDEX counts_by_namespace ON counts (namespace, time);
    CREATE TABLE alerted_orphans (
        namespace INTEGER NOT NULL,
        ifname TEXT NOT NULL,
        -- When the device stopped being an orphan, while a watcher's hold-down (--resolve-after)
        -- keeps it remembered as alerted; NULL while it is one.
        released REAL,
        PRIMARY KEY (namespace, ifname)
    ) WITHOUT ROWID;
    -- Alerts decided, newest last: when they fired (for `history`), and their delivery.
    CREATE TABLE alerts (
        id INTEGER PRIMARY KEY,
        namespace INTEGER NOT NULL,
        time REAL NOT NULL,
        event TEXT NOT NULL,
        status TEXT NOT NULL,
        previous_status TEXT NOT NULL,
        first INTEGER NOT NULL,
        summary TEXT NOT NULL,
        -- The new orphans' names, one per line (names as shown never hold a line break).
        new_orphans TEXT NOT NULL,
        -- The JSON the sinks are given.
        body BLOB NOT NULL,
        -- Sinks still to deliver to: 1 until delivered, 0 once delivered or superseded.
        pending_exec INTEGER NOT NULL DEFAULT 0,
        pending_webhook INTEGER NOT NULL DEFAULT 0,
        -- The sink of each kind of the run that decided the alert (its --alert-exec command line,
        -- its --alert-webhook URL; NULL when it had none): besides the runs of the alert's own
        -- namespace, only a run with that very sink delivers it.
        exec_sink TEXT,
        webhook_sink TEXT,
        attempts INTEGER NOT NULL DEFAULT 0,
        -- When a run may next try it: the end of a claim, or of the backoff after a failure.
        next_attempt REAL,
        last_problem TEXT
    );
    CREATE INDEX alerts_by_namespace ON alerts (namespace, id);
    CREATE INDEX alerts_pending ON alerts (next_attempt) WHERE pending_exec OR pending_webhook;
    CREATE TABLE meta (key TEXT PRIMARY KEY, value) WITHOUT ROWID;
    """

    /// What brings a database of each older version to the next, by the version it starts from:
    /// run in one writing transaction with the new `user_version`, keeping every row.
    static let migrations: [Int64: String] = [
        // Version 1 counted ages on the wall clock. Its orphans get no boot-clock reading: the
        // next recording gives them one, and their ages count from then, never from before.
        1: "ALTER TABLE interfaces ADD COLUMN orphaned_since_boot REAL;",
        // Version 2 ordered runs by the wall clock alone. Its namespaces get no boot-clock reading:
        // the next recording of each is ordered by the wall clock once more, and gives it one.
        2: "ALTER TABLE namespaces ADD COLUMN last_run_boot REAL;",
        // Version 3 knew a device by ifindex and name alone, so one moved in under an orphan's
        // took over its age. Its rows get no identity (the next recording gives each one), and
        // its orphans no boot-clock reading: whether the device seen next is the one that was
        // orphaned cannot be told, so their ages count from the next recording, never from before.
        3: """
        ALTER TABLE interfaces ADD COLUMN identity TEXT;
        UPDATE interfaces SET orphaned_since_boot = NULL WHERE orphaned_since_boot IS NOT NULL;
        """,
        // Version 4 owed each alert to any sink of a kind, and forgot an alerted orphan as soon
        // as it was one no more. Its alerts stay owed to the runs of their own namespace with a
        // sink of the kind (as alerts of a run without one are), and its alerted orphans are
        // orphans still.
        4: """
        ALTER TABLE alerts ADD COLUMN exec_sink TEXT;
        ALTER TABLE alerts ADD COLUMN webhook_sink TEXT;
        ALTER TABLE alerted_orphans ADD COLUMN released REAL;
        """,
    ]
}
