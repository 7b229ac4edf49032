"""A private PostgreSQL server that a test can stop and start again on the same port and data:
a real database outage (clients see refused connections and dropped sessions)."""

from __future__ import annotations

from tests.pg_server import PostgresServer, _stop_cluster


class PausablePostgres(PostgresServer):
    def pause(self) -> None:
        """Fast shutdown: open sessions are terminated, new connections refused."""
        _stop_cluster(self.bin_dir, self.data_dir, self._as_root)
        self._reap_process(kill=False)

    def resume(self) -> None:
        """Start again on the same port with the same data; returns once it accepts clients."""
        self._spawn_and_wait()
