"""Who this node stores, links with and shows: admission by relationship and the learner's
own moderation, kept in memory beside the store and the node facade."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass

from peernode.admission import DAY_MS, AdmissionConfig, Admitted, StrangerBudget, sort_batch
from peernode.clock import now_ms
from peernode.errors import StorageError
from peernode.storage import AsyncStore, Level, Moderation
from protocol import kinds
from protocol.event import Event, claimed_author, event_id
from protocol.gossip.config import MAX_DECLINED

log = logging.getLogger(__name__)

CONTENT_KINDS = frozenset(
    {
        kinds.NOTE,
        kinds.RESOURCE,
        kinds.QUESTION,
        kinds.ANSWER,
        kinds.CHECKIN,
        kinds.PLUSDELTA,
    }
)
"""What a muted person wrote that lists leave out; who is in a circle still shows."""
STRUCTURE_KINDS = frozenset({kinds.CIRCLE, kinds.JOIN, kinds.LEAVE})
"""Events that say what a circle is and who is in it: never hidden one by one."""


@dataclass(frozen=True, slots=True)
class Familiar:
    """Whose events are stored without a budget, and the circles this node is a member of
    (a join to one of them makes its author familiar at once)."""

    authors: frozenset[bytes]
    circles: frozenset[str]


WorkOutFamiliar = Callable[[], Awaitable[Familiar]]

SPENT_SETTING = "admission.strangers_today"
"""The settings row that keeps what strangers were let store today (StrangerBudget.save)."""


class Policy:
    """Admission, blocks, mutes and hidden events for one node.

    familiar: works out who is familiar (me, my circles' members, remembered peers).
    on_change: called when a stranger became familiar, so the network fetches again
    what it declined of them.
    """

    def __init__(
        self,
        store: AsyncStore,
        config: AdmissionConfig,
        familiar: WorkOutFamiliar,
        on_change: Callable[[], None],
    ) -> None:
        self._store = store
        self.budget = StrangerBudget(config)
        self._work_out = familiar
        self._on_change = on_change
        self._familiar: Familiar | None = None  # None: to be worked out at next use
        self._joined: set[bytes] = set()  # joined one of my circles since
        self._ever_familiar: frozenset[bytes] = frozenset()
        self._held: set[bytes] = set()
        self._trusted: set[bytes] = set()
        self._forgotten: set[bytes] = set()  # joined since, their declined rows dropped
        self.moderation = Moderation({}, {}, {})

    async def load(self) -> None:
        self._held = await self._store.held_authors()
        self.moderation = await self._store.moderation()
        saved = await self._store.setting(SPENT_SETTING)
        if saved is not None:
            self.budget.restore(saved, now_ms())

    async def reload(self) -> bool:
        """Read the moderation again (another process may have changed it); True when
        whom is blocked changed (the network must then rebuild what it offers)."""
        fresh = await self._store.moderation()
        changed = fresh.blocked.keys() != self.moderation.blocked.keys()
        if unblocked := self.moderation.blocked.keys() - fresh.blocked.keys():
            await self._forget_declined(unblocked)  # what was declined may be stored now
        self.moderation = fresh
        return changed

    # -- admission ------------------------------------------------------------------

    async def screen(
        self, raws: list[bytes], sender: bytes | None
    ) -> tuple[list[bytes], list[bytes]]:
        """Before verifying: (raws to verify, raws declined unverified). Declined are those
        whose claimed author is blocked, or a stranger over a budget it can only stay
        over today: whoever signed them, they would not be stored. Nothing declined is
        stored, forwarded or trusted, and familiar authors' are always verified."""
        if sender is None:
            return raws, []
        await self._familiar_set()
        check, declined, now = [], [], now_ms()
        claims: dict[bytes, bytes] = {}
        for raw in raws:
            claim = claimed_author(raw)
            if claim is None:
                check.append(raw)  # malformed: verification says so, and scores the sender
                continue
            claims[raw] = claim[0]
            if self.is_blocked(claim[0]):
                declined.append(raw)
            elif self._is_familiar(claim[0]) or self.budget.fits(*claim, len(raw), sender, now):
                check.append(raw)
            else:
                declined.append(raw)
        self.budget.declined_today += len(declined)
        if declined:  # kept, so that neither this run nor the next asks for them again
            await self._remember_declined([(event_id(raw), claims[raw]) for raw in declined])
        return check, declined

    async def admit(self, events: Sequence[Event], sender: bytes | None) -> Admitted:
        """Sort verified events into stored and declined (peernode.admission).

        sender None: not from a peer (the demo room, a test): only blocks apply."""
        if sender is None:
            return Admitted(
                [event for event in events if not self.is_blocked(event.author)],
                [event for event in events if self.is_blocked(event.author)],
            )
        await self._familiar_set()
        await self._forget_joined()
        spent = self.budget.spent()
        result = sort_batch(
            events,
            sender=sender,
            familiar=self._is_familiar,
            blocked=self.is_blocked,
            budget=self.budget,
            now_ms=now_ms(),
        )
        if result.declined:
            log.debug("declined %d events from %s", len(result.declined), sender.hex()[:16])
            await self._remember_declined([(event.id, event.author) for event in result.declined])
        if self.budget.spent() != spent:
            with contextlib.suppress(StorageError):  # best effort: the store says so itself
                await self._store.set_setting(SPENT_SETTING, self.budget.save())
        return result

    def stored(self, events: Iterable[Event], me: bytes | None) -> None:
        """Keep who is familiar up to date as circle events are stored: a join to one of
        my circles makes its author familiar at once; my own circle events (I created,
        joined or left a circle) have everyone worked out again at next use. Others'
        leaves count from the next start."""
        for event in events:
            if event.kind not in STRUCTURE_KINDS:
                continue
            if event.author == me:
                self._familiar = None
            elif self._joins_my_circle(event) and event.author not in self._joined:
                self._joined.add(event.author)
                self._on_change()  # what was declined of them may be fetched now

    def _joins_my_circle(self, event: Event) -> bool:
        familiar = self._familiar
        return (
            event.kind == kinds.JOIN
            and familiar is not None
            and event.circle in familiar.circles
            and event.author not in familiar.authors
        )

    def is_familiar(self, key: bytes) -> bool:
        """Whether `key` is familiar, as of the last screen() or admit() (which work out
        who is; before them, only the peers the learner named are)."""
        return self._is_familiar(key)

    def _is_familiar(self, key: bytes) -> bool:
        known = self._familiar is not None and key in self._familiar.authors
        return known or key in self._joined or key in self._trusted

    def trust(self, key: bytes) -> None:
        """A peer the learner named (--peer, connect): familiar from now on."""
        self._trusted.add(key)

    async def _familiar_set(self) -> Familiar:
        if self._familiar is None:
            worked_out = await self._work_out()
            familiar = Familiar(worked_out.authors | self._held, worked_out.circles)
            grew = familiar.authors - self._ever_familiar
            self._familiar, self._joined, self._forgotten = familiar, set(), set()
            self._ever_familiar |= familiar.authors
            if grew:
                await self._forget_declined(grew)
                self._on_change()
        return self._familiar

    # -- declined events, across restarts ---------------------------------------------

    async def _remember_declined(self, rows: list[tuple[bytes, bytes]]) -> None:
        """Until the budgets start afresh (the next UTC day): then they may fit."""
        until = (now_ms() // DAY_MS + 1) * DAY_MS
        with contextlib.suppress(StorageError):  # best effort: at worst fetched once more
            await self._store.remember_declined(rows, until, MAX_DECLINED)

    async def declined_ids(self) -> list[bytes]:
        """What was declined and is not to be fetched again yet, oldest first (authors
        familiar since are left out: their events are fetched again)."""
        await self._familiar_set()
        await self._forget_joined()
        try:
            rows = await self._store.declined(now_ms(), MAX_DECLINED)
        except StorageError:
            return []
        return [event_id for event_id, author in rows if not self._is_familiar(author)]

    async def _forget_declined(self, authors: Iterable[bytes]) -> None:
        with contextlib.suppress(StorageError):
            await self._store.forget_declined(authors)

    async def _forget_joined(self) -> None:
        """Authors who joined my circles since: drop what was declined of them."""
        if self._joined - self._forgotten:
            fresh = self._joined - self._forgotten
            self._forgotten |= fresh
            await self._forget_declined(fresh)

    # -- moderation -----------------------------------------------------------------

    def is_blocked(self, key: bytes) -> bool:
        return key in self.moderation.blocked

    def hides(self, event: Event) -> bool:
        """Whether lists shown to the learner leave this event out."""
        if event.id in self.moderation.hidden and event.kind not in STRUCTURE_KINDS:
            return True
        return event.kind in CONTENT_KINDS and event.author in self.moderation.unseen_people

    async def set_level(self, key: bytes, level: Level) -> bool:
        """Mute or block; True when whom is blocked changed."""
        await self._store.set_moderation(key, level, now_ms())
        return await self.reload()

    async def clear_level(self, key: bytes, level: Level) -> tuple[bool, bool]:
        """(whether `key` had that level, whether whom is blocked changed)."""
        cleared = await self._store.clear_moderation(key, level)
        return cleared, await self.reload()

    async def hide(self, event_id: bytes) -> None:
        await self._store.hide_event(event_id, now_ms())
        await self.reload()

    async def unhide(self, event_id: bytes) -> bool:
        shown = await self._store.unhide_event(event_id)
        await self.reload()
        return shown
