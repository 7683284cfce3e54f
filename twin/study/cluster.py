"""Where a study's runs go: a local Dask cluster, a scheduler by address, or a cluster
described in a file (Slurm through dask-jobqueue, Kubernetes through dask-kubernetes).

Dask's nanny starts its workers with ``MALLOC_TRIM_THRESHOLD_=65536`` (to hand freed
memory back to the system). Setting it freezes glibc's mmap threshold at 128 KiB, so every
larger numpy array is mapped and unmapped again at each allocation: measured with
benchmarks/study.py, a gigawatt run is 1.2x slower with it (smaller sites see no
difference). Local workers are started without it; workers of another cluster need it
dropped from their Dask configuration (the README says how).
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError

from twin.scenario import Problem, ScenarioError
from twin.scenario.files import parse_toml, read_text
from twin.scenario.problems import validation_problems
from twin.scenario.schema import Strict

NANNY_ENVIRON = "distributed.nanny.pre-spawn-environ"
CONNECT_TIMEOUT_S = 20.0


class ClusterError(Exception):
    """A cluster that cannot be started or reached; the message says why."""


class ClusterSpec(Strict):
    kind: Literal["slurm", "pbs", "sge", "lsf", "kubernetes"]
    workers: int = Field(ge=1, le=100_000, description="worker processes to ask for")
    options: dict[str, Any] = Field(
        default_factory=dict,
        description=(
            "keyword arguments of the cluster class (dask_jobqueue.SLURMCluster, "
            "dask_kubernetes.operator.KubeCluster...)"
        ),
    )


class ClusterFile(Strict):
    cluster: ClusterSpec


def read_cluster_file(path: Path) -> ClusterSpec:
    source = str(path)
    if not path.is_file():
        raise ScenarioError(source, [Problem("", "no such file")])
    data = parse_toml(read_text(path), source)
    try:
        return ClusterFile.model_validate(data).cluster
    except ValidationError as exc:
        raise ScenarioError(source, validation_problems(exc, ClusterFile)) from None


def local_worker_environment() -> dict[str, Any]:
    """The nanny's pre-spawn environment without MALLOC_TRIM_THRESHOLD_ (see the module's
    notes), one BLAS thread per worker."""
    import dask

    environ = dict(dask.config.get(NANNY_ENVIRON, default={}) or {})
    environ["MALLOC_TRIM_THRESHOLD_"] = None  # None: the nanny does not set it
    for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        environ[name] = 1
    return environ


@contextlib.contextmanager
def connect(
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    cluster_file: Path | None = None,
    processes: bool = True,
) -> Iterator[Any]:
    """A Dask client on the cluster asked for, closed (and a cluster twin started, shut
    down) on the way out."""
    import dask
    from distributed import Client, LocalCluster

    if scheduler is not None:
        _check_scheduler(scheduler)
        try:
            client = Client(scheduler, timeout=CONNECT_TIMEOUT_S)
        except (OSError, TimeoutError) as exc:
            raise ClusterError(
                f"cannot reach the Dask scheduler at {scheduler} within "
                f"{CONNECT_TIMEOUT_S:g} s ({exc}); is it running, and is the "
                "address tcp://HOST:PORT?"
            ) from None
        with client:
            yield client
        return
    if cluster_file is not None:
        spec = read_cluster_file(cluster_file)
        with _file_cluster(spec) as cluster, Client(cluster) as client:
            yield client
        return
    count = workers or max(os.cpu_count() or 1, 1)
    with dask.config.set({NANNY_ENVIRON: local_worker_environment()}):
        cluster = LocalCluster(
            n_workers=count,
            threads_per_worker=1,
            processes=processes,
            dashboard_address=":0",
            silence_logs=logging.CRITICAL,
        )
    with cluster, Client(cluster) as client:
        yield client


def _check_scheduler(address: str) -> None:
    """Reach ``address`` and read a Dask scheduler's handshake there, within
    ``CONNECT_TIMEOUT_S``. Dask's client bounds the connection but then waits for the
    handshake without end, so another service on that port would hold the study for ever
    (or answer with bytes it reads as a frame size); a malformed address is a ValueError."""
    import asyncio

    from distributed.comm.addressing import parse_address
    from distributed.comm.registry import get_backend

    connected = False

    async def handshake() -> None:
        nonlocal connected
        scheme, location = parse_address(address)
        connector = get_backend(scheme).get_connector()
        comm = await connector.connect(location, deserialize=False)
        connected = True
        try:
            await comm.write(comm.handshake_info())
            await comm.read()
        finally:
            comm.abort()

    try:  # on a thread of its own: the caller may be running an event loop (a notebook)
        with concurrent.futures.ThreadPoolExecutor(1) as thread:
            thread.submit(asyncio.run, asyncio.wait_for(handshake(), CONNECT_TIMEOUT_S)).result()
    except Exception as exc:
        if connected:
            if isinstance(exc, TimeoutError):
                what = f"it said nothing within {CONNECT_TIMEOUT_S:g} s"
            elif isinstance(exc, OSError):
                what = "it closed the connection"
            else:
                what = "it answered in another protocol"
            raise ClusterError(
                f"{address} is not a Dask scheduler: {what}; is that the scheduler's port "
                "(dask scheduler prints its address, port 8786 by default)?"
            ) from None
        if isinstance(exc, ValueError):
            raise ClusterError(
                f"--scheduler {address}: {exc}; give the scheduler's address as tcp://HOST:PORT"
            ) from None
        if isinstance(exc, TimeoutError):
            reason = f"no connection within {CONNECT_TIMEOUT_S:g} s"
        else:  # the socket's own error, without the connector's wrapping
            reason = str(exc.__cause__ or exc) or type(exc).__name__
        raise ClusterError(
            f"cannot reach the Dask scheduler at {address} ({reason}); is it running, "
            "and is the address tcp://HOST:PORT?"
        ) from None


@contextlib.contextmanager
def _file_cluster(spec: ClusterSpec) -> Iterator[Any]:
    if spec.kind == "kubernetes":
        try:
            from dask_kubernetes.operator import KubeCluster
        except ImportError:
            raise ClusterError(
                "a kubernetes cluster needs dask-kubernetes: pip install dask-kubernetes"
            ) from None
        factory: Any = KubeCluster
    else:
        try:
            import dask_jobqueue
        except ImportError:
            raise ClusterError(
                f"a {spec.kind} cluster needs dask-jobqueue: pip install dask-jobqueue"
            ) from None
        factory = getattr(dask_jobqueue, f"{spec.kind.upper()}Cluster")
    try:
        cluster = factory(**spec.options)
    except (TypeError, ValueError) as exc:
        raise ClusterError(f"cluster.options: {exc}") from None
    with cluster:
        cluster.scale(spec.workers)
        yield cluster
