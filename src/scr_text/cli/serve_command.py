"""The web app's command."""
from __future__ import annotations

from typing import Optional

import typer

from scr_text.cli.base import command, ctx
from scr_text.errors import UserError


@command()
def serve(
    host: Optional[str] = typer.Option(None, "--host", help="Address to listen on (default from the config: 127.0.0.1)."),
    port: Optional[int] = typer.Option(None, "--port", help="Port (default from the config: 8765)."),
    token: Optional[str] = typer.Option(None, "--token", envvar="SCR_TEXT_TOKEN",
                                        help="Required on non-loopback addresses; pass ?token=... once in the browser."),
) -> None:
    """The analyst web app over the project store."""
    import socket

    import uvicorn

    from scr_text.app import create_app

    cfg = ctx().settings.app
    host = host or cfg.host
    port = port or int(cfg.port)
    try:  # before announcing the address: uvicorn would print it, then fail with a log line and exit 1
        socket.create_server((host, port)).close()
    except OSError as exc:
        reason = (exc.strerror or str(exc)).split(" (while attempting")[0]  # the address is said already
        raise UserError(f"cannot listen on {host}:{port} ({reason}); choose another --host or --port") from exc
    application = create_app(ctx().store_path, ctx().settings, host, token)
    typer.echo(f"scr-text web app on http://{host}:{port}/" + (f"?token={token}" if token else ""))
    uvicorn.run(application, host=host, port=port, log_level="warning")
