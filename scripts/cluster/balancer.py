"""nginx from Debian as the load balancer: round robin over the app nodes, no sticky
sessions, the client's address forwarded; its files in a folder of its own."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from .processes import give_to, program, start, stop, wait_for_port

CONFIG = """\
# Written by scripts/cluster/balancer.py for one run of the local cluster.
{user}worker_processes 1;
daemon off;
pid {folder}/nginx.pid;
error_log {folder}/nginx-error.log warn;

events {{
    worker_connections 1024;
}}

http {{
    # The one access log of the cluster: each request with the node that answered it last
    # ($upstream_addr lists every node tried). The nodes keep no access log of their own.
    # A help-desk setup link's path holds a one-time token: kept out of this log, however the
    # path is written ($uri is nginx's decoded path, slashes merged), and no Referer logged.
    map $uri $setup_link {{
        "~*/helpdesk/+setup/" 1;
        default 0;
    }}
    map $setup_link $logged_request {{
        1 "$request_method /helpdesk/setup/[redacted] $server_protocol";
        default $request;
    }}
    log_format upstream '$remote_addr [$time_local] "$logged_request" $status $body_bytes_sent '
                        '$request_time upstream=$upstream_addr';
    access_log {folder}/nginx-access.log upstream;
    client_body_temp_path {folder}/temp/body;
    proxy_temp_path {folder}/temp/proxy;
    fastcgi_temp_path {folder}/temp/fastcgi;
    uwsgi_temp_path {folder}/temp/uwsgi;
    scgi_temp_path {folder}/temp/scgi;
    server_tokens off;

    upstream wizard {{
        # Round robin (nginx's default), no sticky sessions: the session lives in Redis.
        # A node that refuses a connection is left out for 5 s; its request goes to another.
{servers}
        keepalive 32;
    }}

    server {{
        listen 127.0.0.1:{port};
        client_max_body_size 1m;

        location / {{
            proxy_pass http://wizard;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $http_host;
            # The edge of this cluster: the address nginx sees is the client's, whatever
            # X-Forwarded-For the client sent.
            proxy_set_header X-Forwarded-For $remote_addr;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_connect_timeout 2s;
            proxy_read_timeout 60s;
            proxy_next_upstream error timeout;
        }}
    }}
}}
"""


class Balancer:
    def __init__(self, port: int, upstream_ports: list[int], folder: Path) -> None:
        self.port = port
        self.upstream_ports = upstream_ports
        self.folder = folder / "nginx"
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Balancer:
        temp = self.folder / "temp"
        temp.mkdir(parents=True, exist_ok=True)
        # As root, nginx's workers run as nobody and need its temporary folders.
        user = ""
        if os.geteuid() == 0:
            user = "user nobody nogroup;\n"
            give_to(temp, "nobody")
        servers = "\n".join(
            f"        server 127.0.0.1:{port} max_fails=1 fail_timeout=5s;"
            for port in self.upstream_ports
        )
        config = self.folder / "nginx.conf"
        config.write_text(
            CONFIG.format(user=user, folder=self.folder, port=self.port, servers=servers)
        )
        nginx = program("nginx")
        command = [
            nginx,
            "-p",
            str(self.folder),
            "-c",
            str(config),
            "-e",
            str(self.folder / "nginx-error.log"),
        ]
        self.process = start(command, self.folder / "nginx.log")
        wait_for_port(self.port, self.process, "nginx")
        return self

    @property
    def access_log(self) -> Path:
        return self.folder / "nginx-access.log"

    def served_by(self, port: int) -> int:
        """How many requests the node on this port answered, as this balancer logged them."""
        if not self.access_log.exists():
            return 0
        node = f"127.0.0.1:{port}".encode()
        with open(self.access_log, "rb") as log:
            return sum(
                1
                for line in log
                if line.rstrip().rpartition(b" upstream=")[2].split(b", ")[-1] == node
            )

    def stop(self) -> None:
        stop(self.process)
