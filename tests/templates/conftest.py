"""Fixtures for the template engine tests: an engine and upstream's test context."""

from __future__ import annotations

import random
from typing import Any

import pytest

from templates import TemplateEngine


class FixedRandom(random.Random):
    """A random source whose randrange always answers ``value`` (and records bounds)."""

    def __init__(self, value: int) -> None:
        super().__init__(0)
        self.value = value
        self.bounds: list[int] = []

    def randrange(self, start: int, *args: Any, **kwargs: Any) -> int:  # type: ignore[override]
        self.bounds.append(start)
        return self.value


@pytest.fixture
def engine() -> TemplateEngine:
    """A default engine (1 MB output, 1 s per render)."""
    return TemplateEngine()


@pytest.fixture
def context() -> dict[str, Any]:
    """Upstream's ``testContext()`` from template_test.go, plus a few extras."""
    return {
        "Event": {
            "Name": "InventoryUpdateSuccess",
            "Pack": {
                "Id": "Flyte-env=staging",
                "Name": "Flyte",
                "Labels": {"env": "staging", "network": "lab"},
            },
            "Payload": {
                "status": "success",
                "product": "flyte",
                "toBase64": "ʘ‿ʘ",
                "fromBase64": "ypjigL_KmA",
                "commits": [{"commitId": 1234}, {"commitId": 2345}, {"commitId": 3456}],
                "statusDetail": {"success": True},
                "label": "CSVC.59.0.28",
                "metadata": {"rb": "1", "_PreviousLabel": "CSVC.59.0.29"},
                "keyValuePairs": "bn=100,ENV=staging,CMP=flyte, LBL= 1.2.3",
                "timestamp": "2018-02-14T23:18:09.0481031Z",
                "items": ["a", "b"],
                "count": 3,
                "ratio": 2.5,
                "whole": 3.0,
                "nothing": None,
                "flag": True,
                "empty": "",
            },
            "CreatedAt": "2018-02-14T23:18:09Z",
            "ReceivedAt": "2018-02-14T23:18:10Z",
        },
        "Context": {"hipchat_room": "123", "status": "pending"},
    }
