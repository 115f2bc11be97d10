"""flask --app wizard sandbox vip-certs DIR | vip-service --port PORT --certs DIR."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app

from wizard.vipsandbox.certs import FILES, write_certificates


@click.command("vip-certs")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
def vip_certs(folder: Path) -> None:
    """Write a throwaway CA, a server certificate for 127.0.0.1 and localhost, and a client
    certificate, with their keys, into FOLDER."""
    written = write_certificates(folder)
    for name in FILES:
        click.echo(written[name])
    click.echo(
        "Point the wizard at a stand-in served with these: WIZARD_VIP_CERT="
        f"{written['client.pem']} WIZARD_VIP_KEY={written['client-key.pem']} "
        f"WIZARD_VIP_CA={written['ca.pem']}"
    )


@click.command("vip-service")
@click.option("--port", type=int, required=True, help="TCP port to listen on.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--certs",
    "folder",
    required=True,
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Folder written by vip-certs.",
)
@click.option(
    "--database",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The stand-in's own SQLite file [default: instance/vip-service.sqlite3].",
)
def vip_service(port: int, host: str, folder: Path, database: Path | None) -> None:
    """Serve a stand-in for Symantec VIP User Services over HTTPS with mutual TLS.

    Clients need a certificate signed by the folder's CA. Its users, bindings and practice
    seeds live in its own database, never in the wizard's.
    """
    from wizard.vipsandbox.server import make_standin_server

    missing = [name for name in FILES if not (folder / name).is_file()]
    if missing:
        raise click.ClickException(
            f"{folder} lacks {', '.join(missing)}: run flask --app wizard sandbox vip-certs "
            f"{folder}"
        )
    database = database or Path(current_app.instance_path) / "vip-service.sqlite3"
    server = make_standin_server(host, port, folder, database)
    click.echo(
        f"VIP stand-in on https://{host}:{server.server_port}/vipuserservices "
        f"(database {database}). Stop it with Ctrl+C."
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
