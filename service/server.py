"""Run the service under uvicorn: one HTTP process, ``workers`` inference workers behind it.

Why not several uvicorn worker processes: DuckDB lets only one process open a database file for writing, and a
file open for writing cannot be opened by other processes even to read. With N uvicorn processes only one could
store or read transcripts, the API keys' rate limits would be counted N times over, and ingestion would have to
be forwarded between processes. The work that needs more than one core is the model, so ``--workers N`` starts
N inference processes that the single HTTP process feeds with micro-batches (see ``service.inference``); the
HTTP process keeps the one DuckDB writer, the keys and the limits. The event loop itself only parses, validates
and serializes JSON, which one core handles at several hundred requests per second.
"""

from __future__ import annotations

import uvicorn

from service.app import create_app
from service.config import Settings
from service.logs import setup_logging
from service.storage import check_writable


def serve(settings: Settings) -> None:
    """Serve until interrupted (Ctrl-C or SIGTERM finish the queued writes and record the run).

    Raises ``StorageError`` before anything starts when the database is held by another process."""
    check_writable(settings.db)
    setup_logging(settings.log_level)
    config = uvicorn.Config(
        create_app(settings), host=settings.host, port=settings.port, log_config=None, access_log=False,
        server_header=False, timeout_keep_alive=15, timeout_graceful_shutdown=int(settings.request_timeout_s) + 5,
    )
    uvicorn.Server(config).run()
