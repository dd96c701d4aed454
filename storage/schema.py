"""The schema as a list of migrations: one function per step, applied in order by `migrate`.

`PRAGMA user_version` holds the number of steps applied. A step never changes once released:
new needs get a new step, so a database of any age upgrades by replaying the missing ones.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import aiosqlite

from storage.errors import SchemaTooNew


async def _v1_core(conn: aiosqlite.Connection) -> None:
    """Chats, users, search sessions, rounds, faces and votes."""
    await conn.execute(
        """CREATE TABLE chats (
            chat_id INTEGER PRIMARY KEY,
            type TEXT NOT NULL,
            title TEXT,
            language TEXT,
            active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
            settings TEXT NOT NULL DEFAULT '{}',
            created_at REAL NOT NULL,
            updated_at REAL NOT NULL
        )"""
    )
    await conn.execute(
        """CREATE TABLE users (
            user_id INTEGER PRIMARY KEY,
            username TEXT,
            first_name TEXT,
            language TEXT,
            created_at REAL NOT NULL,
            updated_at REAL NOT NULL
        )"""
    )
    await conn.execute(
        """CREATE TABLE sessions (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            chat_id INTEGER NOT NULL REFERENCES chats(chat_id) ON DELETE CASCADE,
            model_version TEXT NOT NULL,
            settings TEXT NOT NULL DEFAULT '{}',
            state TEXT NOT NULL DEFAULT '{}',
            dim INTEGER CHECK (dim > 0),
            latent_dim INTEGER CHECK (latent_dim > 0),
            opened_at REAL NOT NULL,
            closed_at REAL
        )"""
    )
    # At most one open session and one open round per chat: the bot's "current" ones.
    await conn.execute(
        "CREATE UNIQUE INDEX sessions_one_open ON sessions(chat_id) WHERE closed_at IS NULL"
    )
    await conn.execute("CREATE INDEX sessions_chat ON sessions(chat_id, id)")
    await conn.execute(
        """CREATE TABLE rounds (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
            chat_id INTEGER NOT NULL REFERENCES chats(chat_id) ON DELETE CASCADE,
            number INTEGER NOT NULL,
            prompt_message_id INTEGER,
            poll_id TEXT,
            opened_at REAL NOT NULL,
            closed_at REAL,
            deadline REAL,
            UNIQUE (session_id, number)
        )"""
    )
    await conn.execute(
        "CREATE UNIQUE INDEX rounds_one_open ON rounds(chat_id) WHERE closed_at IS NULL"
    )
    await conn.execute("CREATE INDEX rounds_prompt ON rounds(chat_id, prompt_message_id)")
    await conn.execute(
        """CREATE TABLE faces (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            round_id INTEGER NOT NULL REFERENCES rounds(id) ON DELETE CASCADE,
            session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
            chat_id INTEGER NOT NULL REFERENCES chats(chat_id) ON DELETE CASCADE,
            position INTEGER NOT NULL CHECK (position >= 1),
            source TEXT NOT NULL
                CHECK (source IN ('initial', 'ei', 'upload', 'best', 'random')),
            point BLOB NOT NULL,
            latent BLOB NOT NULL,
            model_version TEXT NOT NULL,
            message_id INTEGER,
            file_id TEXT,
            created_at REAL NOT NULL,
            UNIQUE (round_id, position),
            UNIQUE (chat_id, message_id)
        )"""
    )
    await conn.execute("CREATE INDEX faces_session ON faces(session_id, id)")
    await conn.execute(
        """CREATE TABLE votes (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            face_id INTEGER NOT NULL REFERENCES faces(id) ON DELETE CASCADE,
            user_id INTEGER NOT NULL REFERENCES users(user_id) ON DELETE CASCADE,
            chat_id INTEGER NOT NULL REFERENCES chats(chat_id) ON DELETE CASCADE,
            round_id INTEGER NOT NULL REFERENCES rounds(id) ON DELETE CASCADE,
            value REAL NOT NULL,
            raw_text TEXT,
            message_id INTEGER,
            created_at REAL NOT NULL,
            UNIQUE (face_id, user_id)
        )"""
    )
    await conn.execute("CREATE INDEX votes_message ON votes(chat_id, message_id)")
    await conn.execute("CREATE INDEX votes_round ON votes(round_id)")


async def _v2_admin(conn: aiosqlite.Connection) -> None:
    """Model versions, background training runs and the admin audit log."""
    await conn.execute(
        """CREATE TABLE model_versions (
            version TEXT PRIMARY KEY,
            path TEXT NOT NULL,
            config TEXT NOT NULL DEFAULT '{}',
            metrics TEXT NOT NULL DEFAULT '{}',
            active INTEGER NOT NULL DEFAULT 0 CHECK (active IN (0, 1)),
            created_at REAL NOT NULL
        )"""
    )
    await conn.execute(
        "CREATE UNIQUE INDEX model_versions_one_active ON model_versions(active) WHERE active = 1"
    )
    await conn.execute(
        """CREATE TABLE training_runs (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            requested_by INTEGER,
            config TEXT NOT NULL DEFAULT '{}',
            state TEXT NOT NULL DEFAULT 'queued'
                CHECK (state IN ('queued', 'running', 'done', 'failed', 'cancelled')),
            progress REAL NOT NULL DEFAULT 0 CHECK (progress >= 0 AND progress <= 1),
            log_tail TEXT NOT NULL DEFAULT '',
            model_version TEXT,
            created_at REAL NOT NULL,
            updated_at REAL NOT NULL
        )"""
    )
    # chat_id cascades: /forget must leave no row that names the chat, audit rows included.
    await conn.execute(
        """CREATE TABLE audit_log (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            admin_user_id INTEGER,
            action TEXT NOT NULL,
            chat_id INTEGER REFERENCES chats(chat_id) ON DELETE CASCADE,
            details TEXT NOT NULL DEFAULT '{}',
            created_at REAL NOT NULL
        )"""
    )
    await conn.execute("CREATE INDEX audit_log_chat ON audit_log(chat_id)")


async def _v3_scores(conn: aiosqlite.Connection) -> None:
    """Aggregated score cache on faces (best face in one query) and lookups for polls and undo."""
    await conn.execute("ALTER TABLE faces ADD COLUMN score REAL")
    await conn.execute("ALTER TABLE faces ADD COLUMN n_votes INTEGER NOT NULL DEFAULT 0")
    # Faces recorded before this step get their vote count now, so the cache is never stale.
    await conn.execute(
        "UPDATE faces SET n_votes = (SELECT COUNT(*) FROM votes WHERE votes.face_id = faces.id)"
    )
    await conn.execute("CREATE INDEX faces_score ON faces(session_id, score)")
    await conn.execute("CREATE INDEX rounds_poll ON rounds(poll_id) WHERE poll_id IS NOT NULL")
    await conn.execute("CREATE INDEX votes_user ON votes(chat_id, user_id, id)")


async def _v4_training(conn: aiosqlite.Connection) -> None:
    """Background training as the admin commands run it: where a run reports and its process,
    the 'interrupted' and 'discarded' states, who trained each model version from what, and the
    activations /rollback walks back."""
    # SQLite cannot change a CHECK constraint: the runs table is rebuilt with its rows.
    await conn.execute(
        """CREATE TABLE training_runs_v4 (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            requested_by INTEGER,
            config TEXT NOT NULL DEFAULT '{}',
            state TEXT NOT NULL DEFAULT 'queued'
                CHECK (state IN ('queued', 'running', 'done', 'failed', 'cancelled',
                                 'interrupted', 'discarded')),
            progress REAL NOT NULL DEFAULT 0 CHECK (progress >= 0 AND progress <= 1),
            log_tail TEXT NOT NULL DEFAULT '',
            model_version TEXT,
            created_at REAL NOT NULL,
            updated_at REAL NOT NULL,
            chat_id INTEGER REFERENCES chats(chat_id) ON DELETE SET NULL,
            message_id INTEGER,
            pid INTEGER,
            epoch INTEGER NOT NULL DEFAULT 0,
            epochs INTEGER,
            workdir TEXT,
            finished_at REAL
        )"""
    )
    await conn.execute(
        """INSERT INTO training_runs_v4 (id, requested_by, config, state, progress, log_tail,
               model_version, created_at, updated_at)
           SELECT id, requested_by, config, state, progress, log_tail, model_version,
               created_at, updated_at FROM training_runs"""
    )
    await conn.execute("DROP TABLE training_runs")
    await conn.execute("ALTER TABLE training_runs_v4 RENAME TO training_runs")
    # One run at a time, whatever the bot's code does: a second live row cannot exist.
    await conn.execute(
        "CREATE UNIQUE INDEX training_runs_one_live ON training_runs((0))"
        " WHERE state IN ('queued', 'running')"
    )
    for column in ("trained_by INTEGER", "source TEXT", "run_id INTEGER", "epoch INTEGER"):
        await conn.execute(f"ALTER TABLE model_versions ADD COLUMN {column}")
    await conn.execute("CREATE INDEX model_versions_run ON model_versions(run_id)")
    await conn.execute(
        """CREATE TABLE model_activations (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            version TEXT NOT NULL REFERENCES model_versions(version) ON DELETE CASCADE,
            activated_by INTEGER,
            undone INTEGER NOT NULL DEFAULT 0 CHECK (undone IN (0, 1)),
            created_at REAL NOT NULL
        )"""
    )
    # The version active before this step is where /rollback's history starts.
    await conn.execute(
        """INSERT INTO model_activations (version, activated_by, created_at)
           SELECT version, NULL, created_at FROM model_versions WHERE active = 1"""
    )
    await conn.execute(
        "CREATE INDEX sessions_open_model ON sessions(model_version) WHERE closed_at IS NULL"
    )


async def _v5_group_votes(conn: aiosqlite.Connection) -> None:
    """Group rounds: "closest" picks from polls, the poll's message, the search's starter, and
    members' requests for a new search."""
    # One pick per person per face, like votes; a poll answer replaces the person's picks of
    # that round (an empty answer retracts them). Picks are their own table, not votes with a
    # marker: votes hold one rating per person per face, and a person may both rate a face by
    # reply and pick it in the poll.
    await conn.execute(
        """CREATE TABLE picks (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            face_id INTEGER NOT NULL REFERENCES faces(id) ON DELETE CASCADE,
            round_id INTEGER NOT NULL REFERENCES rounds(id) ON DELETE CASCADE,
            chat_id INTEGER NOT NULL REFERENCES chats(chat_id) ON DELETE CASCADE,
            user_id INTEGER NOT NULL REFERENCES users(user_id) ON DELETE CASCADE,
            created_at REAL NOT NULL,
            UNIQUE (face_id, user_id)
        )"""
    )
    await conn.execute("CREATE INDEX picks_round ON picks(round_id, user_id)")
    await conn.execute("ALTER TABLE rounds ADD COLUMN poll_message_id INTEGER")
    await conn.execute("ALTER TABLE sessions ADD COLUMN started_by INTEGER")
    await conn.execute(
        """CREATE TABLE restart_requests (
            session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
            chat_id INTEGER NOT NULL REFERENCES chats(chat_id) ON DELETE CASCADE,
            user_id INTEGER NOT NULL,
            created_at REAL NOT NULL,
            PRIMARY KEY (session_id, user_id)
        )"""
    )


