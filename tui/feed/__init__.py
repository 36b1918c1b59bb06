"""The feed of a channel: its view, pager, composer, the channel list and dialog."""
