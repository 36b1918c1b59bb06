"""The study circle over HTTP: meetings, questions and answers, membership."""

from __future__ import annotations

from typing import Any

from peernode.clock import now_ms
from tests.peernode.api.conftest import ApiNode


class Client:
    """A post-scoped client of one node's API."""

    def __init__(self, api_node: ApiNode) -> None:
        self.api_node = api_node
        self.headers = api_node.token("poster", "post")

    async def post(self, path: str, body: dict[str, Any], status: int = 201) -> dict[str, Any]:
        url = self.api_node.base + path
        async with self.api_node.http.post(url, headers=self.headers, json=body) as response:
            answer: dict[str, Any] = await response.json()
            assert response.status == status, answer
        return answer

    async def get(self, path: str) -> dict[str, Any]:
        url = self.api_node.base + path
        async with self.api_node.http.get(url, headers=self.headers) as response:
            answer: dict[str, Any] = await response.json()
            assert response.status == 200, answer
        return answer


async def test_schedule_a_meeting_and_read_the_next_one(api_node: ApiNode) -> None:
    client = Client(api_node)
    await api_node.node.circles.create("rust", name="Rust study group")
    starts = now_ms() + 3_600_000
    body = {"starts_at": starts, "duration_minutes": 90, "place": "Library"}
    meeting = (await client.post("/v1/circles/rust/meetings", body))["event"]
    assert meeting["kind"] == "peernode/meeting@1"
    circle = await client.get("/v1/circles/rust")
    assert circle["title"] == "Rust study group"
    assert circle["next_meeting"]["id"] == meeting["id"]
    assert circle["next_meeting"]["ends_at"] == starts + 90 * 60_000
    assert [c["circle"] for c in (await client.get("/v1/circles"))["circles"]] == ["rust"]


async def test_ask_answer_and_resolve(api_node: ApiNode) -> None:
    client = Client(api_node)
    await api_node.node.circles.create("rust", name="Rust study group")
    body = {"title": "What does ? do", "tags": ["errors"]}
    asked = (await client.post("/v1/circles/rust/questions", body))["event"]
    answered = await client.post(f"/v1/questions/{asked['id']}/answers", {"text": "It returns."})
    await client.post(
        f"/v1/questions/{asked['id'][:10]}/resolve", {"answer": answered["event"]["id"]}
    )
    (question,) = (await client.get("/v1/circles/rust/questions"))["questions"]
    assert question["title"] == "What does ? do"
    assert question["tags"] == ["errors"]
    assert question["status"] == "resolved"
    assert question["helped"] == answered["event"]["id"]
    assert [a["text"] for a in question["answers"]] == ["It returns."]


async def test_circle_errors_are_one_sentence(api_node: ApiNode) -> None:
    client = Client(api_node)
    missing = await client.post("/v1/questions/" + "ab" * 32 + "/answers", {"text": "x"}, 400)
    assert missing["error"]["code"] == "bad_request"
    url = api_node.base + "/v1/circles/nowhere"
    async with api_node.http.get(url, headers=client.headers) as response:
        assert response.status == 404
        assert "GET /v1/circles" in (await response.json())["error"]["message"]


async def test_leave_and_join_again(api_node: ApiNode) -> None:
    client = Client(api_node)
    await api_node.node.circles.create("rust", name="Rust study group")
    await client.post("/v1/circles/rust/leave", {"message": "busy term"})
    assert (await client.get("/v1/circles/rust"))["members"] == []
    await client.post("/v1/circles/rust/join", {})
    assert (await client.get("/v1/circles/rust"))["members"] == [api_node.node.public_key.hex()]