Migration = Callable[[aiosqlite.Connection], Awaitable[None]]

# Step i (1-based) takes a database from user_version i-1 to i.
MIGRATIONS: list[Migration] = [_v1_core, _v2_admin, _v3_scores, _v4_training, _v5_group_votes]
SCHEMA_VERSION = len(MIGRATIONS)


async def schema_version(conn: aiosqlite.Connection) -> int:
    """The number of migration steps applied to this database."""
    async with conn.execute("PRAGMA user_version") as cur:
        row = await cur.fetchone()
    return int(row[0]) if row else 0


async def migrate(conn: aiosqlite.Connection, target: int = SCHEMA_VERSION) -> int:
    """Apply the missing steps up to `target`, each in its own transaction; return the version."""
    current = await schema_version(conn)
    if current > SCHEMA_VERSION:
        raise SchemaTooNew(
            f"database schema is version {current}, this fotorobot knows up to {SCHEMA_VERSION}; "
            "upgrade fotorobot"
        )
    for version in range(current + 1, target + 1):
        await conn.execute("BEGIN IMMEDIATE")
        try:
            # Another process may have applied this step while we waited for the write lock.
            current = await schema_version(conn)
            if current < version:
                await MIGRATIONS[version - 1](conn)
                # PRAGMA takes no parameters; `version` is an int from range(), never user input.
                await conn.execute(f"PRAGMA user_version = {int(version)}")
                current = version
            await conn.execute("COMMIT")
        except BaseException:
            await conn.execute("ROLLBACK")
            raise
    return max(current, target)
