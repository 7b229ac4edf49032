"""The archive's access log never shows a ``?token=``: not the real one, not a wrong guess."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

TOKEN = "archive-Token-0123456789abcdef"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kw: object) -> None:
        return None


def get(url: str) -> int:
    """The status of the first answer (the token link answers with a cookie and a redirect)."""
    try:
        with urllib.request.build_opener(_NoRedirect).open(url, timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_serve_masks_tokens_in_its_access_log(archive_db: str, tmp_path) -> None:
    port = free_port()
    env = {**os.environ, "ARCHIVE_TOKEN": TOKEN}
    server = subprocess.Popen(
        [sys.executable, "-m", "bot", "serve", "--port", str(port), "--db", archive_db],
        stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, env=env, cwd=tmp_path,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):  # until it listens (bounded: about 10 s)
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        assert get(f"{base}/runs/1?token={TOKEN}") == 303
        assert get(f"{base}/runs/1?lang=en&token=a-wrong-guess-42") == 401
    finally:
        server.send_signal(signal.SIGINT)
        _, err = server.communicate(timeout=20)
    assert "GET /runs/1?token=[redacted]" in err, err
    assert "GET /runs/1?lang=en&token=[redacted]" in err
    assert TOKEN not in err and "a-wrong-guess-42" not in err
