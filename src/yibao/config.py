"""Settings, read once from the environment (YIBAO_*) or a `.env` file."""

from __future__ import annotations

import base64
import os
import secrets
from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

KEY_HINT = (
    "32 random bytes in base64, e.g. from"
    " python3 -c 'import base64, secrets; print(base64.b64encode(secrets.token_bytes(32)).decode())'"
)


class MissingSecret(RuntimeError):
    """A production start without its keys: the CLI says so in one line, never a traceback."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="YIBAO_", env_file=".env", extra="ignore")

    # Production unless the operator asks otherwise: development mode hands SMS codes to /dev/sms
    # and makes its own keys, so a server started without configuration must not fall into it.
    environment: str = Field("production", description="production | development | test")
    var_dir: Path = Path("var")
    database_url: str = ""
    redis_url: str = ""
    # 32 bytes, base64. Empty: a key is made once under var/ and kept there (development only).
    data_key: str = ""
    secret_key: str = ""
    host: str = "127.0.0.1"
    port: int = 8000
    log_level: str = "info"
    # Pool size per server process. Connections past the pool are closed when returned, and a new
    # one starts without the prepared statements of the hot path: keep the pool at least as large
    # as the concurrent requests one process serves (32 connections over 2 workers: 16 each).
    db_pool_size: int = 20
    db_max_overflow: int = 10
    # Ping each pooled connection before use (three round trips on asyncpg); off: see db/engine.py.
    db_pre_ping: bool = False
    # Institutions, regions and the catalogue are cached per process this long (db/reference.py).
    reference_ttl_seconds: float = 10.0
    # Audit records stay in the database at least this long, then leave only via an archive.
    audit_retention_days: int = Field(186, ge=186)
    # Largest accepted upload (claim and family documents), in bytes.
    upload_max_bytes: int = Field(10 * 1024 * 1024, ge=1024)
    # Identity (issue #3): SMS codes, lockout, sessions, step-up, providers.
    sms_code_ttl_seconds: int = 300
    sms_code_max_tries: int = 5
    sms_min_interval_seconds: int = 60
    sms_daily_limit: int = 10
    lockout_max_failures: int = 5
    lockout_window_minutes: int = 15
    lockout_minutes: int = 30
    session_idle_minutes: int = 15
    # The counter's workbench shows many people's data: its sessions end after this much idleness.
    staff_session_idle_minutes: int = Field(15, ge=1, le=15)
    step_up_minutes: int = 10
    # Failed passwords, SMS codes and card passwords per client address (credential stuffing);
    # why these defaults: identity/domain.py, address_refused_until.
    address_max_failures: int = Field(30, ge=1)
    address_window_minutes: int = Field(15, ge=1)
    # SMS codes asked for per client address in that window (SMS bombing); why this default:
    # identity/throttle.py, sms_refused_until.
    address_max_sms: int = Field(20, ge=1)
    realname_endpoint: str = ""
    realname_key: str = ""
    # Passkeys: the site's domain and origin; empty means "the host the request came to".
    webauthn_rp_id: str = ""
    webauthn_origin: str = ""
    # 医保电子凭证: the QR code refreshes this often; each ecToken stays usable this long.
    ec_qr_refresh_seconds: int = 60
    ec_token_ttl_seconds: int = 300
    # Institution interface: a region that wants the day's 9001 sign_no on every transaction, not
    # only on those that write (fsi/transactions.py says which do).
    fsi_sign_in_always: bool = False
    # 9101/9102 and the 13xx downloads: the largest file an institution may upload, and how long
    # a file stays readable (the national dld_endtime).
    fsi_file_max_bytes: int = Field(20 * 1024 * 1024, ge=1024)
    fsi_file_ttl_hours: int = Field(24, ge=1, le=24 * 30)
    # The hotline (docs/hotline.md): the shared secret a PBX signs its webhook calls with (empty:
    # no webhook), the SIP adapter's address, the wait for a key, and the text-to-speech command
    # ({text}, {voice}, {out}: a WAV at 8 kHz); empty means espeak-ng + sox.
    hotline_webhook_secret: str = ""
    hotline_sip_host: str = "127.0.0.1"
    hotline_sip_port: int = Field(5070, ge=1, le=65535)
    hotline_key_timeout_seconds: float = Field(8.0, gt=0)
    hotline_tts_command: str = ""
    # 异地就医 between deployments (docs/cross-region.md): this deployment's name in the region
    # directory and its Ed25519 signing key (base64 of the 32-byte seed; empty in development:
    # var/peer.key is made); how long a peer's answer may take, how far a message's timestamp may
    # be from now, and how long a home region's policy is kept before it is fetched again.
    peer_id: str = ""
    peer_key: str = ""
    peer_timeout_seconds: float = Field(5.0, gt=0)
    peer_window_seconds: int = Field(300, ge=10)
    peer_policy_ttl_seconds: int = Field(300, ge=0)

    def peer_key_bytes(self) -> bytes:
        if self.peer_key:
            return base64.b64decode(self.peer_key)
        return self._var_secret("peer.key")

    @property
    def is_development(self) -> bool:
        return self.environment in {"development", "test"}

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{self.var_dir / 'yibao.sqlite3'}"

    def data_key_bytes(self) -> bytes:
        if self.data_key:
            return base64.b64decode(self.data_key)
        return self._var_secret("data.key")

    def secret_key_bytes(self) -> bytes:
        if self.secret_key:
            return self.secret_key.encode()
        return self._var_secret("secret.key")

    def require_secrets(self) -> None:
        """Raise `MissingSecret` now, before a server starts, rather than in its first worker."""
        self.data_key_bytes()
        self.secret_key_bytes()

    def _var_secret(self, name: str) -> bytes:
        if not self.is_development:
            variable = f"YIBAO_{name.split('.')[0].upper()}_KEY"
            raise MissingSecret(
                f"{variable} is not set. YIBAO_ENVIRONMENT is {self.environment!r} (production"
                f" unless set otherwise), which needs YIBAO_DATA_KEY and YIBAO_SECRET_KEY, each"
                f" {KEY_HINT}. To try yibao on this machine, start scripts/run (development"
                " mode) or set YIBAO_ENVIRONMENT=development."
            )
        path = self.var_dir / name
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(base64.b64encode(secrets.token_bytes(32)).decode())
        return base64.b64decode(path.read_text().strip())


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
