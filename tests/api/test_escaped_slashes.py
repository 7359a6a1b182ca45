"""A pack whose name or labels hold a ``/`` works through its own links.

Its id holds the ``/``, escaped as ``%2F`` in its URLs, which WSGI servers decode
before the app routes. Tested on both servers the API runs on, as packs call it.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from api.app import Dependencies
from api.app import create_app
from api.escaped_slashes import routable_path
from flyte.config import Settings
from flyte.sdk import Event
from flyte.sdk import Pack
from flyte.store import Stores
from tests.conftest import serve as serve_on_cheroot
from tests.conftest import serve_on_waitress
from tests.live import post_flow
from tests.live import start
from tests.live import wait_for_action
from workers.queue import DramatiqQueue


@pytest.mark.parametrize(
    ("raw", "routed"),
    [
        ("/v1/packs/Build.repo.org%2Fapp", "/v1/packs/Build.repo.org%2Fapp"),
        ("/v1/packs/a%2fb%20c/events?x=%2F", "/v1/packs/a%2Fb c/events"),
        # A literal "%2F" in a name stays one, once the field is decoded.
        ("/v1/packs/100%252F%2Fx", "/v1/packs/100%252F%2Fx"),
        ("http://example.com/v1/packs/a%2Fb", "/v1/packs/a%2Fb"),
        ("/v1/packs/plain%20name", None),
    ],
)
def test_the_raw_path_keeps_its_escaped_slashes(raw: str, routed: str | None) -> None:
    assert routable_path(raw) == routed


@pytest.fixture(params=["waitress", "cheroot"])
def api(
    request: pytest.FixtureRequest,
    settings: Settings,
    stores: Stores,
    queue: DramatiqQueue,
    worker: object,
) -> Iterator[str]:
    """The API on a real server of each kind, a worker processing its events."""
    deps = Dependencies(stores=stores, queue=queue, health_checks={})
    app = create_app(settings, deps)
    serve = serve_on_waitress if request.param == "waitress" else serve_on_cheroot
    with serve(app) as url:
        yield url


def test_a_pack_with_a_slash_in_a_label_follows_its_links(api: str) -> None:
    # Given a pack registered with a "/" in a label value
    body = {"name": "Build", "labels": {"repo": "org/app"}, "events": [{"name": "X"}]}
    registered = httpx.post(f"{api}/v1/packs", json=body)
    assert registered.status_code == 201
    self_link = registered.headers["location"]
    assert self_link.endswith("/v1/packs/Build.repo.org%2Fapp")
    links = {
        link["rel"].rsplit("/", 1)[-1]: link["href"]
        for link in registered.json()["links"]
    }
    # Then its own link, its events link and its take link answer
    got = httpx.get(self_link)
    assert got.status_code == 200, got.text
    assert got.json()["id"] == "Build.repo.org/app"
    sent = httpx.post(links["event"], json={"event": "X", "payload": {}})
    assert sent.status_code == 202
    stored = httpx.get(sent.headers["location"]).json()
    assert stored["pack"]["labels"] == {"repo": "org/app"}
    assert httpx.post(links["takeAction"]).status_code == 204
    # And so does its console page
    page = httpx.get(self_link.replace("/v1/packs/", "/console/packs/"))
    assert page.status_code == 200
    assert "org/app" in page.text


def test_an_sdk_pack_named_with_a_slash_runs_its_actions(api: str) -> None:
    # Given a flow for a pack whose name holds a "/", and that pack running
    post_flow(
        api,
        {
            "name": "team-deploy",
            "steps": [
                {
                    "id": "deploy",
                    "event": {"packName": "Chat", "name": "Asked"},
                    "command": {"packName": "team/deploy", "name": "Deploy"},
                }
            ],
        },
    )
    assert httpx.post(f"{api}/v1/packs", json={"name": "Chat"}).status_code == 201
    pack = Pack("team/deploy", labels={"env": "eu/west"}, polling_interval=0.5)
    pack.add_command("Deploy", lambda _: Event("Deployed", {}), events=["Deployed"])
    runner = start(pack, api)
    try:
        # When the trigger event arrives
        asked = httpx.post(f"{api}/v1/packs/Chat/events", json={"event": "Asked"})
        assert asked.status_code == 202
        # Then the pack takes the action and posts its result
        action = wait_for_action(api, "team-deploy", "deploy")
    finally:
        runner.stop()
    assert action["state"]["value"] == "SUCCESS"
