"""The MQTT link (paho-mqtt, MQTT 3.1.1): broker address, credentials, TLS, reconnection.

Credentials never come from a scenario: ``TWIN_MQTT_USERNAME`` / ``TWIN_MQTT_PASSWORD`` in
the environment, else ``username`` / ``password`` in the per-user file ``mqtt.toml`` in
twin's configuration folder (which must not be readable by others, as ssh requires of its
keys). A lost broker is reported once, retried with exponential backoff (1 s doubling to
30 s) and reported again when back; nothing raises into the caller. Incoming messages go
through one fixed-size queue: when the consumer falls behind, the newest are dropped and
counted, as are messages over 64 kB (never queued), so memory stays flat.
"""

from __future__ import annotations

import os
import queue
import ssl
import stat
import sys
import threading
import time
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO
from urllib.parse import urlsplit

from twin.paths import config_dir

CREDENTIALS_FILE = "mqtt.toml"
ENV_USERNAME = "TWIN_MQTT_USERNAME"
ENV_PASSWORD = "TWIN_MQTT_PASSWORD"
DEFAULT_PORT = 1883
DEFAULT_TLS_PORT = 8883
KEEPALIVE_S = 30
RECONNECT_MIN_S = 1
RECONNECT_MAX_S = 30
MAX_PAYLOAD_BYTES = 64 * 1024  # as twin.exchange.contract refuses
INBOX_MESSAGES = 200_000  # ~4 s of a gigawatt site at one update per point every 2 s


class BrokerError(Exception):
    """A broker setting that cannot work (address, credentials file, TLS files)."""


@dataclass(frozen=True, slots=True)
class BrokerSettings:
    host: str
    port: int
    tls: bool = False
    ca_file: Path | None = None
    cert_file: Path | None = None
    key_file: Path | None = None
    username: str | None = None
    password: str | None = None
    client_id: str = ""

    @property
    def address(self) -> str:
        return f"{'mqtts' if self.tls else 'mqtt'}://{self.host}:{self.port}"


def parse_broker_url(url: str) -> tuple[str, int, bool]:
    """``mqtt://HOST[:PORT]`` or ``mqtts://HOST[:PORT]`` (TLS)."""
    parts = urlsplit(url)
    if parts.scheme not in ("mqtt", "mqtts") or not parts.hostname:
        raise BrokerError(
            f"--broker {url!r} must look like mqtt://HOST:PORT or mqtts://HOST:PORT (TLS)"
        )
    if parts.username or parts.password:
        raise BrokerError(
            "--broker must not carry a user name or password; set "
            f"{ENV_USERNAME}/{ENV_PASSWORD} or the credentials file "
            f"{credentials_path()}"
        )
    try:
        port = parts.port
    except ValueError:
        raise BrokerError(f"--broker {url!r}: the port must be a number 1-65535") from None
    tls = parts.scheme == "mqtts"
    return parts.hostname, port or (DEFAULT_TLS_PORT if tls else DEFAULT_PORT), tls


def credentials_path() -> Path:
    return config_dir() / CREDENTIALS_FILE


def read_credentials(
    environ: dict[str, str] | None = None, path: Path | None = None
) -> tuple[str | None, str | None]:
    """(username, password): the environment first, else the per-user file."""
    env = os.environ if environ is None else environ
    if env.get(ENV_USERNAME):
        return env[ENV_USERNAME], env.get(ENV_PASSWORD)
    path = path or credentials_path()
    if not path.exists():
        return None, None
    mode = path.stat().st_mode
    if os.name == "posix" and mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise BrokerError(
            f"the credentials file {path} can be read by others; make it private: chmod 600 {path}"
        )
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise BrokerError(f"the credentials file {path} cannot be read: {exc}") from None
    unknown = sorted(set(data) - {"username", "password"})
    if unknown or not all(isinstance(data.get(k, ""), str) for k in ("username", "password")):
        raise BrokerError(
            f"the credentials file {path} holds username and password as "
            f"text, nothing else (found {', '.join(unknown) or 'a non-text value'})"
        )
    return data.get("username"), data.get("password")


def broker_settings(
    url: str,
    *,
    client_id: str,
    ca_file: Path | None = None,
    cert_file: Path | None = None,
    key_file: Path | None = None,
    environ: dict[str, str] | None = None,
    credentials_file: Path | None = None,
) -> BrokerSettings:
    host, port, tls = parse_broker_url(url)
    for option, path in (("--tls-ca", ca_file), ("--tls-cert", cert_file), ("--tls-key", key_file)):
        if path is not None and not path.is_file():
            raise BrokerError(f"{option} {path} is not a file")
    if (ca_file or cert_file or key_file) and not tls:
        raise BrokerError("--tls-ca/--tls-cert/--tls-key need an mqtts:// broker")
    if (cert_file is None) != (key_file is None):
        raise BrokerError("a client certificate needs both --tls-cert and --tls-key")
    username, password = read_credentials(environ, credentials_file)
    return BrokerSettings(
        host, port, tls, ca_file, cert_file, key_file, username, password, client_id
    )


@dataclass
class LinkCounters:
    received: int = 0
    dropped_inbox_full: int = 0
    dropped_too_large: int = 0
    published: int = 0
    unsent_disconnected: int = 0
    connects: int = 0
    disconnects: int = 0


