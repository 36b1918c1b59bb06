"""A study buddy for one circle, using only peernode's local API (HTTP and WebSocket).

It answers `!next` in the circle's channel with the next meeting, and posts a reminder
10 minutes before each meeting. Its posts are signed by the node it talks to.

    peernode api token add buddy --scope post
    python examples/study_buddy.py --url "$(peernode api url)" --token pn1_... CIRCLE

It needs aiohttp only (any HTTP and WebSocket client would do); see docs/api.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import time
from datetime import datetime
from typing import Any

import aiohttp

NOTE = "peernode/note@1"
MINUTE_MS = 60_000


class StudyBuddy:
    """Answers `!next` and reminds the circle of its meetings."""

    def __init__(
        self,
        url: str,
        token: str,
        circle: str,
        *,
        remind_before_ms: int = 10 * MINUTE_MS,
        check_every: float = 30.0,
    ) -> None:
        self.url = url.rstrip("/")
        self.circle = circle
        self.remind_before_ms = remind_before_ms
        self.check_every = check_every
        self._headers = {"Authorization": f"Bearer {token}"}

    async def run(self) -> None:
        async with aiohttp.ClientSession(headers=self._headers) as http:
            await asyncio.gather(self.answer(http), self.remind(http))

    async def answer(self, http: aiohttp.ClientSession) -> None:
        """Follow the circle's notes live, and answer every `!next`."""
        async with http.get(f"{self.url}/v1/status") as response:
            after_seq = (await self._json(response))["max_seq"]  # only what comes from now on
        async with http.ws_connect(f"{self.url}/v1/stream") as ws:
            await ws.send_json(
                {"type": "subscribe", "circle": self.circle, "kind": NOTE, "after_seq": after_seq}
            )
            async for message in ws:
                data = message.json()
                if data["type"] == "overflow":
                    raise RuntimeError("fell behind the stream; start again")
                if data["type"] == "event" and data["event"]["body"].get("text") == "!next":
                    await self._post(http, await self.next_meeting_text(http), data["event"]["id"])

    async def remind(self, http: aiohttp.ClientSession) -> None:
        """Post a reminder once for each meeting about to start."""
        while True:
            circle = await self._circle(http)
            now = int(time.time() * 1000)
            for meeting in circle["meetings"]:
                until = meeting["starts_at"] - now
                if 0 < until <= self.remind_before_ms:
                    minutes = max(1, round(until / MINUTE_MS))
                    text = f"Reminder: {circle['title']} meets in {minutes} min{_at(meeting)}."
                    # The same key twice posts once: a restarted buddy does not repeat itself.
                    await self._post(http, text, key=f"reminder-{meeting['id']}")
            await asyncio.sleep(self.check_every)

    async def next_meeting_text(self, http: aiohttp.ClientSession) -> str:
        meeting = (await self._circle(http))["next_meeting"]
        if meeting is None:
            return "No meeting is scheduled yet."
        when = datetime.fromtimestamp(meeting["starts_at"] / 1000).strftime("%a %d %b, %H:%M")
        return f"Next meeting: {when}{_at(meeting)}."

    async def _circle(self, http: aiohttp.ClientSession) -> dict[str, Any]:
        async with http.get(f"{self.url}/v1/circles/{self.circle}") as response:
            return await self._json(response)

    async def _post(
        self, http: aiohttp.ClientSession, text: str, reply_to: str | None = None, key: str = ""
    ) -> None:
        event = {"kind": NOTE, "circle": self.circle, "body": {"text": text}}
        if reply_to is not None:
            event["refs"] = {"reply_to": reply_to}
        headers = {"Idempotency-Key": key} if key else {}
        async with http.post(f"{self.url}/v1/events", json=event, headers=headers) as response:
            await self._json(response)

    @staticmethod
    async def _json(response: aiohttp.ClientResponse) -> dict[str, Any]:
        body: dict[str, Any] = await response.json()
        if response.status >= 400:
            raise RuntimeError(body["error"]["message"])
        return body


def _at(meeting: dict[str, Any]) -> str:
    return f" at {meeting['place']}" if meeting["place"] else ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("circle", help="the circle's slug")
    parser.add_argument("--url", required=True, help="the output of 'peernode api url'")
    parser.add_argument("--token", required=True, help="a token with --scope post")
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(StudyBuddy(args.url, args.token, args.circle).run())


if __name__ == "__main__":
    main()
