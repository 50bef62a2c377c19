"""Connecting this process to a Ray cluster, with errors a person can act on."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from engine.errors import EngineError


def connect(address: str | None, num_cpus: int | None) -> None:
    import ray

    quiet = {"include_dashboard": False, "log_to_driver": False, "logging_level": logging.WARNING}
    problem = unreachable(address)
    if problem:
        # Ray itself would retry for 30 s (ray://) or minutes (a head's GCS address) first.
        raise EngineError(
            f"could not connect to the Ray cluster at '{address}': {problem}. Is `ray start --head` running "
            "there, and is the port open from this machine?"
        )
    try:
        if address in (None, "", "local"):
            root = str(Path(__file__).resolve().parents[2])
            # Workers on this machine import Pinframe from where this process does.
            path = os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH", "")) if p)
            # address="local": a new cluster, even when this machine is part of one already.
            ray.init("local", num_cpus=num_cpus, runtime_env={"env_vars": {"PYTHONPATH": path}}, **quiet)
        elif address.startswith("ray://"):
            ray.init(address=address, logging_level=logging.WARNING, log_to_driver=False)
        else:
            ray.init(address=address, **{k: v for k, v in quiet.items() if k != "include_dashboard"})
    except (ConnectionError, RuntimeError, ValueError, TimeoutError) as exc:
        hint = (
            "Start it with `ray start --head` and pass its address (ray://HOST:10001 from another machine, "
            "auto on a cluster node), or 'local'."
        )
        if address and address.startswith("ray://") and os.environ.get("RAY_AUTH_MODE") != "token":
            # Ray 2.59+ clusters started with `ray start` require a token by default; Ray Client
            # then just times out.
            hint = (
                "If the cluster uses token authentication (Ray's default), set RAY_AUTH_MODE=token and give "
                "this machine the head's token (`ray get-auth-token` there) in ~/.ray/auth_token or RAY_AUTH_TOKEN."
            )
        raise EngineError(f"could not connect to the Ray cluster at '{address}': {exc}. {hint}") from None


def unreachable(address: str | None) -> str:
    """Why HOST:PORT (``ray://HOST:PORT`` or a head's ``HOST:PORT``) can't be reached; '' if it can."""
    import socket

    if not address or address in ("local", "auto"):
        return ""
    target = address.removeprefix("ray://").split("/", 1)[0]
    host, _, port = target.rpartition(":")
    if not host or not port.isdecimal():
        return ""  # Ray explains a malformed address itself
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=5):
            return ""
    except OSError as exc:
        return exc.strerror or str(exc) or type(exc).__name__
