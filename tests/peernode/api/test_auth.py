"""Who may use the API: tokens (401), scopes (403), the Host and Origin checks, CORS."""

from __future__ import annotations

from peernode.api import TokenBook
from tests.peernode.api.conftest import ApiNode

NOTE = {"kind": "peernode/note@1", "circle": "lobby", "body": {"text": "hi"}}


async def _error(response: object) -> tuple[int, str, str]:
    status = response.status  # type: ignore[attr-defined]
    body = await response.json()  # type: ignore[attr-defined]
    return status, body["error"]["code"], body["error"]["message"]


async def test_no_token_is_401_and_says_how_to_get_one(api_node: ApiNode) -> None:
    async with api_node.http.get(api_node.base + "/v1/status") as response:
        status, code, message = await _error(response)
    assert (status, code) == (401, "missing_token")
    assert "peernode api token add" in message


async def test_an_unknown_token_is_401(api_node: ApiNode) -> None:
    headers = {"Authorization": "Bearer pn1_not-a-token"}
    async with api_node.http.get(api_node.base + "/v1/status", headers=headers) as response:
        assert (await _error(response))[:2] == (401, "bad_token")


async def test_a_read_token_reads_but_may_not_post(api_node: ApiNode) -> None:
    headers = api_node.token("reader", "read")
    async with api_node.http.get(api_node.base + "/v1/status", headers=headers) as response:
        assert response.status == 200
        assert (await response.json())["name"] == "Ada"
    async with api_node.http.post(
        api_node.base + "/v1/events", headers=headers, json=NOTE
    ) as response:
        status, code, message = await _error(response)
    assert (status, code) == (403, "wrong_scope")
    assert "--scope post" in message


async def test_post_and_admin_scopes(api_node: ApiNode) -> None:
    poster, admin = api_node.token("poster", "post"), api_node.token("admin", "admin")
    for headers in (poster, admin):
        async with api_node.http.post(
            api_node.base + "/v1/events", headers=headers, json=NOTE
        ) as response:
            assert response.status == 201
    body = {"host": "127.0.0.1", "port": 1}
    async with api_node.http.post(api_node.base + "/v1/peers", headers=poster, json=body) as r:
        assert (await _error(r))[:2] == (403, "wrong_scope")


async def test_a_removed_token_stops_working_at_once(api_node: ApiNode) -> None:
    headers = api_node.token("gone", "read")
    TokenBook(api_node.node.home).remove("gone")
    async with api_node.http.get(api_node.base + "/v1/status", headers=headers) as response:
        assert (await _error(response))[:2] == (401, "bad_token")


async def test_a_host_that_is_not_loopback_is_refused(api_node: ApiNode) -> None:
    """DNS rebinding: a page at evil.example resolved to 127.0.0.1 sends its own Host."""
    headers = {**api_node.token("reader", "read"), "Host": "evil.example"}
    async with api_node.http.get(api_node.base + "/v1/status", headers=headers) as response:
        assert (await _error(response))[:2] == (403, "bad_host")
    headers["Host"] = "localhost:1234"
    async with api_node.http.get(api_node.base + "/v1/status", headers=headers) as response:
        assert response.status == 200


async def test_origins_are_refused_unless_the_token_names_them(api_node: ApiNode) -> None:
    plain = api_node.token("script", "read")
    page = api_node.token("page", "read", origins=("http://localhost:5173",))
    url = api_node.base + "/v1/status"
    evil = {"Origin": "http://evil.example"}
    async with api_node.http.get(url, headers={**plain, **evil}) as response:
        assert (await _error(response))[:2] == (403, "bad_origin")
    async with api_node.http.get(url, headers={**page, **evil}) as response:
        assert (await _error(response))[:2] == (403, "bad_origin")
    good = {"Origin": "http://localhost:5173"}
    async with api_node.http.get(url, headers={**page, **good}) as response:
        assert response.status == 200
        assert response.headers["Access-Control-Allow-Origin"] == "http://localhost:5173"
    async with api_node.http.get(url, headers=plain) as response:
        assert "Access-Control-Allow-Origin" not in response.headers  # no CORS by default


async def test_a_preflight_is_answered_only_for_a_named_origin(api_node: ApiNode) -> None:
    api_node.token("page", "post", origins=("http://localhost:5173",))
    url = api_node.base + "/v1/events"
    async with api_node.http.options(url, headers={"Origin": "http://localhost:5173"}) as r:
        assert r.status == 204
        assert "Authorization" in r.headers["Access-Control-Allow-Headers"]
    async with api_node.http.options(url, headers={"Origin": "http://evil.example"}) as r:
        assert (await _error(r))[:2] == (403, "bad_origin")


async def test_the_stream_checks_the_token_and_the_origin_too(api_node: ApiNode) -> None:
    url = api_node.base + "/v1/stream"
    async with api_node.http.get(url) as response:
        assert (await _error(response))[:2] == (401, "missing_token")
    headers = {**api_node.token("reader", "read"), "Origin": "http://evil.example"}
    async with api_node.http.get(url, headers=headers) as response:
        assert (await _error(response))[:2] == (403, "bad_origin")


async def test_the_api_listens_on_ipv6_loopback_too(api_node: ApiNode) -> None:
    assert api_node.node.api is not None
    url = f"http://[::1]:{api_node.node.api.port}/v1/status"
    async with api_node.http.get(url, headers=api_node.token("reader", "read")) as response:
        assert response.status == 200


async def test_the_openapi_document_needs_no_token(api_node: ApiNode) -> None:
    async with api_node.http.get(api_node.base + "/v1/openapi.json") as response:
        document = await response.json()
    assert document["openapi"] == "3.1.0"
    assert "/v1/events" in document["paths"]
