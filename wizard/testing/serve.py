"""A throw-away sandbox server for test runs: python -m wizard.testing.serve --ready-file F.

Sandbox mode over a fresh SQLite database with the demo data seeded, on 127.0.0.1 and a
free port (or --port); passphrases hashed with argon2's cheapest parameters. When it
listens it writes {"url": ..., "pid": ...} to --ready-file. It stops on SIGTERM or SIGINT,
or within a second of the process --watch-pid ending.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import tempfile
import threading
from pathlib import Path


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m wizard.testing.serve", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 (the default): a free port")
    parser.add_argument("--database", type=Path, help="SQLite file (default: a new temporary one)")
    parser.add_argument("--ready-file", type=Path, required=True)
    parser.add_argument("--watch-pid", type=int, help="stop when this process has ended")
    return parser.parse_args(argv)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def main(argv: list[str] | None = None) -> None:
    args = _parse(argv)
    # Imported here so that --help answers at once.
    from werkzeug.serving import make_server

    from wizard import create_app
    from wizard.cli import create_schema
    from wizard.services.sandbox import seed_demo
    from wizard.store.crypto import SeedCipher

    database = args.database or Path(tempfile.mkdtemp(prefix="wizard-sandbox-")) / "wizard.db"
    app = create_app(
        # A throw-away sandbox of published practice accounts: argon2's cheapest parameters
        # keep new accounts and sign-ins quick for test suites.
        {"ARGON2_CHEAP": True},
        environ={  # only these: the caller's own WIZARD_* settings never reach a test sandbox
            "WIZARD_SANDBOX": "1",
            "WIZARD_DATABASE_URL": f"sqlite:///{database}",
            "WIZARD_SECRET_KEY": secrets.token_hex(32),
            "WIZARD_SEED_KEY": SeedCipher.new_key_text(),
        },
    )
    with app.app_context():
        create_schema()
        seed_demo(app.config["CLOCK"]())
    server = make_server(args.host, args.port, app, threaded=True)
    stop = threading.Event()

    def shut_down(*_ignored) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, shut_down)
    signal.signal(signal.SIGINT, shut_down)
    serving = threading.Thread(target=server.serve_forever, name="sandbox", daemon=True)
    serving.start()
    url = f"http://{args.host}:{server.server_port}"
    partial = args.ready_file.with_suffix(".part")
    partial.write_text(json.dumps({"url": url, "pid": os.getpid()}))
    partial.replace(args.ready_file)  # appears whole, never half-written
    print(f"Sandbox serving on {url} (database {database})", flush=True)
    while not stop.wait(1.0):
        if args.watch_pid and not _alive(args.watch_pid):
            break
    server.shutdown()
    serving.join(timeout=10)
    server.server_close()


if __name__ == "__main__":
    main()
