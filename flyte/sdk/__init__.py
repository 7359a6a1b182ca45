"""The Python pack SDK: declare a pack's commands, then run it against a Flyte API.

pack = Pack("Hello", labels={"env": "dev"})

@pack.command("Greet", events=["Greeted"])
def greet(name):
    return Event("Greeted", {"greeting": f"hello {name}"})

pack.run()   # FLYTE_API, FLYTE_LABELS, FLYTE_API_TIMEOUT, FLYTE_JWT
"""

from __future__ import annotations

from flyte.sdk.client import ApiClient
from flyte.sdk.config import ClientConfig
from flyte.sdk.definition import FATAL
from flyte.sdk.definition import Event
from flyte.sdk.definition import EventDef
from flyte.sdk.definition import fatal_event
from flyte.sdk.errors import ClientError
from flyte.sdk.health import Health
from flyte.sdk.pack import Pack

__all__ = [
    "FATAL",
    "ApiClient",
    "ClientConfig",
    "ClientError",
    "Event",
    "EventDef",
    "Health",
    "Pack",
    "fatal_event",
]