@dataclass
class MqttLink:
    """One MQTT client on its own network thread. ``subscriptions`` are (re)made at every
    connect; ``on_connect`` runs then too (the plant republishes its metadata)."""

    settings: BrokerSettings
    subscriptions: tuple[str, ...] = ()
    on_connect: Callable[[], None] | None = None
    inbox_size: int = INBOX_MESSAGES
    log: TextIO = field(default_factory=lambda: sys.stderr)
    name: str = "twin"
    counters: LinkCounters = field(default_factory=LinkCounters)

    def __post_init__(self) -> None:
        import paho.mqtt.client as mqtt

        self._mqtt = mqtt
        self.inbox: queue.Queue[tuple[str, bytes, float]] = queue.Queue(self.inbox_size)
        self.connected = threading.Event()
        self._lost_reported = False
        self._stopping = False
        self.started = False
        client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=self.settings.client_id,
            protocol=mqtt.MQTTv311,
            clean_session=True,
        )
        if self.settings.username:
            client.username_pw_set(self.settings.username, self.settings.password)
        if self.settings.tls:
            try:
                client.tls_set(
                    ca_certs=str(self.settings.ca_file) if self.settings.ca_file else None,
                    certfile=str(self.settings.cert_file) if self.settings.cert_file else None,
                    keyfile=str(self.settings.key_file) if self.settings.key_file else None,
                )
            except (OSError, ValueError) as exc:
                raise BrokerError(f"TLS set-up failed: {exc}") from None
        client.reconnect_delay_set(RECONNECT_MIN_S, RECONNECT_MAX_S)
        client.on_connect = self._connected
        client.on_disconnect = self._disconnected
        client.on_message = self._message
        client.on_connect_fail = self._connect_failed
        self.client = client

    def _say(self, text: str) -> None:
        print(f"{self.name}: {text}", file=self.log, flush=True)

    def start(self) -> None:
        """Connect in the background; a broker that is down is retried, never raised."""
        try:
            self.client.connect_async(self.settings.host, self.settings.port, KEEPALIVE_S)
        except (OSError, ValueError) as exc:
            raise BrokerError(f"cannot reach {self.settings.address}: {exc}") from None
        self.client.loop_start()
        self.started = True

    def stop(self) -> None:
        self._stopping = True
        self.client.disconnect()
        self.client.loop_stop()
        self.connected.clear()

    def wait_connected(self, timeout_s: float) -> bool:
        return self.connected.wait(timeout_s)

    def _connected(self, client, userdata, flags, reason, properties) -> None:
        if reason.is_failure:
            hint = ""
            if str(reason) in ("Not authorized", "Bad user name or password"):
                hint = (
                    f" (user name and password: {ENV_USERNAME} / {ENV_PASSWORD}, else "
                    f"{CREDENTIALS_FILE} in twin's configuration folder)"
                )
            self._report_lost(
                f"the broker {self.settings.address} refused the connection "
                f"({reason}){hint}; retrying"
            )
            return
        self.counters.connects += 1
        for topic in self.subscriptions:
            client.subscribe(topic, qos=0)
        self._say(f"connected to {self.settings.address}")
        self._lost_reported = False
        self.connected.set()
        if self.on_connect is not None:
            self.on_connect()

    def _disconnected(self, client, userdata, flags, reason, properties) -> None:
        was = self.connected.is_set()
        self.connected.clear()
        if was and not self._stopping:
            self.counters.disconnects += 1
            self._report_lost(
                f"lost the broker {self.settings.address} ({reason}); "
                f"reconnecting every {RECONNECT_MIN_S}-{RECONNECT_MAX_S} s"
            )

    def _connect_failed(self, client, userdata) -> None:
        # paho calls this inside its ``except OSError``: the exception is the one handled
        reason = sys.exc_info()[1]
        retry = f"retrying every {RECONNECT_MIN_S}-{RECONNECT_MAX_S} s"
        if isinstance(reason, ssl.SSLCertVerificationError):
            self._report_lost(
                f"the broker {self.settings.address}'s TLS certificate is not trusted "
                f"({reason.verify_message}): --tls-ca must name the CA that signed it "
                f"(and the certificate must name {self.settings.host}); {retry}"
            )
        elif isinstance(reason, ssl.SSLError):
            self._report_lost(
                f"the TLS handshake with {self.settings.address} failed "
                f"({reason.reason or reason}): check --tls-ca, --tls-cert and "
                f"--tls-key against the broker's TLS settings; {retry}"
            )
        else:
            self._report_lost(f"cannot reach the broker {self.settings.address}; {retry}")

    def _report_lost(self, text: str) -> None:
        if not self._lost_reported:
            self._lost_reported = True
            self._say(text)

    def _message(self, client, userdata, message) -> None:
        self.counters.received += 1
        if len(message.payload) > MAX_PAYLOAD_BYTES:  # never queued: memory stays flat
            self.counters.dropped_too_large += 1
            return
        try:
            self.inbox.put_nowait((message.topic, message.payload, time.time()))
        except queue.Full:
            self.counters.dropped_inbox_full += 1

    def publish(self, topic: str, payload: bytes, *, retain: bool = False, qos: int = 0) -> bool:
        """Send if connected; False (counted) while the broker is away."""
        if not self.connected.is_set():
            self.counters.unsent_disconnected += 1
            return False
        info = self.client.publish(topic, payload, qos=qos, retain=retain)
        if info.rc != self._mqtt.MQTT_ERR_SUCCESS:
            self.counters.unsent_disconnected += 1
            return False
        self.counters.published += 1
        return True
