"""A node's home directory: where its key, database and sockets live."""

from __future__ import annotations

import errno
import fcntl
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal

import platformdirs
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from peernode.clock import now_ms
from peernode.errors import HomeInUse, IdentityExists, NodeError, NoIdentity
from peernode.text import local_day, local_time
from protocol.identity import SigningKey

HOME_ENV: Final = "PEERNODE_HOME"
KEY_FILE: Final = "identity.key"
DB_FILE: Final = "peernode.db"
LOCK_FILE: Final = "node.lock"
"""Held (flock) by the one networked node of a home; it names that node (LockHolder)."""
DB_COMPANIONS: Final = ("-wal", "-shm")
"""SQLite's files beside the database: they belong to it and move with it."""


@dataclass(frozen=True, slots=True)
class Home:
    """Paths of one node. Several homes on one machine are independent nodes."""

    path: Path

    @property
    def key_path(self) -> Path:
        return self.path / KEY_FILE

    @property
    def db_path(self) -> Path:
        return self.path / DB_FILE

    @property
    def runtime_path(self) -> Path:
        """Where a running node writes its address for the CLI to find."""
        return self.path / "node.json"

    @property
    def lock_path(self) -> Path:
        return self.path / LOCK_FILE

    def database_files(self, path: Path | None = None) -> list[Path]:
        """The database at `path` (default: this home's) and those of its companions present."""
        path = path or self.db_path
        companions = [path.with_name(path.name + suffix) for suffix in DB_COMPANIONS]
        return [path, *(companion for companion in companions if companion.exists())]

    def replace_database(self, fresh: Path, stamp: str) -> Path:
        """Move the database aside to `peernode.db.damaged-<stamp>` (its -wal and -shm
        too, renamed alike, so SQLite still reads them together) and put the database
        at `fresh` in its place; returns where the old one went.

        The companions move first: a -wal left beside the new file would be replayed
        into it. `fresh` must have no -wal or -shm of its own (closed cleanly).
        """
        aside = self.db_path.with_name(f"{DB_FILE}.damaged-{stamp}")
        number = 1
        while any(aside.with_name(aside.name + s).exists() for s in ("", *DB_COMPANIONS)):
            number += 1
            aside = self.db_path.with_name(f"{DB_FILE}.damaged-{stamp}-{number}")
        try:
            for suffix in (*DB_COMPANIONS, ""):
                current = self.db_path.with_name(DB_FILE + suffix)
                if current.exists():
                    os.replace(current, aside.with_name(aside.name + suffix))
            os.replace(fresh, self.db_path)
            _fsync_directory(self.path)
        except OSError as exc:
            raise NodeError(
                f"cannot move the database aside in {self.path}: {exc.strerror}"
            ) from exc
        return aside

    def ensure(self) -> Home:
        try:
            self.path.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError as exc:
            raise NodeError(f"cannot create home {self.path}: {exc.strerror}") from exc
        return self

    def has_identity(self) -> bool:
        return self.key_path.exists()

    def load_key(self) -> SigningKey:
        try:
            data = self.key_path.read_bytes()
        except FileNotFoundError:
            raise NoIdentity(
                f"no identity in {self.path}; run 'peernode init --name NAME' first"
            ) from None
        except OSError as exc:
            raise NodeError(f"cannot read {self.key_path}: {exc.strerror}") from exc
        try:
            private = serialization.load_pem_private_key(data, password=None)
        except (ValueError, TypeError) as exc:
            raise NodeError(
                f"{self.key_path} is not a valid identity key; {self.restore_hint}"
            ) from exc
        if not isinstance(private, Ed25519PrivateKey):
            raise NodeError(f"{self.key_path} is not an Ed25519 key; {self.restore_hint}")
        return SigningKey(private)

    @property
    def restore_hint(self) -> str:
        """The next step when the key is lost or damaged: restore it, or start afresh."""
        return (
            f"copy your key file back to {self.key_path} from a backup, or start a new"
            " identity with 'peernode init --new --name NAME' (the old notes stay)"
        )

    def retire_key(self, stamp: str) -> Path | None:
        """Move the key file aside (kept, never deleted) so a new one can be made; its
        new path, or None when there was no key file."""
        aside = self.path / f"{KEY_FILE}.{stamp}.old"
        try:
            os.rename(self.key_path, aside)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise NodeError(f"cannot move {self.key_path} aside: {exc.strerror}") from exc
        _fsync_directory(self.path)
        return aside

    def create_key(self) -> SigningKey:
        """Create and store a new key with mode 0600; never overwrites one."""
        self.ensure()
        key = SigningKey.generate()
        data = key_pem(key)
        # Write aside, then link into place: the key appears whole or not at all,
        # and link() fails rather than replace a key that already exists.
        temp = self.path / f".{KEY_FILE}.{os.getpid()}.tmp"
        try:
            fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            try:
                if os.write(fd, data) != len(data):
                    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
                os.fsync(fd)
            finally:
                os.close(fd)
            os.link(temp, self.key_path)
            _fsync_directory(self.path)
        except FileExistsError:
            raise IdentityExists(f"{self.key_path} exists; refusing to overwrite a key") from None
        except OSError as exc:
            raise NodeError(
                f"cannot save a new identity key in {self.path}: {exc.strerror}"
            ) from exc
        finally:
            temp.unlink(missing_ok=True)
        return key


