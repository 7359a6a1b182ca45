"""The console's pages over HTTP, against the real test servers."""

from __future__ import annotations

from falcon import testing


def test_overview_renders_as_html(client: testing.TestClient) -> None:
    result = client.simulate_get("/console")
    assert result.status_code == 200
    assert result.headers["Content-Type"] == "text/html; charset=utf-8"
    assert 'id="overview"' in result.text


def test_unknown_console_path_renders_the_404_page(client: testing.TestClient) -> None:
    result = client.simulate_get("/console/nowhere")
    assert result.status_code == 404
    assert 'id="not-found"' in result.text


def test_console_css_is_served(client: testing.TestClient) -> None:
    result = client.simulate_get("/console/static/console.css")
    assert result.status_code == 200


def test_pages_answer_head_like_get(client: testing.TestClient) -> None:
    for path in ("/console", "/console/events", "/console/overview.json"):
        result = client.simulate_head(path)
        assert result.status_code == 200, path
        assert result.content == b""
