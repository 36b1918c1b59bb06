"""Reading and posting events over HTTP: the sequence, filters, idempotency, the rate limit."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from peernode.api import ApiConfig
from peernode.api.openapi import text as openapi_text
from protocol.event import decode_event
from tests.peernode.api.conftest import ApiNode, StartNode
from tests.peernode.api.helpers import store_notes

NOTE = {"kind": "peernode/note@1", "circle": "lobby", "body": {"text": "from a script"}}
DOCUMENT = Path(__file__).parents[3] / "docs" / "api" / "openapi.json"


async def test_events_page_by_seq_with_filters(api_node: ApiNode) -> None:
    headers = api_node.token("reader", "read")
    ids = await store_notes(api_node.node, 25)
    url = api_node.base + "/v1/events"
    seen: list[str] = []
    after = 0
    while True:
        query = {"after_seq": str(after), "limit": "10", "kind": "peernode/note@1"}
        async with api_node.http.get(url, headers=headers, params=query) as response:
            page = await response.json()
        seen += [event["id"] for event in page["events"]]
        after = page["next_after_seq"]
        if not page["more"]:
            break
    assert seen == ids
    query = {"after_seq": str(after)}
    async with api_node.http.get(url, headers=headers, params=query) as response:
        assert (await response.json())["events"] == []
    note = await api_node.node.post("a late arrival")
    async with api_node.http.get(url, headers=headers, params=query) as response:
        assert [event["id"] for event in (await response.json())["events"]] == [note.id.hex()]


async def test_a_bad_parameter_is_a_400_that_names_it(api_node: ApiNode) -> None:
    headers = api_node.token("reader", "read")
    params = {"limit": "many"}
    async with api_node.http.get(api_node.base + "/v1/events", headers=headers, params=params) as r:
        body = await r.json()
    assert r.status == 400
    assert body["error"]["code"] == "bad_request"
    assert body["error"]["message"].startswith("limit must be")


async def test_one_event_with_its_signed_bytes(api_node: ApiNode) -> None:
    headers = api_node.token("reader", "read")
    note = await api_node.node.post("sign me")
    url = f"{api_node.base}/v1/events/{note.id.hex()[:12]}"
    async with api_node.http.get(url, headers=headers, params={"raw": "true"}) as response:
        event = await response.json()
    assert event["id"] == note.id.hex()
    assert decode_event(base64.b64decode(event["raw"])).id == note.id
    async with api_node.http.get(api_node.base + "/v1/events/" + "ab" * 32, headers=headers) as r:
        assert r.status == 404
        assert (await r.json())["error"]["code"] == "not_found"


async def test_posting_signs_as_the_node_and_shows_in_the_feed(api_node: ApiNode) -> None:
    headers = api_node.token("poster", "post")
    async with api_node.http.post(api_node.base + "/v1/events", headers=headers, json=NOTE) as r:
        assert r.status == 201
        event = (await r.json())["event"]
    assert event["author"] == api_node.node.public_key.hex()
    async with api_node.http.get(
        api_node.base + "/v1/feed", headers=headers, params={"channel": "lobby"}
    ) as response:
        items = (await response.json())["items"]
    assert [item["body"]["text"] for item in items] == ["from a script"]


async def test_an_invalid_event_is_refused_in_one_sentence(api_node: ApiNode) -> None:
    headers = api_node.token("poster", "post")
    bad = {**NOTE, "body": {"text": ""}}
    async with api_node.http.post(api_node.base + "/v1/events", headers=headers, json=bad) as r:
        body = await r.json()
    assert r.status == 400
    assert body["error"]["code"] == "bad_request"
    async with api_node.http.post(
        api_node.base + "/v1/events", headers=headers, json={"circle": "lobby"}
    ) as r:
        assert "kind" in (await r.json())["error"]["message"]


async def test_an_idempotency_key_posts_once(api_node: ApiNode) -> None:
    headers = {**api_node.token("poster", "post"), "Idempotency-Key": "retry-1"}
    url = api_node.base + "/v1/events"
    async with api_node.http.post(url, headers=headers, json=NOTE) as first:
        first_id = (await first.json())["event"]["id"]
    async with api_node.http.post(url, headers=headers, json=NOTE) as again:
        assert again.status == 201
        assert again.headers["Idempotent-Replayed"] == "true"
        assert (await again.json())["event"]["id"] == first_id
    other = {**NOTE, "body": {"text": "something else"}}
    async with api_node.http.post(url, headers=headers, json=other) as conflict:
        assert conflict.status == 409
        assert (await conflict.json())["error"]["code"] == "idempotency_conflict"
    assert len(await api_node.node.feed("lobby")) == 1


async def test_posts_beyond_the_token_rate_get_429(start_api_node: StartNode) -> None:
    async with start_api_node(config=ApiConfig(post_rate=0.01, post_burst=3)) as api_node:
        headers = api_node.token("poster", "post")
        statuses = []
        for _ in range(4):
            async with api_node.http.post(
                api_node.base + "/v1/events", headers=headers, json=NOTE
            ) as response:
                statuses.append(response.status)
                body = await response.json()
        other = api_node.token("other", "post")
        async with api_node.http.post(
            api_node.base + "/v1/events", headers=other, json=NOTE
        ) as response:
            assert response.status == 201  # per token
    assert statuses == [201, 201, 201, 429]
    assert body["error"]["code"] == "rate_limited"


def test_the_rate_limit_stays_below_the_gossip_push_budget() -> None:
    with pytest.raises(ValueError, match="push budget"):
        ApiConfig(post_rate=1000)


async def test_status_gives_the_store_id_and_sequence(api_node: ApiNode) -> None:
    headers = api_node.token("reader", "read")
    await store_notes(api_node.node, 3)
    async with api_node.http.get(api_node.base + "/v1/status", headers=headers) as response:
        status = await response.json()
    assert status["max_seq"] == 4  # the profile, then three notes
    assert len(status["store_id"]) == 16


async def test_forgetting_events_renews_the_store_id(api_node: ApiNode) -> None:
    """Deleted rows free their seqs for reuse: a client must start again, and is told so."""
    headers = api_node.token("reader", "read")
    url = api_node.base + "/v1/status"
    async with api_node.http.get(url, headers=headers) as response:
        before = (await response.json())["store_id"]
    await api_node.node.forget_authors([api_node.node.public_key])
    async with api_node.http.get(url, headers=headers) as response:
        assert (await response.json())["store_id"] != before


def test_the_committed_openapi_document_is_current() -> None:
    assert DOCUMENT.read_text() == openapi_text(), (
        "docs/api/openapi.json is out of date: python -m peernode.api.openapi docs/api/openapi.json"
    )
    assert json.loads(DOCUMENT.read_text())["info"]["title"] == "peernode local API"
