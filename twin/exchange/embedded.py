"""``--broker embedded``: an MQTT broker inside the twin process, for demos without one.

amqtt (a pure-Python asyncio broker, the optional extra ``twin[broker]``) on the loopback
interface, on its own thread and event loop; anonymous clients only, nothing persisted.
Other processes on the machine (a ``twin shadow``, an integration) connect to
``mqtt://127.0.0.1:PORT``. For a site of any size, run Eclipse Mosquitto instead.
"""

from __future__ import annotations

import asyncio
import socket
import threading

EMBEDDED_PORT = 1883
START_TIMEOUT_S = 30.0


class EmbeddedBrokerError(Exception):
    pass


class EmbeddedBroker:
    def __init__(self, port: int = EMBEDDED_PORT) -> None:
        try:
            from amqtt.broker import Broker
        except ImportError:
            raise EmbeddedBrokerError(
                "--broker embedded needs the optional amqtt broker: pip install "
                "'twin[broker]' (or run Eclipse Mosquitto and give mqtt://HOST:PORT)"
            ) from None
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                raise EmbeddedBrokerError(
                    f"--broker embedded: port {port} on 127.0.0.1 is taken (another broker "
                    f"runs?); connect to it with --broker mqtt://127.0.0.1:{port}"
                )
        self.port = port
        self._config = {
            "listeners": {"default": {"type": "tcp", "bind": f"127.0.0.1:{port}"}},
            "plugins": {
                "amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True}
            },
        }
        self._broker_class = Broker
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="embedded-mqtt-broker", daemon=True)

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._broker = self._broker_class(self._config, loop=self._loop)
            self._loop.run_until_complete(self._broker.start())
        except Exception as exc:  # reported to the starting thread
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        self._loop.run_forever()

    def start(self) -> None:
        self._thread.start()
        if not self._ready.wait(START_TIMEOUT_S):
            raise EmbeddedBrokerError("--broker embedded: the broker did not start")
        if self._error is not None:
            raise EmbeddedBrokerError(f"--broker embedded: the broker did not start: {self._error}")

    def stop(self) -> None:
        if not self._thread.is_alive():
            return
        future = asyncio.run_coroutine_threadsafe(self._broker.shutdown(), self._loop)
        try:
            future.result(START_TIMEOUT_S)
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(START_TIMEOUT_S)
