"""The study room: channels and peers on the left, the feed and composer on the right."""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from typing import ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer

from peernode.circles.model import CircleState
from peernode.demo import DEMO_LABEL
from peernode.errors import NodeError
from peernode.feed_text import QUESTION_KIND, worth_reading
from peernode.node import DEFAULT_CHANNEL, Node
from peernode.text import plural, relative_time
from peernode.views import CHANGE_KINDS, CIRCLE_KINDS, PROFILE_KIND, FeedEntry, NodeStatus
from tui.challenges import ChallengeActions
from tui.circles import CircleActions
from tui.dialogs import moderation
from tui.dialogs.info import InfoDialog
from tui.dialogs.moderation import Choice, ModerateDialog, ModerationDialog
from tui.feed import ChannelDialog, ChannelList, Composer, FeedPager, FeedView, Page
from tui.files import FileDialog, desk_of
from tui.text import Clock
from tui.widgets.peers import PeerList, peer_state
from tui.widgets.status import StatusBar

LIVE_BATCH = 5000


class MainScreen(CircleActions, ChallengeActions, Screen[None]):
    """Everything the learner does day to day."""

    AUTO_FOCUS = "#feed"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("n", "open_channel", "New channel"),
        Binding("a", "app.add_peer", "Add peer"),
        Binding("d", "app.doctor", "Check network", show=False),
        Binding("o", "app.open_demo", "Demo room", show=False),
        Binding("w", "write", "Write a note", show=False),
        Binding("c", "focus_channels", "Go to channels", show=False),
        Binding("f", "focus_feed", "Go to feed", show=False),
        Binding("p", "app.profile", "Profile", show=False),
        Binding("question_mark", "app.help", "Help", show=False),
        Binding("g", "circle_page", "Circle page"),
        Binding("m", "meeting_mode", "Meeting mode", show=False),
        Binding("q", "circle_questions", "Questions and answers", show=False),
        Binding("i", "circle_report", "Circle insights report", show=False),
        Binding("l", "circle_challenges", "Learning challenges", show=False),
        Binding("x", "moderate", "Mute, block or hide", show=False),
        Binding("X", "moderation", "Muted and hidden", show=False),
    ]

    class NewEvents(Message):
        """Events just stored, as entries; `overflowed`: some were dropped before them."""

        def __init__(self, entries: list[FeedEntry], overflowed: bool) -> None:
            super().__init__()
            self.entries = entries
            self.overflowed = overflowed

    class NodeLeft(Message):
        """The node of this home that the room was attached to stopped."""

    class StatusChanged(Message):
        def __init__(self, status: NodeStatus) -> None:
            super().__init__()
            self.status = status

    def __init__(
        self,
        node: Node,
        *,
        clock: Clock,
        no_peer_after: float = 5.0,
        status_interval: float = 1.0,
    ) -> None:
        super().__init__()
        self.node = node
        self.clock = clock
        self.no_peer_after = no_peer_after
        self.status_interval = status_interval
        self.pager = FeedPager(node)
        self.channel = DEFAULT_CHANNEL
        self.counts: dict[str, int] = {DEFAULT_CHANNEL: 0}
        self.unread: dict[str, int] = {}
        self.status: NodeStatus | None = None
        self.demo_keys: frozenset[bytes] = frozenset()
        """Peers of the demo room: labelled "(demo)" in the peers list."""
        self.ready = asyncio.Event()
        """Set once the first channels, feed page and status are shown."""
        self._started = time.monotonic()
        self._storage_notice: str | None = None
        """The node's storage problem last shown (disk full, read-only), not to repeat it."""

    def compose(self) -> ComposeResult:
        with Horizontal(id="body"):
            with Vertical(id="sidebar"):
                yield ChannelList(id="channels")
                yield PeerList(self.clock, id="peers")
            with Vertical(id="main"):
                yield FeedView(self.clock, name_of=self._name_of, id="feed")
                yield Composer(id="composer")
        yield StatusBar(id="status-bar")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#channels").border_title = "Channels"
        self.query_one("#peers").border_title = "Peers"
        self.feed.fetching = True
        self._follow()
        self._start()

    @property
    def feed(self) -> FeedView:
        return self.query_one(FeedView)

    @property
    def composer(self) -> Composer:
        return self.query_one(Composer)

    @property
    def channels(self) -> list[str]:
        return sorted(self.counts)

    def _name_of(self, key: bytes) -> str:
        return self.node.profile_of(key).name

    # -- workers: all node calls happen here, results come back as method calls
    #    on this screen's own widgets or as messages ----------------------------------

    @work(group="start")
    async def _start(self) -> None:
        channels = await self.node.channels()
        for count in channels:
            self.counts[count.channel] = count.events
        if not self.counts.get(DEFAULT_CHANNEL) and channels:
            self.channel = max(channels, key=lambda count: count.last_at).channel
        self._show_channels()
        self._show_circle(self.channel, await self.node.circles.state(self.channel))
        self._show_page(self.channel, await self.pager.newest(self.channel), "newest")
        self._show_status(await self.node.status())
        self.ready.set()
        self._poll_status()

    @work(group="status", exit_on_error=False)
    async def _poll_status(self) -> None:
        while True:
            await asyncio.sleep(self.status_interval)
            attached = self.node.attached
            try:
                status = await self.node.status()
            except NodeError as exc:
                self.notify(f"Cannot read the node's status: {exc}", severity="error", markup=False)
                continue
            if attached and not self.node.attached:
                self.post_message(self.NodeLeft())
            self.post_message(self.StatusChanged(status))
            problem = self.node.storage_problem
            if problem is not None and problem != self._storage_notice:
                title = "New events are not being saved"
                self.notify(problem, title=title, severity="error", timeout=15, markup=False)
            self._storage_notice = problem

    @work(group="live", exit_on_error=False)
    async def _follow(self) -> None:
        subscription = self.node.subscribe()
        try:
            async for event in subscription:
                batch = [event, *subscription.drain(LIVE_BATCH - 1)]
                # What the learner muted or hid stays out of the live feed too.
                entries = [self.node.entry(item) for item in batch if not self.node.hides(item)]
                self.post_message(self.NewEvents(entries, subscription.take_overflow()))
        finally:
            self.node.unsubscribe(subscription)

    @work(group="feed", exclusive=True)
    async def _load(self, channel: str, where: str) -> None:
        feed = self.feed
        window = feed.window
        if where == "newest":
            self._show_page(channel, await self.pager.newest(channel), "newest")
        elif where == "oldest":
            self._show_page(channel, await self.pager.oldest(channel), "oldest")
        elif where == "older" and window.oldest is not None:
            page = await self.pager.older(channel, window.oldest)
            if channel == self.channel:
                feed.add_older(page.entries, at_oldest=page.at_oldest)
        elif where == "newer" and window.newest is not None:
            page = await self.pager.newer(channel, window.newest)
            if channel == self.channel:
                feed.add_newer(page.entries, at_newest=page.at_newest)

    @work(group="circle", exclusive=True)
    async def _load_circle(self, channel: str) -> None:
        self._show_circle(channel, await self.node.circles.state(channel))

    @work(group="send")
    async def _send(self, text: str, reply_to: FeedEntry | None) -> None:
        try:
            if reply_to is not None and reply_to.event.kind == QUESTION_KIND:
                await self.node.circles.answer(reply_to.event.id, text)
            else:
                parent = reply_to.event.id if reply_to is not None else None
                await self.node.post(text, channel=self.channel, reply_to=parent)
        except NodeError as exc:
            self.composer.sending = False
            self.notify(f"Not sent: {exc}", severity="error", timeout=8, markup=False)
            return
        self.composer.sent()
        if not self.feed.window.at_newest:
            self._load(self.channel, "newest")

    # -- showing results ----------------------------------------------------------------

    def _show_page(self, channel: str, page: Page, end: str) -> None:
        if channel != self.channel:
            return
        self.feed.show(
            channel,
            page.entries,
            at_oldest=page.at_oldest,
            at_newest=page.at_newest,
            end="oldest" if end == "oldest" else "newest",
        )
        self._show_title()

    def _show_circle(self, channel: str, state: CircleState) -> None:
        if channel == self.channel:
            self.feed.show_circle(state if state.exists else None)

    def _show_channels(self) -> None:
        self.query_one(ChannelList).show(self.channels, self.channel, self.unread)

    def _show_title(self) -> None:
        self.feed.border_title = f"#{self.channel}"
        self.feed.border_subtitle = plural(self.counts.get(self.channel, 0), "note")

    def _show_status(self, status: NodeStatus) -> None:
        if self.demo_keys:
            peers = tuple(
                replace(peer, demo=True, name=peer.name.removesuffix(DEMO_LABEL))
                if peer.key in self.demo_keys
                else peer
                for peer in status.peers
            )
            status = replace(status, peers=peers)
        self.status = status
        self.query_one(StatusBar).status = status
        searching = time.monotonic() - self._started < self.no_peer_after
        self.query_one(PeerList).show(status, searching=searching)

    def switch_channel(self, channel: str) -> None:
        """Show another channel (a new name opens an empty channel to write in)."""
        self.counts.setdefault(channel, 0)
        self.unread.pop(channel, None)
        self.channel = channel
        self.feed.channel = channel
        self.feed.fetching = True
        self._show_channels()
        self._show_title()
        self.feed.show_circle(None)
        self._load_circle(channel)
        self._load(channel, "newest")

    # -- messages from the widgets and workers ----------------------------------------------

    def on_main_screen_new_events(self, message: MainScreen.NewEvents) -> None:
        self.notice_review_requests(message.entries)
        here = []
        channels_changed = reload = circle_changed = False
        me = self.node.public_key if self.node.has_identity else None
        for entry in message.entries:
            kind, channel = entry.event.kind, entry.event.circle  # the wire calls it circle
            if kind == PROFILE_KIND:
                self.feed.refresh_names()
                continue
            if not channel:
                continue
            if kind in CHANGE_KINDS:
                # Not shown as entries: they change one already shown, so reload it.
                reload |= channel == self.channel
                circle_changed |= channel == self.channel
                continue
            channels_changed |= channel not in self.counts
            self.counts[channel] = self.counts.get(channel, 0) + 1
            if channel == self.channel:
                here.append(entry)
                circle_changed |= kind in CIRCLE_KINDS
            elif worth_reading(entry, me):
                self.unread[channel] = self.unread.get(channel, 0) + 1
                channels_changed = True
        if circle_changed:  # a meeting's card, a question's answers: read the circle again
            self._load_circle(self.channel)
        if here:
            self.feed.add_live(here)
            self._show_title()
        if channels_changed:
            self._show_channels()
        if message.overflowed:  # events were dropped on the way: reload what we show
            self._reload()
        elif reload and self.feed.window.at_newest:
            self._load(self.channel, "newest")

    @work(group="start")
    async def _reload(self) -> None:
        for count in await self.node.channels():
            self.counts[count.channel] = count.events
        self._show_channels()
        self._load(self.channel, "newest")

    def on_main_screen_status_changed(self, message: MainScreen.StatusChanged) -> None:
        self._show_status(message.status)

    def on_channel_list_chosen(self, message: ChannelList.Chosen) -> None:
        if message.channel != self.channel:
            self.switch_channel(message.channel)
        self.feed.focus()

    def on_feed_view_need_older(self, message: FeedView.NeedOlder) -> None:
        self._load(self.channel, "older")

    def on_feed_view_need_newer(self, message: FeedView.NeedNewer) -> None:
        self._load(self.channel, "newer")

    def on_feed_view_jump_oldest(self, message: FeedView.JumpOldest) -> None:
        self._load(self.channel, "oldest")

    def on_feed_view_jump_newest(self, message: FeedView.JumpNewest) -> None:
        self._load(self.channel, "newest")

    def on_feed_view_file_requested(self, message: FeedView.FileRequested) -> None:
        file = message.entry.event.id
        self.app.push_screen(FileDialog(self.node, file, desk_of(self.app)))

    def on_feed_view_reply_requested(self, message: FeedView.ReplyRequested) -> None:
        self.composer.start_reply(message.entry, self._name_of(message.entry.event.author))

    def on_composer_submitted(self, message: Composer.Submitted) -> None:
        self._send(message.text, message.reply_to)

    def on_composer_left(self, message: Composer.Left) -> None:
        self.feed.focus()

    def on_peer_list_chosen(self, message: PeerList.Chosen) -> None:
        peer = message.peer
        profile = self.node.profile_of(peer.key)
        seen = relative_time(peer.last_seen, self.clock()) if peer.last_seen else "never"
        body = (
            f"- **Fingerprint:** `{peer.fingerprint}`\n"
            f"- **Address:** `{peer.address or 'unknown'}`\n"
            f"- **Now:** {peer_state(peer, self.clock())}\n"
            f"- **Last seen:** {seen}\n"
            f"- **Events exchanged:** {peer.events_exchanged:,}\n"
            f"- **Learning:** {profile.learning or '-'}\n"
            f"- **Can help with:** {profile.can_help or '-'}\n"
        )
        self.app.push_screen(InfoDialog(peer.name or profile.name, body))

    # -- actions ------------------------------------------------------------------------

    def action_moderate(self) -> None:
        entry = self.feed.selected_entry
        if entry is None:
            self.notify("Select a note first.", severity="warning")
            return
        mine = self.node.has_identity and entry.event.author == self.node.public_key

        def chosen(choice: Choice | None) -> None:
            if choice is not None:
                self._moderate(entry, choice)

        self.app.push_screen(ModerateDialog(entry, mine=mine), chosen)

    @work
    async def _moderate(self, entry: FeedEntry, choice: Choice) -> None:
        self.notify(await moderation.apply(self.node, entry, choice))
        self._reload()

    def action_moderation(self) -> None:
        def closed(changed: bool | None) -> None:
            if changed:
                self._reload()

        self.app.push_screen(ModerationDialog(self.node), closed)

    def action_circle_report(self) -> None:
        """Only a study circle has a report: elsewhere say so, never offer an empty one."""
        self._open_report(self.channel)

    @work(group="report", exclusive=True, exit_on_error=False)
    async def _open_report(self, channel: str) -> None:
        try:
            state = await self.node.circles.state(channel)
        except NodeError as exc:
            self.notify(str(exc), severity="error", markup=False)
            return
        if state.exists:
            super().action_circle_report()
            return
        self.notify(
            f"#{channel} has no study circle, so it has no report to show or export;"
            " start one from the command palette (Ctrl+P, 'start a study circle').",
            title="No report here",
            markup=False,
        )

    def action_open_channel(self) -> None:
        def opened(channel: str | None) -> None:
            if channel:
                self.switch_channel(channel)
                self.feed.focus()

        self.app.push_screen(ChannelDialog(), opened)

    def action_write(self) -> None:
        self.composer.input.focus()

    def action_focus_channels(self) -> None:
        self.query_one(ChannelList).focus()

    def action_focus_feed(self) -> None:
        self.feed.focus()

    def action_reply(self) -> None:
        self.feed.action_reply()

    def action_cancel_reply(self) -> None:
        self.composer.cancel_reply()

    def action_send(self) -> None:
        self.composer.input.action_send()
