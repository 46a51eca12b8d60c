"""`--state-file`: the fake's credentials survive a restart.

File format: JSON, `{"format": "planasonix-mock-state", "version": 1, ...}`
with every credential's metadata and public config. Secrets never reach the
disk in plain text:

- with a state key (`--state-key` or `PLANASONIX_STATE_KEY`), each
  credential's secrets are encrypted with Fernet (AES-128-CBC + HMAC-SHA256)
  under a key derived from the passphrase with scrypt and a random per-file
  salt; a wrong key is refused at start;
- without one, only *which* secret fields were set is kept. After a restart
  those fields hold the placeholder `[not persisted]` (so the credential stays
  valid and listable).

API keys are never kept: the command line and the seed file alone say which
keys exist, their workspace and scopes, so a restart with other key flags
revokes, demotes or moves a key. (Files from older versions may hold an
encrypted `keys` list; it is ignored.)

Every save writes a temp file in the same folder, fsyncs it, `os.replace`s
it over the old one and fsyncs the folder, so a crash leaves either the old
or the new file, never a torn one (the next start deletes a temp file a
killed save left behind). The HTTP hook saves after every successful
write request *before* the response is sent: an acknowledged change is on
disk. A save that fails turns the response into a 500 (not acknowledged).
"""

from __future__ import annotations

import base64
import contextlib
import glob
import hashlib
import json
import logging
import os
import secrets
import tempfile
import threading
from pathlib import Path
from typing import Any, Final

from cryptography.fernet import Fernet, InvalidToken
from flask import Flask, Response, request

import contracts
from contracts.errors import PlanasonixError

from ..auth import valid_workspace
from ..clock import format_timestamp, parse_timestamp
from ..errors import ApiError, InternalError
from ..httpio import SAFE_METHODS, is_api_path, render_error
from ..seed import load_credential
from ..state import get_state
from ..store import CredentialStore

FORMAT: Final = "planasonix-mock-state"
VERSION: Final = 1
PLACEHOLDER: Final = "[not persisted]"
STATE_KEY_ENV: Final = "PLANASONIX_STATE_KEY"
_CHECK: Final = b"planasonix-mock-state-key-check"
_log = logging.getLogger(__name__)

SecretPath = list[str]


class StateFileError(PlanasonixError):
    """The state file cannot be used; the message says why, never a value from it."""


class SecretCipher:
    """Fernet under a key derived from a passphrase and a salt (scrypt)."""

    def __init__(self, passphrase: str, salt: bytes) -> None:
        if not passphrase:
            raise StateFileError("the state key must not be empty")
        raw = hashlib.scrypt(passphrase.encode("utf-8"), salt=salt, n=2**14, r=8, p=1, dklen=32)
        self.salt = salt
        self._fernet = Fernet(base64.urlsafe_b64encode(raw))

    def __repr__(self) -> str:
        return "SecretCipher(<key hidden>)"

    def encrypt(self, value: Any) -> str:
        plain = json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        return self._fernet.encrypt(plain).decode("ascii")

    def decrypt(self, token: object) -> Any:
        if not isinstance(token, str):
            raise StateFileError("an encrypted field is not a string")
        try:
            return json.loads(self._fernet.decrypt(token.encode("ascii")))
        except (InvalidToken, ValueError, RecursionError):
            raise StateFileError("cannot decrypt the state file: wrong state key?") from None

    def check_token(self) -> str:
        return self._fernet.encrypt(_CHECK).decode("ascii")

    def verify(self, token: object) -> None:
        if not isinstance(token, str):
            raise StateFileError("the state file's key check is missing")
        try:
            ok = self._fernet.decrypt(token.encode("ascii")) == _CHECK
        except (InvalidToken, ValueError):
            ok = False
        if not ok:
            raise StateFileError("the state key does not open this state file")


def _secret_fields(type_: str, secrets: dict[str, Any]) -> list[SecretPath]:
    """Which of the contract's secret fields of `type_` hold a value.

    The paths come from the schemas, never from the value: a secret may itself
    be an object (`service_account_json`), and its keys are part of the secret.
    """
    paths: list[SecretPath] = []
    for path in contracts.secret_paths(type_):
        node: Any = secrets
        for part in path:
            node = node.get(part) if isinstance(node, dict) else None
        if node is not None:
            paths.append(list(path))
    return paths


