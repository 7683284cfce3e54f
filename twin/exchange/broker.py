"""The MQTT link (paho-mqtt, MQTT 3.1.1): broker address, credentials, TLS, reconnection.

Credentials never come from a scenario: ``TWIN_MQTT_USERNAME`` / ``TWIN_MQTT_PASSWORD`` in
the environment, else ``username`` / ``password`` in the per-user file ``mqtt.toml`` in
twin's configuration folder (which must not be readable by others, as ssh requires of its
keys). A lost broker is reported once, retried with exponential backoff (1 s doubling to
30 s) and reported again when back; nothing raises into the caller. Incoming messages go
through one fixed-size queue: when the consumer falls behind, the newest are dropped and
counted, as are messages over 64 kB (never queued), so memory stays flat.

Throughput: paho-mqtt keeps the connection, the session, subscriptions, keepalive and every
packet but one kind; that kind, QoS 0 PUBLISH, costs paho tens of microseconds a message
(a select, three socket reads and a message object each way), more than a gigawatt site's
~30,000 messages/s allow on one core. So QoS 0 PUBLISH packets are framed here (MQTT 3.1.1
section 3.3): ``publish_frames`` hands paho's network thread many packets as one write,
and the socket paho reads is wrapped (``_PublishSplitter``) so that incoming QoS 0 PUBLISH
packets are cut from the stream and queued directly, every other packet (CONNACK, SUBACK,
PINGRESP, QoS 1 and 2 PUBLISH) passing to paho untouched. This leans on one private paho
method, ``Client._create_socket`` (paho-mqtt 2.x; the tests run it against Mosquitto).
"""

from __future__ import annotations

import functools
import os
import queue
import ssl
import stat
import sys
import threading
import time
import tomllib
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO
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
WRITE_CHUNK_BYTES = 64 * 1024  # frames joined into writes of about this size
READ_CHUNK_BYTES = 256 * 1024
PUBLISH = 0x30  # MQTT 3.1.1 control packet type 3, flags DUP=0 QoS=0 RETAIN=0
RETAIN = 0x01
QOS_MASK = 0x06


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


def topic_field(topic: str) -> bytes:
    """A PUBLISH packet's topic name as MQTT writes it (two-byte length, UTF-8), built once
    per point."""
    data = topic.encode()
    if not data or len(data) > 0xFFFF or b"+" in data or b"#" in data:
        raise ValueError(f"{topic!r} is not an MQTT topic name to publish on")
    return len(data).to_bytes(2, "big") + data


def publish_frame(topic: bytes, payload: bytes, *, retain: bool = False) -> bytes:
    """One QoS 0 PUBLISH packet for ``topic`` (from ``topic_field``): the bytes paho's
    ``Client.publish`` writes for the same message."""
    command = PUBLISH | RETAIN if retain else PUBLISH
    size = len(topic) + len(payload)
    if size < 0x80:
        head = bytes((command, size))
    elif size < 0x4000:
        head = bytes((command, size & 0x7F | 0x80, size >> 7))
    else:
        head = bytes((command, *_remaining_length(size)))
    return head + topic + payload


def _remaining_length(size: int) -> bytes:
    """MQTT's variable-length integer (section 2.2.3): 7 bits a byte, high bit = more."""
    out = bytearray()
    while True:
        size, byte = divmod(size, 0x80)
        out.append(byte | 0x80 if size else byte)
        if not size:
            return bytes(out)


class Inbox:
    """A bounded queue of (topic, payload, wall time) that never blocks its producer, the
    network thread, which adds one message or a whole read's at a time; when full, the
    newest are refused. ``get`` and ``get_nowait`` as ``queue.Queue``'s."""

    def __init__(self, maxsize: int) -> None:
        self.maxsize = maxsize
        self._items: deque[tuple[str, bytes, float]] = deque()
        self._ready = threading.Event()

    def qsize(self) -> int:
        return len(self._items)

    def put_nowait(self, item: tuple[str, bytes, float]) -> None:
        if len(self._items) >= self.maxsize:
            raise queue.Full
        self._items.append(item)
        self._ready.set()

    def put_many(self, items: list[tuple[str, bytes, float]]) -> int:
        """Queue as many as there is room for; returns how many were refused."""
        room = max(self.maxsize - len(self._items), 0)
        taken = items if room >= len(items) else items[:room]
        self._items.extend(taken)
        self._ready.set()
        return len(items) - len(taken)

    def get_nowait(self) -> tuple[str, bytes, float]:
        try:
            return self._items.popleft()
        except IndexError:
            raise queue.Empty from None

    def get(self, timeout: float | None = None) -> tuple[str, bytes, float]:
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            try:
                return self._items.popleft()
            except IndexError:
                pass
            self._ready.clear()
            if self._items:  # added between the pop and the clear
                continue
            left = None if deadline is None else deadline - time.monotonic()
            if (left is not None and left <= 0) or not self._ready.wait(left):
                raise queue.Empty


