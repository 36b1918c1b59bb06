"""The feed of a channel: its view, pager and composer, the channel list and dialog."""

from tui.feed.channel_dialog import ChannelDialog
from tui.feed.channels import ChannelList
from tui.feed.composer import Composer, NoteInput
from tui.feed.pager import FeedPager, Page
from tui.feed.view import FeedView

__all__ = ["ChannelDialog", "ChannelList", "Composer", "FeedPager", "FeedView", "NoteInput", "Page"]
