"""Command palette entries (Ctrl+P) for every action of the app."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

from tui.circles import CircleBase, Command
from tui.screens.main import MainScreen


class PeernodeCommands(Provider):
    """The app's own actions, plus 'Go to #channel' for each channel."""

    def commands(self) -> list[Command]:
        app = self.app

        def run(action: str) -> Callable[[], object]:
            return partial(app.run_action, action)

        found: list[Command] = [
            ("Help: all keys", "Show every key binding", run("help")),
            (
                "Profile: edit my profile",
                "Change my name and what I learn / can help with",
                run("profile"),
            ),
            ("Peers: add a peer by address", "Connect to HOST:PORT", run("add_peer")),
            ("Peers: check the network", "What this laptop sees, and what to try", run("doctor")),
            ("Peers: open the demo room", "Try peernode with simulated learners", run("open_demo")),
        ]
        screen = self.screen
        if isinstance(screen, MainScreen):
            found += [
                (
                    "Channel: open or create a channel",
                    "Type a channel's name",
                    screen.action_open_channel,
                ),
                ("Note: write a note", "Focus the composer", screen.action_write),
                ("Note: reply to the selected note", "Reply in a thread", screen.action_reply),
                ("Note: cancel the reply", "Write a new note instead", screen.action_cancel_reply),
                ("Note: send", "Sign and share the note being written", screen.action_send),
                (
                    "Feed: oldest notes",
                    "Jump to the start of the channel",
                    screen.feed.action_oldest,
                ),
                ("Feed: newest notes", "Jump to the end of the channel", screen.feed.action_newest),
                ("Focus: channels", "Move to the channel list", screen.action_focus_channels),
                ("Focus: feed", "Move to the feed", screen.action_focus_feed),
            ]
            found += screen.circle_commands()
            for channel in screen.channels:
                found.append(
                    (
                        f"Channel: go to #{channel}",
                        "Show this channel",
                        partial(screen.switch_channel, channel),
                    )
                )
        if isinstance(screen, CircleBase):
            found += screen.palette_commands()
            found.append(("Back", "Close this screen", screen.action_back))
        found.append(("Quit peernode", "Close the study room (the node stops too)", run("quit")))
        return found

    async def discover(self) -> Hits:
        for name, help_text, callback in self.commands():
            yield DiscoveryHit(name, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, help_text, callback in self.commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), callback, help=help_text)
