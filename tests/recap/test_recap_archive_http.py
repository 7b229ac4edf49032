"""The archive app over HTTP (Starlette's test client): routes, token, escaping, downloads."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from bot.web.app import create_app
from bot.web.auth import COOKIE
from bot.web.config import ArchiveConfig
from tests.recap.helpers import HTML_ANSWER

TOKEN = "tea-leaves-4517"



@pytest.fixture(scope="module")
def client(archive_db: str) -> Iterator[TestClient]:
    app = create_app(ArchiveConfig(archive_db, public_url="https://chats.example.org"))
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def private(archive_db: str) -> Iterator[TestClient]:
    app = create_app(ArchiveConfig(archive_db, token=TOKEN))
    with TestClient(app, follow_redirects=False) as test_client:
        yield test_client


def test_health(client: TestClient, private: TestClient) -> None:
    for c in (client, private):
        answer = c.get("/healthz")
        assert answer.status_code == 200 and answer.json() == {"status": "ok"}


def test_list_chat_and_run_pages(client: TestClient) -> None:
    index = client.get("/")
    assert index.status_code == 200 and "Tea Chat" in index.text
    assert 'href="/runs/1"' in index.text and 'href="/runs/2"' in index.text
    chat = client.get("/chats/tea")
    assert chat.status_code == 200 and 'src="/chats/tea/trends.png"' in chat.text
    run = client.get("/runs/1")
    assert run.status_code == 200
    for needle in ('data-question="Q1"', 'data-question="Q3"', "host pick", 'data-kind="host"',
                   'src="/runs/1/wordcloud.png"', 'href="/runs/1/export.csv"'):
        assert needle in run.text, needle


def test_user_text_is_escaped(client: TestClient) -> None:
    page = client.get("/runs/1").text
    assert HTML_ANSWER not in page and "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "شاي بالنعناع" in page and 'dir="auto"' in page


def test_images_are_pngs(client: TestClient) -> None:
    for path in ("/runs/1/wordcloud.png", "/chats/tea/trends.png"):
        answer = client.get(path)
        assert answer.status_code == 200 and answer.headers["content-type"] == "image/png"
        assert answer.content.startswith(b"\x89PNG")


def test_downloads(client: TestClient) -> None:
    for fmt in ("md", "html", "json", "csv"):
        answer = client.get(f"/runs/1/export.{fmt}")
        assert answer.status_code == 200
        assert answer.headers["content-disposition"] == (
            f'attachment; filename="tea-2026-12-01-run1.{fmt}"'
        )
    doc = client.get("/runs/1/export.json").json()
    assert doc["run"]["url"] == "https://chats.example.org/runs/1"
    rows = list(csv.DictReader(io.StringIO(client.get("/runs/1/export.csv").content.decode("utf-8-sig"))))
    assert len(rows) == doc["stats"]["messages"]
    picks = [m for q in doc["questions"] for m in q["replies"] if m["highlighted"]]
    assert [m["user"] for m in picks] == ["bob"]  # the /highlight the fixture stored


def test_missing_things_are_404_and_the_archive_is_read_only(client: TestClient) -> None:
    for path in ("/runs/999", "/chats/coffee", "/runs/1/export.pdf", "/runs/999/export.md"):
        answer = client.get(path)
        assert answer.status_code == 404, path
    assert "No such run" in client.get("/runs/999").text
    assert client.post("/runs/1").status_code == 405
    assert client.delete("/").status_code == 405


def test_pages_forbid_scripts(client: TestClient) -> None:
    answer = client.get("/runs/1")
    assert "default-src 'none'" in answer.headers["content-security-policy"]
    assert "script-src" not in answer.headers["content-security-policy"]
    assert answer.headers["x-content-type-options"] == "nosniff"


def test_token_protects_everything_but_health(private: TestClient) -> None:
    private.cookies.clear()
    for path in ("/", "/chats/tea", "/runs/1", "/runs/1/export.csv", "/runs/1/wordcloud.png"):
        assert private.get(path).status_code == 401, path
    assert private.get("/runs/1?token=wrong").status_code == 401
    assert private.get("/", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200
    assert private.get("/", headers={"Authorization": "Bearer nope"}).status_code == 401


def test_serve_command_runs_the_archive_app(
    archive_db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import uvicorn

    from bot.cli import main

    seen: dict[str, object] = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: seen.update(app=app, **kw))
    monkeypatch.setenv("ARCHIVE_TOKEN", TOKEN)
    assert main(["serve", "--port", "8123", "--db", archive_db]) == 0
    assert (seen["host"], seen["port"]) == ("127.0.0.1", 8123)
    with TestClient(seen["app"]) as served:  # type: ignore[arg-type]
        assert served.get("/").status_code == 401
        assert served.get("/", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200


def test_token_once_then_cookie(private: TestClient) -> None:
    private.cookies.clear()
    first = private.get(f"/runs/1?token={TOKEN}&view=full")
    assert first.status_code == 303 and first.headers["location"] == "/runs/1?view=full"
    cookie = first.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}=") and "HttpOnly" in cookie and TOKEN not in cookie
    assert private.get("/runs/1").status_code == 200  # the client kept the cookie
    assert json.loads(private.get("/runs/1/export.json").content)["run"]["id"] == 1
    private.cookies.clear()
