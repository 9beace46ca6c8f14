"""The HTTP service: ``serve`` and ``keys`` (service modules are imported inside the commands, so the scoring
commands never load the web stack)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.table import Table

from nlp.cli.common import _print_table, app, console


# -- the HTTP service: `journeylens serve` and `journeylens keys` (service modules are imported inside the commands,
# so the scoring commands never load the web stack) ----------------------------------------------------------------
def _service_settings(settings_file: Path | None, **overrides):

    from service.config import load_service_settings

    try:
        return load_service_settings(settings_file, **overrides)
    except (ValueError, ValidationError) as error:
        raise typer.BadParameter(str(error)) from error


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on (default 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default 8000).")] = None,
    workers: Annotated[int | None, typer.Option(min=1, help="Inference worker processes (default 1).")] = None,
    db: Annotated[Path | None, typer.Option(help="DuckDB file to store into (default journeylens.duckdb).")] = None,
    settings_file: Annotated[Path | None, typer.Option(help="Service settings file (YAML, TOML or JSON).")] = None,
) -> None:
    """Run the HTTP API (docs/service.md). Settings also come from JOURNEYLENS_* variables."""
    from service.server import serve as run_server
    from service.storage import StorageError

    service_settings = _service_settings(settings_file, host=host, port=port, workers=workers, db=db)
    try:
        run_server(service_settings)
    except (StorageError, ValueError) as error:  # a locked database, an unusable pipeline configuration
        console.print(f"[red]error:[/red] {error}")
        raise typer.Exit(1) from error


keys_app = typer.Typer(help="API keys of the HTTP service (stored hashed next to the database).", no_args_is_help=True)
app.add_typer(keys_app, name="keys")

_KeysDb = Annotated[Path | None, typer.Option(help="The service's DuckDB file; keys live next to it.")]
_KeysFile = Annotated[Path | None, typer.Option(help="The key file (default: <db>.keys.json).")]
_KeysSettings = Annotated[Path | None, typer.Option("--settings-file", help="The service's settings file.")]


def _key_store(db: Path | None, keys_file: Path | None, settings: Path | None):
    from service.keys import KeyStore

    return KeyStore(_service_settings(settings, db=db, keys_file=keys_file).keys_file)


@keys_app.command("create")
def keys_create(
    name: Annotated[str, typer.Option(help="Who uses the key, e.g. platform.")],
    read_only: Annotated[bool, typer.Option("--read-only", help="May read and analyze, not store.")] = False,
    rate_limit: Annotated[float | None, typer.Option(min=0, help="Requests/s for this key (default: settings)")] = None,
    burst: Annotated[int | None, typer.Option(min=1, help="Burst size for this key (default: settings).")] = None,
    db: _KeysDb = None, keys_file: _KeysFile = None, settings: _KeysSettings = None,
) -> None:
    """Create an API key and print it once on stdout; only its SHA-256 digest is stored."""
    store = _key_store(db, keys_file, settings)
    try:
        entry, secret = store.create(name, read_only=read_only, rate_limit_per_second=rate_limit,
                                     rate_limit_burst=burst)
    except ValueError as error:
        raise typer.BadParameter(str(error)) from error
    console.print(f"created key {entry.key_id} '{entry.name}'{' (read-only)' if read_only else ''} in {store.path}; "
                  "it is shown only this once:")
    typer.echo(secret)


@keys_app.command("list")
def keys_list(db: _KeysDb = None, keys_file: _KeysFile = None, settings: _KeysSettings = None) -> None:
    """List the API keys (never the secrets)."""
    store = _key_store(db, keys_file, settings)
    table = Table(title=f"API keys · {store.path}")
    for column in ("id", "name", "access", "rate limit", "created"):
        table.add_column(column)
    for key in store.entries():
        limit = f"{key.rate_limit_per_second:g}/s" if key.rate_limit_per_second is not None else "default"
        table.add_row(key.key_id, key.name, "read-only" if key.read_only else "read-write", limit, key.created_at)
    _print_table(table)


@keys_app.command("revoke")
def keys_revoke(
    key: Annotated[str, typer.Argument(help="Key id or name.")],
    db: _KeysDb = None, keys_file: _KeysFile = None, settings: _KeysSettings = None,
) -> None:
    """Revoke API keys by id or name; a running server stops accepting them within a second."""
    removed = _key_store(db, keys_file, settings).revoke(key)
    if not removed:
        raise typer.BadParameter(f"no key has the id or name {key!r}", param_hint="KEY")
    console.print(f"revoked {', '.join(f'{k.key_id} ({k.name})' for k in removed)}")
