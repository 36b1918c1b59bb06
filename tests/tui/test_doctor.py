"""Check the network ('d'): the real diagnosis of a real node on loopback, shown as it runs."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import ProgressBar

from peernode.home import Home
from peernode.views import Finding
from tests.tui.helpers import main_screen, wait_for
from tests.tui.test_live_peers import app_port, live_app, peer_node
from tui.screens.doctor import DoctorScreen, FindingView, finding_text, summary_text
from tui.screens.main import MainScreen

LISTEN = 0.4
"""Seconds the check listens for peers nearby: long enough to see it run, short for a test."""


async def test_the_check_shows_progress_then_each_finding(home: Home, tmp_path: Path) -> None:
    async with live_app(home, doctor_seconds=LISTEN) as (app, pilot):
        await main_screen(app, pilot)
        port = await app_port(app, pilot)
        async with peer_node(tmp_path / "bo", "Bo") as bo:
            await bo.connect("127.0.0.1", port)
            await pilot.press("d")
            screen = app.screen
            assert isinstance(screen, DoctorScreen)
            await wait_for(pilot, lambda: "Listening for peers nearby" in screen.step_text)
            assert screen.query_one(ProgressBar).display
            assert not app.active_bindings["r"].enabled  # no second check meanwhile
            await wait_for(pilot, lambda: not screen.running)
        sentences = [finding.sentence for finding in screen.findings]
        me = f"You are Ana, reachable on port {port}, but not announced (discovery is off)"
        assert any(sentence.startswith(me) for sentence in sentences)
        linked = next(s for s in sentences if s.startswith("Linked to 1 peer: Bo at 127.0.0.1:"))
        assert linked.endswith("(in sync).") or linked.endswith("(syncing).")
        assert not screen.query_one(ProgressBar).display
        assert screen.step_text.startswith("Checked in")
        assert "all looks well" in screen.step_text
        shown = [view.text for view in screen.query(FindingView)]
        assert shown == [finding_text(finding) for finding in screen.findings]

        await pilot.press("r")  # again: the findings start afresh, progress shows meanwhile
        assert screen.running
        assert screen.query_one(ProgressBar).display
        await wait_for(pilot, lambda: not screen.running)
        assert not any(s.startswith("Linked to") for s in (f.sentence for f in screen.findings))
        assert "No peer is linked to you yet." in [f.sentence for f in screen.findings]
        await pilot.press("escape")
        assert isinstance(app.screen, MainScreen)


async def test_an_offline_room_is_told_what_to_try(room: Home) -> None:
    from tests.tui.helpers import running

    async with running(room, doctor_seconds=LISTEN) as (app, pilot):
        await main_screen(app, pilot)
        await pilot.press("d")
        screen = app.screen
        assert isinstance(screen, DoctorScreen)
        await wait_for(pilot, lambda: bool(screen.findings) and not screen.running)
        problem = next(f for f in screen.findings if f.sentence.startswith("No node is running"))
        assert problem.problem
        assert "peernode serve" in problem.next_step
        assert "no peer in sight yet" in screen.step_text


def test_a_finding_reads_as_a_sentence_with_what_to_try() -> None:
    fine = Finding("Discovery works here.")
    blocked = Finding("Multicast seems blocked.", "Allow UDP port 5353.", problem=True)
    assert finding_text(fine) == "✓ Discovery works here."
    assert finding_text(blocked) == "✗ Multicast seems blocked.\n  Try: Allow UDP port 5353."
    assert summary_text([fine], True, 4.2) == "Checked in 4 s: all looks well."
    assert summary_text([fine, blocked, blocked], False, 5) == (
        "Checked in 5 s: no peer in sight yet; 2 things to look at (what to try is under each)."
    )
