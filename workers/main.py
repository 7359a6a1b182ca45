"""The worker processes' entry point: ``python -m dramatiq workers.main:broker``.

Dramatiq imports this module in each worker process it starts. Here, and only
here, the environment is read, logging configured, the broker built and the
actors declared on it; each worker process warms up right after it boots.
"""

from __future__ import annotations

from flyte.config import Settings
from flyte.logging import configure_logging
from flyte.metrics import get_metrics
from flyte.metrics import prepare_multiprocess_dir
from workers.actors import declare_actors
from workers.broker import build_broker
from workers.context import ProcessContext
from workers.inspectors import build_queue_inspector
from workers.inspectors import queued_events
from workers.metrics import add_message_metrics
from workers.queue import DramatiqQueue
from workers.warmup import WarmUp

settings = Settings.from_env()
configure_logging(settings)
if settings.metrics_multiproc_dir:
    prepare_multiprocess_dir(settings.metrics_multiproc_dir)
broker = build_broker(settings)
add_message_metrics(broker, get_metrics())
context = ProcessContext(
    settings, DramatiqQueue(broker), queued_events(build_queue_inspector(broker))
)
declare_actors(broker, context)
broker.add_middleware(WarmUp(context))
