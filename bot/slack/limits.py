"""The Block Kit limits renderers fit their text and lists into.

This is fitting, not validation: a user who typed a long title still gets a card, clipped to what
Slack takes. Validation of rendered payloads is slack_sdk's (its models check on ``to_dict()``);
tests run it, with the rules slack_sdk lacks, through :mod:`bot.devtools.blockkit_checks`.

Values follow ``specs/block_kit_limits.json`` in the shared Slack fixtures (checked by a test).
"""

from typing import Final

# Surfaces
MESSAGE_BLOCKS_MAX: Final = 50
VIEW_BLOCKS_MAX: Final = 100
MODAL_TITLE_MAX: Final = 24
MODAL_SUBMIT_MAX: Final = 24
MODAL_CLOSE_MAX: Final = 24
PRIVATE_METADATA_MAX: Final = 3_000

# Text
TEXT_OBJECT_MAX: Final = 3_000
SECTION_TEXT_MAX: Final = 3_000
SECTION_FIELDS_MAX: Final = 10
SECTION_FIELD_TEXT_MAX: Final = 2_000
HEADER_TEXT_MAX: Final = 150

# Blocks
ACTIONS_ELEMENTS_MAX: Final = 25
CONTEXT_ELEMENTS_MAX: Final = 10
INPUT_LABEL_MAX: Final = 2_000
INPUT_HINT_MAX: Final = 2_000

# Elements
BUTTON_TEXT_MAX: Final = 75
BUTTON_VALUE_MAX: Final = 2_000
PLACEHOLDER_MAX: Final = 150
OPTION_TEXT_MAX: Final = 75
CONFIRM_TITLE_MAX: Final = 100
CONFIRM_TEXT_MAX: Final = 300
CONFIRM_CONFIRM_MAX: Final = 30
CONFIRM_DENY_MAX: Final = 30
