"""A throwaway PostgreSQL server for tests, started from the local server binaries.

Why not a shared database or pytest-postgresql: the store tests must hit a real server, be
isolated from anything else on the machine and need no setup beyond the distro package.  Each
test session gets its own cluster in a temporary folder, on a free port on 127.0.0.1, with
durability switched off (fsync, synchronous_commit, full_page_writes) because the data is thrown
away anyway.

initdb/postgres refuse to run as root, so as root the server programs run as the ``postgres``
user via ``runuser``; as any other user they run directly.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType

from sqlalchemy.engine import URL

__all__ = [
    "DEFAULT_DATABASE",
    "PostgresNotFoundError",
    "PostgresServer",
    "PostgresStartError",
    "find_pg_bin",
]

DEFAULT_DATABASE = "chathost"
SUPERUSER = "postgres"
# Programs the server needs; psql and pg_isready ship with the server package on Debian.
REQUIRED_PROGRAMS = ("initdb", "pg_ctl", "postgres", "psql", "pg_isready")
INSTALL_HINT = (
    "install the PostgreSQL server binaries, e.g. `apt-get install postgresql-15` "
    "(Debian 12) or `apt-get install postgresql`, or point PG_BIN at a folder that holds "
    + ", ".join(REQUIRED_PROGRAMS)
)
# Folder names start with this, so leftovers of killed sessions can be found and reaped.
DIR_PREFIX = "pgtest-"
OWNER_FILE = "owner.pid"
SHM_DIR = Path("/dev/shm")
SHM_MIN_FREE = 512 * 1024 * 1024
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")


class PostgresNotFoundError(RuntimeError):
    """The server binaries are not installed; the message says what to install."""


class PostgresStartError(RuntimeError):
    """initdb or the server failed; the message carries the tail of the server log."""


def _has_programs(folder: Path) -> bool:
    return all((folder / name).is_file() for name in REQUIRED_PROGRAMS)


def _version_key(folder: Path) -> tuple[int, ...]:
    """Sort /usr/lib/postgresql/<version>/bin numerically, so 16 beats 9.6."""
    parts = re.findall(r"\d+", folder.parent.name)
    return tuple(int(p) for p in parts) if parts else (-1,)


def find_pg_bin(env: dict[str, str] | None = None) -> Path:
    """Find the folder with initdb/pg_ctl/postgres.

    Order: $PG_BIN (must be right if set, so a typo is not silently ignored), then the newest
    /usr/lib/postgresql/*/bin, then `pg_config --bindir`.
    """
    environ = os.environ if env is None else env
    explicit = environ.get("PG_BIN")
    if explicit:
        folder = Path(explicit)
        if _has_programs(folder):
            return folder
        missing = [n for n in REQUIRED_PROGRAMS if not (folder / n).is_file()]
        raise PostgresNotFoundError(
            f"PG_BIN={explicit} lacks {', '.join(missing)}; {INSTALL_HINT}"
        )

    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=_version_key, reverse=True)
    for folder in candidates:
        if _has_programs(folder):
            return folder

    pg_config = shutil.which("pg_config")
    if pg_config:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            out = subprocess.run(
                [pg_config, "--bindir"], capture_output=True, text=True, timeout=10, check=True
            ).stdout.strip()
            if out and _has_programs(Path(out)):
                return Path(out)

    raise PostgresNotFoundError(f"PostgreSQL server binaries not found; {INSTALL_HINT}")


def _free_port(host: str) -> int:
    """Ask the kernel for a free port (may race with other processes; start() retries)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _pid_alive(pid: int) -> bool:
    """True if the process exists and is not a zombie (a killed, not yet reaped pytest)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[-1].split()[:1] != ["Z"]


def _quote_ident(name: str) -> str:
    if not _IDENTIFIER.match(name):
        raise ValueError(f"unsafe database name {name!r}: use letters, digits and _ (max 63)")
    return '"' + name + '"'


def _roomy_tmpfs(folder: Path) -> bool:
    """Writable and at least SHM_MIN_FREE free (Docker's default /dev/shm has only 64 MB)."""
    try:
        stats = os.statvfs(folder)
    except OSError:
        return False
    return os.access(folder, os.W_OK | os.X_OK) and stats.f_bavail * stats.f_frsize >= SHM_MIN_FREE


def _others_can_enter(folder: Path) -> bool:
    """True if every ancestor is o+x, i.e. the postgres user can reach a folder inside it."""
    for part in [folder, *folder.parents]:
        try:
            if not part.stat().st_mode & 0o001:
                return False
        except OSError:
            return False
    return True


class PostgresServer:
    """A private PostgreSQL cluster: ``with PostgresServer() as pg: pg.url()``.

    Attributes after start(): ``host``, ``port``, ``dsn`` (libpq URL of the default database),
    ``base_dir`` (temp folder), ``bin_dir``, ``major_version``.
    """

    def __init__(
        self,
        bin_dir: str | os.PathLike[str] | None = None,
        *,
        host: str = "127.0.0.1",
        database: str = DEFAULT_DATABASE,
        base_dir: str | os.PathLike[str] | None = None,
        start_timeout: float = 30.0,
        extra_settings: dict[str, str] | None = None,
    ) -> None:
        self.bin_dir = Path(bin_dir) if bin_dir is not None else find_pg_bin()
        if not _has_programs(self.bin_dir):
            raise PostgresNotFoundError(f"{self.bin_dir} lacks the server programs; {INSTALL_HINT}")
        self.host = host
        self.port = 0
        self.database = database
        self.start_timeout = start_timeout
        self.extra_settings = dict(extra_settings or {})
        self._parent_dir = Path(base_dir) if base_dir is not None else None
        self.base_dir: Path | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self.major_version = self._read_major_version()
        self._as_root = os.geteuid() == 0

    # -- context manager -------------------------------------------------------------------

    def __enter__(self) -> PostgresServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- public API ------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self.base_dir is not None and self.port != 0

    @property
    def data_dir(self) -> Path:
        return self._require_dir() / "data"

    @property
    def socket_dir(self) -> Path:
        return self._require_dir()

    @property
    def log_file(self) -> Path:
        return self._require_dir() / "postgres.log"

    @property
    def dsn(self) -> str:
        """libpq/asyncpg URL of the default database (``asyncpg.connect(dsn)``, ``psql dsn``)."""
        return f"postgresql://{SUPERUSER}@{self.host}:{self.port}/{self.database}"

    def url(self, driver: str = "postgresql+asyncpg", database: str | None = None) -> URL:
        """SQLAlchemy URL for ``database`` (default: the ``chathost`` database)."""
        return URL.create(
            drivername=driver,
            username=SUPERUSER,
            host=self.host,
            port=self.port,
            database=database or self.database,
        )

    def start(self) -> PostgresServer:
        """initdb + start + wait until ready + create the default database (~0.5 s on tmpfs)."""
        if self.running:
            return self
        parent = self._choose_parent_dir()
        _reap_stale_servers(parent, self.bin_dir)
        self.base_dir = Path(tempfile.mkdtemp(prefix=DIR_PREFIX, dir=parent))
        try:
            (self.base_dir / OWNER_FILE).write_text(str(os.getpid()))
            self.base_dir.chmod(0o700)
            if self._as_root:
                shutil.chown(self.base_dir, user=SUPERUSER, group=None)
                shutil.chown(self.base_dir / OWNER_FILE, user=SUPERUSER, group=None)
            self._initdb()
            self._start_on_free_port()
            atexit.register(self.stop)  # interrupted sessions still stop the server
            self.create_database(self.database)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Fast shutdown (disconnects clients), then delete the folder. Safe to call twice."""
        base = self.base_dir
        if base is None:
            return
        try:
            if (base / "data" / "postmaster.pid").exists():
                _stop_cluster(self.bin_dir, base / "data", self._as_root)
            self._reap_process(kill=False)
        finally:
            atexit.unregister(self.stop)
            shutil.rmtree(base, ignore_errors=True)
            self.base_dir = None
            self.port = 0

    def create_database(self, name: str, template: str = "template0") -> URL:
        """Create an empty database (copy of template0, ~20 ms on tmpfs) and return its URL.

        Pass ``template=`` another database to clone a prepared schema; the template must
        have no open connections.  On 15+ FILE_COPY is used: with fsync off it is ~3x faster
        than the default WAL_LOG strategy, which writes the whole template into the WAL.
        """
        strategy = " STRATEGY FILE_COPY" if self.major_version >= 15 else ""
        self.execute(
            f"CREATE DATABASE {_quote_ident(name)} TEMPLATE {_quote_ident(template)}{strategy}"
        )
        return self.url(database=name)

    def drop_database(self, name: str) -> None:
        """Drop a database, kicking out connections an undisposed engine may still hold."""
        self.execute(f"DROP DATABASE IF EXISTS {_quote_ident(name)} WITH (FORCE)")

    def list_databases(self) -> list[str]:
        out = self.execute("SELECT datname FROM pg_database ORDER BY datname")
        return [line for line in out.splitlines() if line]

    def execute(self, sql: str, database: str = "postgres") -> str:
        """Run SQL through psql as the superuser (sync, so usable from any fixture)."""
        result = subprocess.run(
            [
                str(self.bin_dir / "psql"),
                "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1",
                "-h", self.host, "-p", str(self.port), "-U", SUPERUSER, "-d", database,
                "-c", sql,
            ],
            capture_output=True,
            text=True,
            env=self._client_env(),
            timeout=60,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"psql failed ({result.returncode}) for {sql!r}: {result.stderr}")
        return result.stdout

    # -- internals -------------------------------------------------------------------------

    def _require_dir(self) -> Path:
        if self.base_dir is None:
            raise RuntimeError("PostgresServer is not started")
        return self.base_dir

    def _choose_parent_dir(self) -> Path:
        """base_dir, else $PG_TEST_TMPDIR, else /dev/shm if roomy, else the temp folder.

        tmpfs matters: on a VM disk even with fsync=off, start takes ~1.5 s instead of
        ~0.5 s and CREATE DATABASE ~200 ms instead of ~20 ms.
        """
        if self._parent_dir is not None:
            return self._parent_dir
        if os.environ.get("PG_TEST_TMPDIR"):
            return Path(os.environ["PG_TEST_TMPDIR"])
        if _roomy_tmpfs(SHM_DIR) and (not self._as_root or _others_can_enter(SHM_DIR)):
            return SHM_DIR
        parent = Path(tempfile.gettempdir())
        # As root the postgres user must be able to walk into the folder; $TMPDIR may not allow.
        if self._as_root and not _others_can_enter(parent):
            parent = Path("/tmp")
        return parent

    def _read_major_version(self) -> int:
        out = subprocess.run(
            [str(self.bin_dir / "postgres"), "--version"],
            capture_output=True, text=True, timeout=10, check=True,
        ).stdout
        match = re.search(r"(\d+)(?:\.\d+)?", out)
        if not match:
            raise PostgresNotFoundError(f"cannot parse `postgres --version` output {out!r}")
        return int(match.group(1))

    def _client_env(self) -> dict[str, str]:
        """Environment without the caller's PG* variables, which would override our server."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env["PGCONNECT_TIMEOUT"] = "5"
        return env

    def _run_as_owner(self, args: Sequence[str], timeout: float) -> None:
        result = subprocess.run(
            self._owner_cmd(args),
            capture_output=True,
            text=True,
            env=self._client_env(),
            cwd=self._require_dir(),  # root's cwd may be unreadable for postgres
            timeout=timeout,
            check=False,
        )
        if result.returncode != 0:
            raise PostgresStartError(
                f"{Path(args[0]).name} failed ({result.returncode}):\n"
                f"{result.stdout}{result.stderr}{self._log_tail()}"
            )

    def _initdb(self) -> None:
        self._run_as_owner(
            [
                str(self.bin_dir / "initdb"),
                "-D", str(self.data_dir),
                "-U", SUPERUSER,
                "--auth=trust",
                "--no-sync",
                "--encoding=UTF8",
                "--locale=C",  # no dependency on generated locales, and fast
                "--no-instructions",
            ],
            timeout=120,
        )
        settings = {
            "listen_addresses": f"'{self.host}'",
            "unix_socket_directories": f"'{self.socket_dir}'",
            "max_connections": "100",
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
            "shared_buffers": "'32MB'",
            "log_checkpoints": "off",  # FILE_COPY checkpoints would flood the log
            "timezone": "'UTC'",
            **self.extra_settings,
        }
        conf = "".join(f"{key} = {value}\n" for key, value in settings.items())
        with (self.data_dir / "postgresql.conf").open("a") as handle:
            handle.write("\n# added by tests/pg_server.py\n" + conf)

    def _owner_cmd(self, args: Sequence[str]) -> list[str]:
        return [*(["runuser", "-u", SUPERUSER, "--"] if self._as_root else []), *args]

    def _start_on_free_port(self) -> None:
        """Start postgres; a port taken between probe and bind gets another try."""
        for attempt in range(3):
            self.port = _free_port(self.host)
            try:
                self._spawn_and_wait()
                return
            except PostgresStartError as exc:
                if attempt == 2 or "could not bind" not in str(exc):
                    raise

    def _spawn_and_wait(self) -> None:
        """Run postgres as our child (not daemonized by pg_ctl) so it is always reaped.

        A daemonized postmaster is re-parented to PID 1, which in containers often does not
        reap it, leaving a <defunct> postgres after stop.
        """
        with self.log_file.open("ab") as log:
            self._process = subprocess.Popen(
                self._owner_cmd(
                    [str(self.bin_dir / "postgres"), "-D", str(self.data_dir), "-p", str(self.port)]
                ),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=self._client_env(),
                cwd=self._require_dir(),
                start_new_session=True,  # Ctrl-C in the terminal must not hit the server first
            )
        try:
            self._wait_until_ready()
        except BaseException:
            self._reap_process(kill=True)
            raise

    def _wait_until_ready(self) -> None:
        """Poll pg_isready until the server accepts TCP connections, up to start_timeout."""
        deadline = time.monotonic() + self.start_timeout
        cmd = [str(self.bin_dir / "pg_isready"), "-q", "-h", self.host, "-p", str(self.port),
               "-U", SUPERUSER, "-d", "postgres", "-t", "2"]
        while True:
            code = subprocess.run(cmd, env=self._client_env(), timeout=10, check=False).returncode
            if code == 0:
                return
            process = self._process
            if process is not None and process.poll() is not None:
                raise PostgresStartError(
                    f"postgres exited with {process.returncode} during start-up{self._log_tail()}"
                )
            if time.monotonic() > deadline:
                raise PostgresStartError(
                    f"server on {self.host}:{self.port} not ready after "
                    f"{self.start_timeout:.0f} s (pg_isready={code}){self._log_tail()}"
                )
            time.sleep(0.02)

    def _reap_process(self, kill: bool) -> None:
        """Wait for our postgres child; SIGQUIT it (immediate stop) if kill or if it hangs."""
        process, self._process = self._process, None
        if process is None:
            return
        if not kill:
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=15)
                return
        if process.poll() is None:
            pid = _postmaster_pid(self.data_dir)
            with contextlib.suppress(OSError):
                if pid is not None and _is_our_postmaster(pid, self.data_dir):
                    os.kill(pid, signal.SIGQUIT)
                else:
                    process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)

    def _log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log_file.read_text(errors="replace")
        except (OSError, RuntimeError):
            return ""
        tail = "\n".join(text.splitlines()[-lines:])
        return f"\n--- postgres log (last {lines} lines) ---\n{tail}" if tail else ""


def _stop_cluster(bin_dir: Path, data_dir: Path, as_root: bool) -> None:
    """pg_ctl stop -m fast; if that fails or hangs, SIGQUIT the postmaster (immediate stop)."""
    cmd = [str(bin_dir / "pg_ctl"), "-D", str(data_dir), "-m", "fast", "-w", "-t", "20", "stop"]
    if as_root:
        cmd = ["runuser", "-u", SUPERUSER, "--", *cmd]
    try:
        subprocess.run(cmd, capture_output=True, timeout=30, check=True, cwd=data_dir.parent)
        return
    except (OSError, subprocess.SubprocessError):
        pass
    pid = _postmaster_pid(data_dir)
    if pid is not None and _is_our_postmaster(pid, data_dir):
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGQUIT)
        deadline = time.monotonic() + 10
        while _pid_alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        if _pid_alive(pid):
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)


def _postmaster_pid(data_dir: Path) -> int | None:
    try:
        first = (data_dir / "postmaster.pid").read_text().split("\n", 1)[0]
        return int(first)
    except (OSError, ValueError):
        return None


def _is_our_postmaster(pid: int, data_dir: Path) -> bool:
    """Guard against signalling a recycled pid: the process must run on this data folder."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return str(data_dir).encode() in cmdline


def _reap_stale_servers(parent: Path, bin_dir: Path) -> None:
    """Stop and delete clusters left by test sessions that were killed (SIGKILL, OOM)."""
    as_root = os.geteuid() == 0
    for folder in parent.glob(f"{DIR_PREFIX}*"):
        try:
            owner = int((folder / OWNER_FILE).read_text().strip())
        except (OSError, ValueError):
            continue
        if _pid_alive(owner):
            continue
        data_dir = folder / "data"
        if (data_dir / "postmaster.pid").exists():
            _stop_cluster(bin_dir, data_dir, as_root)
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":  # manual check: python tests/pg_server.py
    started = time.perf_counter()
    with PostgresServer() as server:
        print(f"PostgreSQL {server.major_version} up in {time.perf_counter() - started:.2f} s")
        print(server.dsn)
        print(server.url().render_as_string(hide_password=False))
