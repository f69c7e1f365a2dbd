"""Every listener module, registered on the app in one place."""

from slack_bolt.async_app import AsyncApp

from bot.slack.listeners import (
    channels,
    decisions,
    followthrough,
    home,
    hygiene,
    lifecycle,
    meetings,
    nudges,
    outcomes,
    people,
    relitigation,
    reviews,
    settings,
    shortcuts,
)


def register_all(app: AsyncApp) -> None:
    for module in (
        decisions,
        followthrough,
        home,
        hygiene,
        lifecycle,
        people,
        settings,
        meetings,
        outcomes,
        shortcuts,
        nudges,
        reviews,
        channels,
        relitigation,
    ):
        module.register(app)
