"""The peers list: who this node knows, whether they are online and in sync."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.message import Message
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from peernode.text import relative_time, short_fingerprint
from peernode.views import NodeStatus, PeerStatus
from tui.text import Clock, clip

LOOKING = "Looking for peers on this network…"
NO_PEERS = (
    "No peers found yet on this network.\n"
    "[@click=app.doctor]▸ Check the network[/] (d)\n"
    "[@click=app.add_peer]▸ Add peer by address[/] (a)\n"
    "[@click=app.open_demo]▸ Open the demo room[/] (o)"
)


def peer_state(peer: PeerStatus, now_ms: int) -> str:
    """In words, never colour alone: online/offline, in sync or not."""
    if not peer.linked:
        seen = relative_time(peer.last_seen, now_ms) if peer.last_seen else "never"
        return f"offline · seen {seen}"
    return "online · ✓ in sync" if peer.in_sync else "online · ⟳ syncing"


class PeerList(Vertical):
    """Peers as the node reports them; an offer of help when there are none."""

    class Chosen(Message):
        def __init__(self, peer: PeerStatus) -> None:
            super().__init__()
            self.peer = peer

    def __init__(self, clock: Clock, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.clock = clock
        self.peers: tuple[PeerStatus, ...] = ()
        self.searching = True
        self._drawn_at = 0
        self._searching_shown = True

    def compose(self) -> ComposeResult:
        yield Static(LOOKING, id="peer-empty")
        yield OptionList(id="peer-options")

    def on_mount(self) -> None:
        self.query_one("#peer-options").display = False

    def show(self, status: NodeStatus, *, searching: bool) -> None:
        self.searching = searching
        options = self.query_one("#peer-options", OptionList)
        empty = self.query_one("#peer-empty", Static)
        now = self.clock()
        if status.peers != self.peers or now - self._drawn_at > 30_000:
            self.peers = status.peers
            self._drawn_at = now
            highlighted = options.highlighted
            options.set_options(
                Option(self._prompt(peer, now), id=peer.key.hex()) for peer in status.peers
            )
            if highlighted is not None and status.peers:
                options.highlighted = min(highlighted, len(status.peers) - 1)
        options.display = bool(status.peers)
        empty.display = not status.peers
        if searching != self._searching_shown:
            self._searching_shown = searching
            empty.update(LOOKING if searching else NO_PEERS)

    @staticmethod
    def _prompt(peer: PeerStatus, now_ms: int) -> Content:
        mark = "●" if peer.linked else "○"
        demo = " (demo)" if peer.demo else ""
        name = clip(peer.name or "unnamed", 16)
        first = f"{mark} {name}{demo} · {short_fingerprint(peer.key)}"
        return Content(f"{first}\n  {peer_state(peer, now_ms)}")

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        for peer in self.peers:
            if peer.key.hex() == event.option.id:
                self.post_message(self.Chosen(peer))
