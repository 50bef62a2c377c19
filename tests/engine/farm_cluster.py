"""A local multi-node Ray cluster with fake GPUs, for the farm's scheduling tests.

Three nodes on this machine (``ray.cluster_utils.Cluster``): a head with one CPU and no GPU,
``node-1`` with two fake H100s of 80 GB and ``node-2`` with two fake L4s of 24 GB, each node with
its own Hugging Face cache folder. The fake GPUs
are the custom resource ``pinframe_gpu`` (the executor's ``gpu_resource``); ``node-2``'s are also
declared to Ray as GPUs, so Ray pins an actor to one of them with ``CUDA_VISIBLE_DEVICES`` as it
does on a real GPU node. Each node names itself and sizes its GPUs through the environment its
raylet (and so every worker process) runs in, as a real node set up with ``ray start`` would.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import pytest
import ray

from engine.farm.gpu_actor import FAKE_VRAM_ENV
from engine.farm.versions import NODE_NAME_ENV, REPORTED_VERSION_ENV

ROOT = Path(__file__).resolve().parents[2]
FAKE_GPU = "pinframe_gpu"
# Each node's own Hugging Face cache (HUBS / node name), as separate machines have.
HUBS = Path(tempfile.mkdtemp(prefix="pinframe-farm-hubs-"))


def node_env(name: str, vram_gb: int = 0, **more: str) -> dict[str, str]:
    env = {NODE_NAME_ENV: name, "HF_HUB_CACHE": str(HUBS / name), **more}
    if vram_gb:
        env[FAKE_VRAM_ENV] = str(vram_gb)
    return env


@pytest.fixture(scope="module")
def gpu_cluster():
    from ray.cluster_utils import Cluster

    if ray.is_initialized():
        ray.shutdown()
    cluster = Cluster(
        initialize_head=True,
        head_node_args={"num_cpus": 1, "include_dashboard": False, "env_vars": node_env("head")},
    )
    cluster.add_node(
        num_cpus=1,
        resources={FAKE_GPU: 2, "accelerator_type:H100": 2},
        env_vars=node_env("node-1", 80),
    )
    cluster.add_node(
        num_cpus=1,
        num_gpus=2,
        resources={FAKE_GPU: 2, "accelerator_type:L4": 2},
        env_vars=node_env("node-2", 24),
    )
    # Workers import Pinframe (and the tests' loaders) from this checkout.
    ray.init(address=cluster.address, log_to_driver=False, runtime_env={"env_vars": {"PYTHONPATH": str(ROOT)}})
    yield cluster
    ray.shutdown()
    cluster.shutdown()


def add_outdated_node(cluster, version: str, name: str = "node-3"):
    """A node whose Pinframe says it is ``version`` (its worker processes' environment)."""
    return cluster.add_node(num_cpus=0, env_vars=node_env(name, **{REPORTED_VERSION_ENV: version}))


def pickle_by_value(module_name: str) -> None:
    # Loaders defined in a test module run on the workers, which can't import it by pytest's name.
    ray.cloudpickle.register_pickle_by_value(sys.modules[module_name])


def wait_until(condition, timeout: float, what: str = "the condition") -> None:
    """Poll ``condition`` (the cluster's state has no callback to wait on) until it holds."""
    import time

    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(0.05)
