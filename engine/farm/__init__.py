"""Where jobs run: on the engine's own worker thread (default) or on a Ray cluster.

The :class:`~engine.runtime.Engine` keeps its queue, priorities, cache and events either way;
an executor only decides where a keyframe or clip job's pixels are made.

- :class:`~engine.executor.LocalExecutor` (the default): one job at a time on the engine's
  worker thread, which owns the device.
- :class:`RayExecutor` (:mod:`engine.farm.executor`): model jobs on one long-lived actor per GPU
  (:mod:`engine.farm.gpu_actor`) that keeps its models loaded; the built-in CPU backends as
  plain Ray tasks; :mod:`engine.farm.collect` follows the jobs there (progress, retries, cancel).
  The job body is :mod:`engine.farm.worker`; files travel as :mod:`engine.farm.transport` says;
  :mod:`engine.farm.versions` refuses nodes that run other versions or hold other model files;
  :mod:`engine.farm.hub` carries progress and cancel.

Nothing here imports Ray at module level: a local engine never pays for it.
"""

from engine.executor import LocalExecutor
from engine.farm.collect import MAX_TRIES
from engine.farm.executor import GpuSlot, RayExecutor, ray_engine
from engine.farm.hub import FarmHub

__all__ = ["MAX_TRIES", "FarmHub", "GpuSlot", "LocalExecutor", "RayExecutor", "ray_engine"]
