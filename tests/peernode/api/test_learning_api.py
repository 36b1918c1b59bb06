"""Files and challenges over HTTP: real nodes on loopback, real sockets, real SQLite."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

from peernode.challenges.model import Criterion
from peernode.home import Home
from peernode.node import Node, NodeConfig
from protocol.badge_proof import verify_proof
from tests.peernode.api.conftest import ApiNode, StartNode
from tests.support.waiting import eventually

CRITERIA = [
    Criterion("Correct", "Every query returns the rows asked for."),
    Criterion("Explained", "One sentence says why each query is so."),
]


async def call(
    api_node: ApiNode,
    method: str,
    path: str,
    headers: dict[str, str],
    body: dict[str, Any] | None = None,
    status: int = 200,
) -> dict[str, Any]:
    url = api_node.base + path
    async with api_node.http.request(method, url, headers=headers, json=body) as response:
        answer: dict[str, Any] = await response.json()
        assert response.status == status, answer
    return answer


async def test_a_file_shared_by_path_is_listed_and_fetched_by_a_linked_node(
    start_api_node: StartNode, tmp_path: Path
) -> None:
    data = random.Random(3).randbytes(70_000)
    source = tmp_path / "week1.pdf"
    source.write_bytes(data)
    async with start_api_node("ada") as ada, start_api_node("ben") as ben:
        await ada.node.circles.create("sql", name="SQL basics")
        admin = ada.token("admin", "admin")
        share = {"path": str(source), "title": "Week 1", "tags": ["joins"]}
        event = (await call(ada, "POST", "/v1/circles/sql/files", admin, share, 201))["event"]
        assert event["kind"] == "peernode/file@1"
        assert ada.node._network is not None
        port = ada.node._network.port
        await call(
            ben,
            "POST",
            "/v1/peers",
            ben.token("root", "admin"),
            {"host": "127.0.0.1", "port": port},
        )

        reader, fetcher = ben.token("reader"), ben.token("fetcher", "files")

        async def listed() -> list[dict[str, Any]]:
            return (await call(ben, "GET", "/v1/circles/sql/files", reader))["files"]

        (shown,) = await eventually(listed, "the file event at Ben's")
        assert (shown["title"], shown["size"], shown["presence"]) == ("Week 1", 70_000, "missing")
        fetch = f"/v1/files/{event['id'][:12]}/fetch"
        await call(ben, "POST", fetch, reader, {}, 403)
        started = await call(ben, "POST", fetch, fetcher, {"in_order": True}, 202)
        assert started["file"]["id"] == event["id"]

        async def done() -> dict[str, Any] | None:
            status = await call(ben, "GET", f"/v1/files/{event['id']}", reader)
            return status if status["done"] else None

        status = await eventually(done, "the fetch")
        assert (status["have_bytes"], status["error"]) == (70_000, "")
        assert status["file"]["presence"] == "here"
        saved = await ben.node.files.save(event["id"], tmp_path / "out")
        assert saved.read_bytes() == data


async def test_sharing_by_path_needs_admin_and_is_refused_to_web_pages(
    api_node: ApiNode, tmp_path: Path
) -> None:
    await api_node.node.circles.create("sql", name="SQL basics")
    secret = tmp_path / "secret.txt"
    secret.write_text("not for the room")
    share = {"path": str(secret)}
    files = api_node.token("files", "files")
    answer = await call(api_node, "POST", "/v1/circles/sql/files", files, share, 403)
    assert answer["error"]["code"] == "wrong_scope"
    page = "http://localhost:5173"
    admin_page = {**api_node.token("page", "admin", origins=(page,)), "Origin": page}
    answer = await call(api_node, "POST", "/v1/circles/sql/files", admin_page, share, 403)
    assert answer["error"]["code"] == "bad_origin"
    admin = api_node.token("admin", "admin")
    relative = {"path": "secret.txt"}
    answer = await call(api_node, "POST", "/v1/circles/sql/files", admin, relative, 400)
    assert "absolute" in answer["error"]["message"]
    nowhere = {"path": str(tmp_path / "nowhere.txt")}
    answer = await call(api_node, "POST", "/v1/circles/sql/files", admin, nowhere, 400)
    assert answer["error"]["code"] == "bad_request"
    assert await api_node.node.files.list("sql") == []
    missing = await call(api_node, "GET", "/v1/files/00112233aabb", admin, status=404)
    assert missing["error"]["code"] == "not_found"


async def test_challenge_start_submit_review_badge_and_proof(
    api_node: ApiNode, tmp_path: Path
) -> None:
    ada = api_node.node
    poster = api_node.token("poster", "post")
    await ada.circles.create("sql", name="SQL basics")
    created = await ada.challenges.create(
        "sql", title="Joins", question="Which customers never ordered?",
        tasks=["Write three joins"], criteria=CRITERIA, badge="Join explorer", k=1,
    )  # fmt: skip
    async with Node(Home(tmp_path / "ben"), NodeConfig(watch=False, api=None)) as ben:
        await ben.create_identity("Ben")
        await ben.ingest(await ada.raw_events([i for _, i in await ada.time_index()]))
        await ben.circles.join("sql")
        await ben.challenges.start(created.id)
        work = await ben.challenges.submit(created.id, text="# My joins")
        await ada.ingest(await ben.raw_events([i for _, i in await ben.time_index()]))

    (listed,) = (await call(api_node, "GET", "/v1/circles/sql/challenges", poster))["challenges"]
    assert (listed["id"], listed["current"]["title"]) == (created.id.hex(), "Joins")
    shown = await call(api_node, "GET", f"/v1/challenges/{created.id.hex()[:10]}", poster)
    assert shown["current"]["criteria"] == [c.to_json() for c in CRITERIA]
    assert [s["id"] for s in shown["submissions"]] == [work.id.hex()]

    base = f"/v1/challenges/{created.id.hex()}"
    await call(api_node, "POST", f"{base}/start", poster, {"message": "on it"}, 201)
    bad = await call(api_node, "POST", f"{base}/submissions", poster, {"files": ["ab"]}, 400)
    assert "64 hex digits" in bad["error"]["message"]
    answer = await call(api_node, "POST", f"{base}/submissions", poster, {"text": "mine"}, 201)
    assert answer["event"]["kind"] == "peernode/submission@1"
    own = f"/v1/submissions/{answer['event']['id']}/reviews"
    refused = await call(api_node, "POST", own, poster, {"approve": True}, 400)
    assert "own work" in refused["error"]["message"]
    review = {"approve": True, "works": "Clear"}
    await call(api_node, "POST", f"/v1/submissions/{work.id.hex()}/reviews", poster, review, 201)

    (badge,) = (await call(api_node, "GET", "/v1/badges", poster))["badges"]
    assert (badge["badge"], badge["submission"]) == ("Join explorer", work.id.hex())
    mine = await call(api_node, "GET", f"/v1/badges?holder={ada.public_key.hex()}", poster)
    assert mine["badges"] == []
    proof = await call(api_node, "GET", f"/v1/badges/{work.id.hex()}/proof", poster)
    raws = [bytes.fromhex(raw) for raw in proof["proof"]["events"]]
    assert verify_proof(raws, work.id).badge.submission == work.id
    assert {e["author_name"] for e in proof["events"]} >= {"Ada", "Ben"}
    await call(api_node, "GET", f"/v1/badges/{created.id.hex()}/proof", poster, status=404)
    await call(api_node, "GET", "/v1/challenges/00112233aabb", poster, status=404)