def _placeholders(paths: object) -> dict[str, Any]:
    if not isinstance(paths, list):
        raise StateFileError("secret_fields must be a list")
    tree: dict[str, Any] = {}
    for path in paths:
        if not isinstance(path, list) or not path or not all(isinstance(p, str) for p in path):
            raise StateFileError("secret_fields holds an invalid path")
        node = tree
        for part in path[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise StateFileError("secret_fields holds overlapping paths")
            node = child
        node[path[-1]] = PLACEHOLDER
    return tree


class StateFile:
    """One state file on disk, optionally encrypted with a user-supplied key."""

    def __init__(self, path: str | Path, state_key: str | None = None) -> None:
        self.path = Path(path)
        self._state_key = state_key or None
        self._cipher: SecretCipher | None = None
        self._lock = threading.Lock()
        self.saves = 0

    def __repr__(self) -> str:
        return f"StateFile({str(self.path)!r}, encrypted={self.encrypted})"

    @property
    def encrypted(self) -> bool:
        return self._state_key is not None

    def _cipher_for(self, salt: bytes) -> SecretCipher | None:
        if self._state_key is None:
            return None
        if self._cipher is None or self._cipher.salt != salt:
            self._cipher = SecretCipher(self._state_key, salt)
        return self._cipher

    # --- load --------------------------------------------------------------------

    def exists(self) -> bool:
        return self.path.exists()

    def load_into(self, store: CredentialStore) -> bool:
        """Replace `store`'s credentials with the file's (keys are not kept).

        False (and no change) when the file does not exist yet.
        """
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return False
        except OSError as error:
            raise StateFileError(f"cannot read the state file: {type(error).__name__}") from None
        try:
            doc = json.loads(text)
        except (ValueError, RecursionError):
            raise StateFileError(
                "the state file is not valid JSON (or nested too deeply)"
            ) from None
        if not isinstance(doc, dict) or doc.get("format") != FORMAT:
            raise StateFileError("this is not a planasonix-mock state file")
        if doc.get("version") != VERSION:
            raise StateFileError(f"unsupported state file version (expected {VERSION})")
        cipher = self._open(doc.get("encryption"))
        credentials = doc.get("credentials")
        if not isinstance(credentials, list):
            raise StateFileError("credentials: must be a list")
        # Checked by the same profile as the store: whether a deleted credential
        # keeps its name decides whether two entries clash.
        scratch = CredentialStore(clock=store.clock, policy=store.policy)
        for index, entry in enumerate(credentials):
            self._load_credential(scratch, entry, cipher, f"credentials[{index}]")
        # An older file's `keys` are ignored on purpose: keys come from the
        # command line and the seed, which must be able to revoke one.
        # Everything parsed: now replace, so a bad file changes nothing.
        store.reset()
        for credential, box in scratch.iter_all():
            load_credential(
                store,
                credential.workspace,
                name=credential.name,
                type=credential.type,
                config=contracts.merge_config(credential.config, box.reveal()),
                status=credential.status,
                id=credential.id,
                created_at=credential.created_at,
                updated_at=credential.updated_at,
                deleted_at=credential.deleted_at,
                created_by=credential.created_by,
            )
        return True

    def _open(self, encryption: object) -> SecretCipher | None:
        if encryption is None:
            if self._state_key is not None:
                # Written without a key: there is nothing to decrypt; the next save encrypts.
                self._cipher_for(secrets.token_bytes(16))
            return None
        if not isinstance(encryption, dict) or encryption.get("scheme") != "fernet-scrypt":
            raise StateFileError("the state file uses an unknown encryption scheme")
        if self._state_key is None:
            raise StateFileError(
                f"the state file is encrypted: pass --state-key or set {STATE_KEY_ENV}"
            )
        try:
            salt = base64.b64decode(str(encryption.get("salt", "")), validate=True)
        except ValueError:
            raise StateFileError("the state file's salt is invalid") from None
        cipher = self._cipher_for(salt)
        assert cipher is not None
        cipher.verify(encryption.get("check"))
        return cipher

    def _load_credential(
        self, store: CredentialStore, entry: object, cipher: SecretCipher | None, where: str
    ) -> None:
        if not isinstance(entry, dict):
            raise StateFileError(f"{where}: must be an object")
        public = entry.get("config")
        if not isinstance(public, dict):
            raise StateFileError(f"{where}.config: must be an object")
        if cipher is not None and "secrets" in entry:
            hidden = cipher.decrypt(entry["secrets"])
            if not isinstance(hidden, dict):
                raise StateFileError(f"{where}.secrets: must decrypt to an object")
        else:
            hidden = _placeholders(entry.get("secret_fields", []))
        workspace = entry.get("workspace")
        if not isinstance(workspace, str) or not valid_workspace(workspace):
            raise StateFileError(f"{where}.workspace: must be a workspace id")
        times: dict[str, Any] = {}
        for name in ("created_at", "updated_at", "deleted_at"):
            value = entry.get(name)
            if value is not None:
                try:
                    times[name] = parse_timestamp(str(value))
                except ValueError:
                    raise StateFileError(f"{where}.{name}: must be a timestamp") from None
        try:
            load_credential(
                store,
                workspace,
                name=entry.get("name"),  # type: ignore[arg-type]  # validated by load_credential
                type=entry.get("type"),  # type: ignore[arg-type]
                config=contracts.merge_config(public, hidden),
                status=str(entry.get("status", "active")),
                id=entry.get("id"),
                created_by=entry.get("created_by"),
                **times,
            )
        except (ApiError, TypeError, AttributeError) as error:
            details = getattr(error, "details", ())
            text = "; ".join(f"{d.path}: {d.message}" for d in details) or "is invalid"
            raise StateFileError(f"{where}: {text}") from None

    def remove_stale_temps(self) -> int:
        """Delete temp files a killed save left beside the file; how many went.

        Called at start, before anything saves: one server owns a state file,
        so no temp file of a live save can be among them.
        """
        removed = 0
        folder = self.path.parent if str(self.path.parent) else Path(".")
        for leftover in folder.glob(f".{glob.escape(self.path.name)}.*.tmp"):
            with contextlib.suppress(OSError):
                leftover.unlink()
                removed += 1
        return removed

    # --- save --------------------------------------------------------------------

    def save(self, store: CredentialStore) -> None:
        """Write the whole state atomically. Snapshot and write under one lock, so
        a later save never overwrites a newer snapshot with an older one."""
        with self._lock:
            cipher = self._cipher_for(
                self._cipher.salt if self._cipher else secrets.token_bytes(16)
            )
            document = self._document(store, cipher)
            data = json.dumps(document, ensure_ascii=True, indent=1).encode("ascii") + b"\n"
            _atomic_write(self.path, data)
            self.saves += 1

    @staticmethod
    def _document(store: CredentialStore, cipher: SecretCipher | None) -> dict[str, Any]:
        credentials = []
        for credential, box in store.iter_all():
            entry: dict[str, Any] = {
                "id": credential.id,
                "workspace": credential.workspace,
                "name": credential.name,
                "type": credential.type,
                "status": credential.status,
                "created_at": format_timestamp(credential.created_at),
                "updated_at": format_timestamp(credential.updated_at),
                "deleted_at": (
                    format_timestamp(credential.deleted_at) if credential.deleted_at else None
                ),
                "created_by": credential.created_by,
                "config": credential.config,
                "secret_fields": _secret_fields(credential.type, box.reveal()),
            }
            if cipher is not None:
                entry["secrets"] = cipher.encrypt(box.reveal())
            credentials.append(entry)
        document: dict[str, Any] = {
            "format": FORMAT,
            "version": VERSION,
            "encryption": None,
            "credentials": credentials,
        }
        if cipher is not None:
            document["encryption"] = {
                "scheme": "fernet-scrypt",
                "salt": base64.b64encode(cipher.salt).decode("ascii"),
                "check": cipher.check_token(),
            }
        return document


def _atomic_write(path: Path, data: bytes) -> None:
    folder = path.parent if str(path.parent) else Path(".")
    fd, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp_name, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp_name)
        raise
    with contextlib.suppress(OSError):  # not every platform can fsync a folder
        dir_fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def install(app: Flask, state_file: StateFile) -> StateFile:
    """Load `state_file` into the app (or create it), then save after each write."""
    state = get_state(app)
    try:
        state_file.remove_stale_temps()
        if not state_file.load_into(state.store):
            state_file.save(state.store)
    except OSError as error:
        raise StateFileError(f"cannot write the state file: {type(error).__name__}") from None

    def persist(response: Response) -> Response:
        if request.method in SAFE_METHODS or response.status_code >= 400:
            return response
        if not (is_api_path(request.path) or request.path.startswith("/_mock/")):
            return response
        try:
            state_file.save(state.store)
        except OSError as error:
            _log.error("state file save failed: %s", type(error).__name__)
            return render_error(InternalError("The change could not be saved to the state file."))
        return response

    app.after_request(persist)
    return state_file
