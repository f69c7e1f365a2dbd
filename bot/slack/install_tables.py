"""slack_sdk's installation tables, declared on our metadata.

slack_sdk's SQLAlchemy stores read and write these tables; declaring them here lets alembic
create and check them like any other table instead of calling the stores' ``create_tables``.
"""

from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore

from bot.db import Base

installations = SQLAlchemyInstallationStore.build_installations_table(
    Base.metadata, "slack_installations"
)
bots = SQLAlchemyInstallationStore.build_bots_table(Base.metadata, "slack_bots")
