"""slack_sdk's installation and OAuth-state tables, declared on our metadata.

slack_sdk's SQLAlchemy stores read and write these tables; declaring them here lets alembic
create and check them like any other table instead of calling the stores' ``create_tables``.
"""

from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore

from bot.db import Base

installations = SQLAlchemyInstallationStore.build_installations_table(
    Base.metadata, "slack_installations"
)
bots = SQLAlchemyInstallationStore.build_bots_table(Base.metadata, "slack_bots")
oauth_states = SQLAlchemyOAuthStateStore.build_oauth_states_table(
    Base.metadata, "slack_oauth_states"
)
