"""One feed entry as Rich renderables: a card's title, its details, then its text."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Final

from rich.console import Group, RenderableType
from rich.markdown import Markdown
from rich.style import Style
from rich.text import Text

from peernode.text import Shown
from peernode.views import NOTE_KIND, FeedEntry

StyleOf = Callable[[str], Style]
"""The style of a component class of the feed ("feed--headline", ...)."""

MARKDOWN_HINT: Final = re.compile(r"[*_`#\[\]<>|~\\!&]|^\s*(?:[-+]|\d+[.)])\s|\n")
"""Text that may be Markdown; anything else is shown as it is (quicker to render)."""


def renderable(entry: FeedEntry, shown: Shown, style_of: StyleOf) -> RenderableType:
    """What the feed draws under an entry's header: `shown`, styled."""
    if not entry.known:
        return Text(
            shown.headline, style=style_of("feed--unknown"), no_wrap=True, overflow="ellipsis"
        )
    if entry.deleted:
        return Text(shown.headline, style="italic")
    parts: list[RenderableType] = []
    if shown.headline:  # a card's title stands out; a one-line sentence does not
        card = "feed--headline" if shown.details else "feed--detail"
        parts.append(Text(shown.headline, style=style_of(card)))
    if shown.details:
        parts.append(Text("\n".join(shown.details), style=style_of("feed--detail")))
    text = shown.text
    if entry.edited and (text or entry.event.kind == NOTE_KIND):
        text += "\n\n*(edited)*" if MARKDOWN_HINT.search(text) else "  (edited)"
    elif entry.edited:
        parts.append(Text("(edited)"))
    if text:
        parts.append(_text(shown, text))
    return parts[0] if len(parts) == 1 else Group(*parts)


def _text(shown: Shown, text: str) -> RenderableType:
    """A note's (or a question's, an answer's) text: Markdown when it looks like Markdown."""
    if shown.plain or not MARKDOWN_HINT.search(text):
        return Text(text)
    return Markdown(text, hyperlinks=False)