def _fsync_directory(path: Path) -> None:
    """Make renames and links in `path` survive a power cut (where directories open)."""
    if not hasattr(os, "O_DIRECTORY"):
        return
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def key_pem(key: SigningKey) -> bytes:
    private = Ed25519PrivateKey.from_private_bytes(key.seed())
    return private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def resolve_home(option: str | os.PathLike[str] | None = None) -> Home:
    """--home, else $PEERNODE_HOME, else the platform's user data directory."""
    if option:
        return Home(Path(option).expanduser().absolute())
    env = os.environ.get(HOME_ENV)
    if env:
        return Home(Path(env).expanduser().absolute())
    return Home(Path(platformdirs.user_data_dir("peernode", appauthor=False)))


NodeRole = Literal["serve", "room"]
"""What runs a networked node: `peernode serve`, or the study room (the TUI)."""
ROLE_WORDS: Final[dict[str, str]] = {"serve": "'peernode serve'", "room": "the study room"}


@dataclass(frozen=True, slots=True)
class LockHolder:
    """The process holding a home's lock, as it wrote itself down in the lock file.
    role is "" and since None when it did not say (an older peernode)."""

    pid: int | None
    role: str = ""
    since: int | None = None

    @classmethod
    def parse(cls, text: str) -> LockHolder:
        try:
            data = json.loads(text)
        except ValueError:
            return cls(None)
        if isinstance(data, int):  # an older peernode wrote its pid alone
            return cls(data)
        if not isinstance(data, dict):
            return cls(None)
        pid, role, since = data.get("pid"), data.get("role"), data.get("since")
        return cls(
            pid if isinstance(pid, int) else None,
            role if role in ROLE_WORDS else "",
            since if isinstance(since, int) else None,
        )

    def what(self) -> str:
        """ "'peernode serve'", "the study room" or "another peernode"."""
        return ROLE_WORDS.get(self.role, "another peernode")

    def details(self, port: int | None = None) -> str:
        """'pid 4242, since 07:12, port 7420' (what is known of it; the day too when
        it started before today)."""
        parts = [f"pid {self.pid}"] if self.pid is not None else []
        if self.since is not None:
            when = local_time(self.since)
            if local_day(self.since) == local_day(now_ms()):
                when = when.removeprefix(local_day(self.since)).strip()  # today: the time
            parts.append(f"since {when}")
        if port is not None:
            parts.append(f"port {port}")
        return ", ".join(parts)


class HomeLock:
    """One networked node per home: an exclusive flock on `node.lock`, held while
    the node listens. Offline commands never take it (they write to the database
    and the running node notices). The kernel drops it when the process dies."""

    def __init__(self, home: Home, *, role: NodeRole | None = None) -> None:
        self._home = home
        self._role = role
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> None:
        """Take the lock, or raise HomeInUse naming the process that holds it."""
        if self._fd is not None:
            return
        fd = self._open()
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_holder(fd)
            os.close(fd)
            raise HomeInUse(in_use_message(self._home, holder)) from None
        except OSError as exc:
            os.close(fd)
            raise NodeError(f"cannot lock {self._home.lock_path}: {exc.strerror}") from exc
        me = {"pid": os.getpid(), "role": self._role or "", "since": now_ms()}
        os.ftruncate(fd, 0)
        os.pwrite(fd, (json.dumps(me) + "\n").encode(), 0)
        self._fd = fd

    def release(self) -> None:
        # The file stays: unlinking a lock file lets two processes lock different files.
        if self._fd is not None:
            fd, self._fd = self._fd, None
            os.close(fd)

    def check(self) -> None:
        """Raise HomeInUse if another node holds this home now (without keeping it)."""
        self.acquire()
        self.release()

    def holder(self) -> LockHolder | None:
        """Who holds this home's lock now, or None when it is free (not taken here)."""
        if self._fd is not None:
            return None
        fd = self._open()
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return _read_holder(fd)
        except OSError as exc:
            raise NodeError(f"cannot lock {self._home.lock_path}: {exc.strerror}") from exc
        finally:
            os.close(fd)  # closing drops the lock if it was taken just to look
        return None

    def _open(self) -> int:
        self._home.ensure()
        try:
            return os.open(self._home.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise NodeError(f"cannot open {self._home.lock_path}: {exc.strerror}") from exc


def _read_holder(fd: int) -> LockHolder:
    try:
        return LockHolder.parse(os.pread(fd, 256, 0).decode().strip())
    except (OSError, UnicodeDecodeError):
        return LockHolder(None)


def in_use_message(home: Home, holder: LockHolder) -> str:
    """One sentence: who holds the home, and the choices."""
    port = runtime_port(home, holder.pid) if holder.pid is not None else None
    details = holder.details(port)
    named = f"{holder.what()} ({details})" if details else holder.what()
    if holder.role == "room":
        choices = "switch to the terminal where it is open, or quit it first"
    else:
        choices = "stop it first (Ctrl-C in its terminal)"
    return f"This home is already in use by {named}: {choices}, or use another --home."


def runtime_port(home: Home, pid: int) -> int | None:
    """The port node.json gives for `pid`, if it is that process's."""
    try:
        data = json.loads(home.runtime_path.read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("pid") != pid:
        return None
    port = data.get("port")
    return port if isinstance(port, int) else None
