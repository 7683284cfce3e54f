"""twin plant and twin shadow over TLS with a client certificate and a password, on a real
Mosquitto broker whose certificates (openssl) and password file (mosquitto_passwd) are made
in the test's folder; a wrong CA or a wrong password is told plainly and never connects."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.exchange.conftest import MOSQUITTO, THREE_CDU, Broker, wait_for_line
from twin.exchange.broker import MqttLink, broker_settings

OPENSSL = shutil.which("openssl")
PASSWD = shutil.which("mosquitto_passwd") or "/usr/bin/mosquitto_passwd"
USER, PASSWORD = "plant-ops", "correct horse"


def _openssl(*args: str) -> None:
    subprocess.run([OPENSSL, *args], check=True, capture_output=True)


def _ca(folder: Path, name: str) -> tuple[Path, Path]:
    key, cert = folder / f"{name}.key", folder / f"{name}.pem"
    _openssl(
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-keyout",
        str(key),
        "-out",
        str(cert),
        "-days",
        "2",
        "-subj",
        f"/CN=twin test {name}",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
    )
    return key, cert


def _signed(folder: Path, name: str, ca: tuple[Path, Path], extensions: str) -> tuple[Path, Path]:
    key, request, cert = (folder / f"{name}.key", folder / f"{name}.csr", folder / f"{name}.pem")
    ext = folder / f"{name}.ext"
    ext.write_text(
        "basicConstraints=CA:FALSE\nsubjectKeyIdentifier=hash\n"
        "authorityKeyIdentifier=keyid,issuer\n" + extensions
    )
    _openssl(
        "req",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-keyout",
        str(key),
        "-out",
        str(request),
        "-subj",
        f"/CN={name}",
    )
    _openssl(
        "x509",
        "-req",
        "-in",
        str(request),
        "-CA",
        str(ca[1]),
        "-CAkey",
        str(ca[0]),
        "-CAcreateserial",
        "-out",
        str(cert),
        "-days",
        "2",
        "-extfile",
        str(ext),
    )
    return key, cert


@pytest.fixture
def tls_broker(tmp_path):
    if MOSQUITTO is None or OPENSSL is None:
        pytest.fail("mosquitto and openssl are needed: packaging/bootstrap.sh --dev installs them")
    pki = tmp_path / "pki"
    pki.mkdir()
    ca = _ca(pki, "ca")
    server = _signed(
        pki, "server", ca, "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n"
    )
    client = _signed(pki, "client", ca, "extendedKeyUsage=clientAuth\n")
    other_ca = _ca(pki, "other-ca")
    users = tmp_path / "passwords"
    subprocess.run(
        [PASSWD, "-c", "-b", str(users), USER, PASSWORD], check=True, capture_output=True
    )
    users.chmod(0o600)
    broker = Broker(tmp_path)
    stay = "user root\n" if os.geteuid() == 0 else ""
    broker.config.write_text(
        f"persistence false\nlistener {broker.port} 127.0.0.1\n"
        f"cafile {ca[1]}\ncertfile {server[1]}\nkeyfile {server[0]}\n"
        f"require_certificate true\nallow_anonymous false\npassword_file {users}\n{stay}"
    )
    broker.start()
    broker.ca, broker.client, broker.other_ca = ca[1], client, other_ca[1]
    broker.tls_url = f"mqtts://127.0.0.1:{broker.port}"
    yield broker
    broker.stop()


def _tls_args(broker, ca: Path) -> list[str]:
    return [
        "--broker",
        broker.tls_url,
        "--tls-ca",
        str(ca),
        "--tls-cert",
        str(broker.client[1]),
        "--tls-key",
        str(broker.client[0]),
    ]


def _env(password: str) -> dict[str, str]:
    return {**os.environ, "TWIN_MQTT_USERNAME": USER, "TWIN_MQTT_PASSWORD": password}


def test_plant_and_shadow_connect_over_tls_with_a_client_certificate_and_password(
    tls_broker, processes, tmp_path
):
    plant_log, shadow_log = tmp_path / "plant.log", tmp_path / "shadow.log"
    plant = processes.twin(
        "plant",
        "--scenario",
        str(THREE_CDU),
        "--speed",
        "5x",
        *_tls_args(tls_broker, tls_broker.ca),
        log=plant_log,
        env=_env(PASSWORD),
    )
    shadow = processes.twin(
        "shadow",
        "--scenario",
        str(THREE_CDU),
        *_tls_args(tls_broker, tls_broker.ca),
        log=shadow_log,
        env=_env(PASSWORD),
    )
    assert tls_broker.tls_url in wait_for_line(plant_log, "connected to", plant)
    assert tls_broker.tls_url in wait_for_line(shadow_log, "connected to", shadow)
    # the plant's values come through the TLS listener to another client
    settings = broker_settings(
        tls_broker.tls_url,
        client_id="test-tls-reader",
        ca_file=tls_broker.ca,
        cert_file=tls_broker.client[1],
        key_file=tls_broker.client[0],
        environ={"TWIN_MQTT_USERNAME": USER, "TWIN_MQTT_PASSWORD": PASSWORD},
        credentials_file=None,
    )
    reader = MqttLink(settings, subscriptions=("BMS/v1/PUB/Value/Rack/#",), name="test")
    reader.start()
    assert reader.wait_connected(60)
    topic, _payload, _ = reader.inbox.get(timeout=120)
    assert topic.startswith("BMS/v1/PUB/Value/Rack/")
    reader.stop()
    for process in (shadow, plant):
        process.terminate()
        process.wait(30)
    assert "Traceback" not in plant_log.read_text() + shadow_log.read_text()


@pytest.mark.parametrize("wrong", ["ca", "password"])
def test_a_wrong_ca_or_password_is_told_and_never_connects(tls_broker, processes, tmp_path, wrong):
    ca = tls_broker.other_ca if wrong == "ca" else tls_broker.ca
    password = "battery staple" if wrong == "password" else PASSWORD
    expected = "TLS certificate is not trusted" if wrong == "ca" else "refused the connection"
    logs = []
    for command in ("plant", "shadow"):
        log = tmp_path / f"{command}.log"
        process = processes.twin(
            command,
            "--scenario",
            str(THREE_CDU),
            *_tls_args(tls_broker, ca),
            log=log,
            env=_env(password),
        )
        line = wait_for_line(log, expected, process)
        assert tls_broker.tls_url in line and "retrying" in line
        assert ("--tls-ca" if wrong == "ca" else "TWIN_MQTT_PASSWORD") in line
        process.terminate()
        process.wait(30)
        logs.append(log.read_text())
    for text in logs:
        assert "connected to" not in text and "Traceback" not in text
