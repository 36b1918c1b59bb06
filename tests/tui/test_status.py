"""The status bar's sync indicator ('✓ in sync with N of M peers'), fed statuses directly."""

from __future__ import annotations

from textual.app import App, ComposeResult

from peernode.views import NodeStatus, PeerStatus
from tests.tui.helpers import ANA, BO, CHEN, NOW
from tui.widgets.status import StatusBar, SyncIndicator, identity_text, sync_text


def peer(key: bytes, *, linked: bool, in_sync: bool) -> PeerStatus:
    return PeerStatus(
        key=key,
        name="peer",
        address="192.168.1.2:7654",
        linked=linked,
        in_sync=in_sync,
        last_seen=NOW,
        events_exchanged=3,
    )


def status(*peers: PeerStatus) -> NodeStatus:
    return NodeStatus(key=ANA.public_key, name="Ana", port=7654, events=12, peers=peers)


class IndicatorApp(App[None]):
    def compose(self) -> ComposeResult:
        yield StatusBar()


async def test_in_sync_indicator_counts_peers() -> None:
    app = IndicatorApp()
    async with app.run_test(size=(100, 3)) as pilot:
        bar = app.query_one(StatusBar)
        indicator = app.query_one(SyncIndicator)
        cases = [
            (status(), "○ no one else here yet"),
            (
                status(
                    peer(BO.public_key, linked=True, in_sync=True),
                    peer(CHEN.public_key, linked=True, in_sync=False),
                ),
                "⟳ in sync with 1 of 2 peers",
            ),
            (
                status(
                    peer(BO.public_key, linked=True, in_sync=True),
                    peer(CHEN.public_key, linked=True, in_sync=True),
                ),
                "✓ in sync with 2 of 2 peers",
            ),
        ]
        for given, expected in cases:
            bar.status = given
            await pilot.pause()
            assert indicator.text == expected
            assert str(indicator.render()) == expected
        assert indicator.has_class("-synced")


def test_a_remembered_offline_peer_does_not_hold_back_the_tick() -> None:
    offline = peer(BO.public_key, linked=False, in_sync=True)
    assert sync_text(status(offline)) == "○ no peer online now"
    linked = peer(CHEN.public_key, linked=True, in_sync=True)
    assert sync_text(status(linked, offline)) == "✓ in sync with 1 of 1 peer"
    syncing = peer(CHEN.public_key, linked=True, in_sync=False)
    assert sync_text(status(syncing, offline)) == "⟳ in sync with 0 of 1 peer"
    assert sync_text(None) == "… checking peers"


def test_identity_text_shows_name_key_port_links_and_events() -> None:
    text = identity_text(status(peer(BO.public_key, linked=True, in_sync=True)))
    assert text.startswith("Ana ")
    assert "port 7654" in text
    assert "1 linked" in text
    assert "12 events" in text