class _PublishSplitter:
    """The socket paho reads, with incoming QoS 0 PUBLISH packets cut out of the stream and
    handed to ``deliver`` (a read's worth at a time); every other packet reaches paho whole
    and in order. Everything but ``recv`` and ``pending`` is the wrapped socket's own."""

    MAX_CHUNKS_PER_READ = 16  # then paho's loop gets a turn (writes, keepalive)

    def __init__(self, sock, deliver: Callable[[list[tuple[str, bytes, float]], int, int], None]):
        self._sock = sock
        self._deliver = deliver  # (messages, dropped too large, dropped with a bad topic)
        self._raw = bytearray()  # received, not yet a whole packet
        self._for_paho = bytearray()
        self._skip = 0  # bytes still to discard of an oversized PUBLISH
        self._ended = False

    def __getattr__(self, name: str):
        return getattr(self._sock, name)

    def pending(self) -> int:
        """Bytes paho can read without waiting on the socket (TLS's decrypted ones too)."""
        inner = getattr(self._sock, "pending", None)
        return len(self._for_paho) + (inner() if inner is not None else 0)

    def recv(self, bufsize: int) -> bytes:
        chunks = 0
        while not self._for_paho:
            if self._ended:
                return b""  # the broker closed: paho sees it after what came before
            if chunks == self.MAX_CHUNKS_PER_READ:
                raise BlockingIOError
            data = self._sock.recv(READ_CHUNK_BYTES)  # BlockingIOError, SSL errors: to paho
            chunks += 1
            if not data:
                self._ended = True
                continue
            self._split(data)
        out = bytes(self._for_paho[:bufsize])
        del self._for_paho[:bufsize]
        return out

    def _split(self, data: bytes) -> None:
        if self._skip:
            cut = min(self._skip, len(data))
            self._skip -= cut
            data = data[cut:]
        raw = self._raw
        raw += data
        size = len(raw)
        pos = 0
        messages: list[tuple[str, bytes, float]] = []
        too_large = bad_topic = 0
        now = time.time()
        while size - pos >= 2:
            first = raw[pos]
            length, multiplier, i = 0, 1, pos + 1
            while i < size and i - pos <= 4:
                byte = raw[i]
                length += (byte & 0x7F) * multiplier
                multiplier <<= 7
                i += 1
                if byte < 0x80:
                    break
            else:
                if i - pos > 4:  # no valid length: paho reports the protocol error
                    self._for_paho += raw[pos:]
                    pos = size
                break  # the length is not all here yet
            end = i + length
            if first & 0xF0 == PUBLISH and not first & QOS_MASK and length >= 2:
                if length > MAX_PAYLOAD_BYTES + 2 + 0xFFFF:  # too large whatever its topic
                    too_large += 1
                    self._skip = max(end - size, 0)
                    pos = min(end, size)
                    continue
                if end > size:
                    break
                topic_end = i + 2 + (raw[i] << 8 | raw[i + 1])
                if topic_end > end:
                    bad_topic += 1
                elif end - topic_end > MAX_PAYLOAD_BYTES:
                    too_large += 1
                else:
                    try:
                        topic = raw[i + 2 : topic_end].decode()
                    except UnicodeDecodeError:
                        bad_topic += 1
                    else:
                        messages.append((topic, bytes(raw[topic_end:end]), now))
            else:
                if end > size:
                    break
                self._for_paho += raw[pos:end]
            pos = end
        del raw[:pos]
        if messages or too_large or bad_topic:
            self._deliver(messages, too_large, bad_topic)


@functools.cache
def _client_class() -> type:
    """paho's client with its socket wrapped in ``_PublishSplitter`` at every connect."""
    import paho.mqtt.client as mqtt

    class SplittingClient(mqtt.Client):
        deliver: Callable[[list[tuple[str, bytes, float]], int, int], None]

        def _create_socket(self) -> Any:
            return _PublishSplitter(super()._create_socket(), self.deliver)

    return SplittingClient


@dataclass
class LinkCounters:
    received: int = 0
    dropped_inbox_full: int = 0
    dropped_too_large: int = 0
    dropped_bad_topic: int = 0  # a topic that is not UTF-8 or longer than its packet
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
        self.inbox = Inbox(self.inbox_size)
        self.connected = threading.Event()
        self._lost_reported = False
        self._stopping = False
        self.started = False
        client = _client_class()(
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
        client.deliver = self._deliver
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

    def _deliver(
        self, messages: list[tuple[str, bytes, float]], too_large: int, bad_topic: int
    ) -> None:
        """QoS 0 messages cut from the stream by ``_PublishSplitter`` (network thread)."""
        counters = self.counters
        counters.received += len(messages) + too_large + bad_topic
        counters.dropped_too_large += too_large
        counters.dropped_bad_topic += bad_topic
        if messages:
            counters.dropped_inbox_full += self.inbox.put_many(messages)

    def publish_frames(self, frames: list[bytes]) -> bool:
        """Send QoS 0 PUBLISH packets built by ``publish_frame``, in order, joined into
        writes of about ``WRITE_CHUNK_BYTES`` that paho's network thread makes with its
        own packets; False (all counted) while the broker is away."""
        if not self.connected.is_set():
            self.counters.unsent_disconnected += len(frames)
            return False
        start = size = 0
        for n, frame in enumerate(frames, 1):
            size += len(frame)
            if size >= WRITE_CHUNK_BYTES or n == len(frames):
                info = self._mqtt.MQTTMessageInfo(0)
                rc = self.client._packet_queue(PUBLISH, b"".join(frames[start:n]), 0, 0, info)
                if rc != self._mqtt.MQTT_ERR_SUCCESS:
                    self.counters.unsent_disconnected += len(frames) - start
                    return False
                self.counters.published += n - start
                start, size = n, 0
        return True

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
