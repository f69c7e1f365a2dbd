"""The fake's ``users.*`` and ``dnd.*`` methods: people, their time zones and do-not-disturb."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.devtools.fake_slack.records import ApiError, Call, DndStatus, JsonDict, User
from bot.devtools.fake_slack.state import WorkspaceState


class UserMethods(WorkspaceState):
    def _users_lookup_by_email(self, call: Call) -> JsonDict:
        """Slack matches the address case-insensitively and answers like users.info."""
        wanted = str(call.params.get("email", "")).strip().lower()
        for user in self.users.values():
            if user.email is not None and user.email.lower() == wanted and wanted:
                return self._user_json(user)
        raise ApiError("users_not_found")

    def _users_info(self, call: Call) -> JsonDict:
        user = self.users.get(str(call.params.get("user", "")))
        if user is None:
            raise ApiError("user_not_found")
        return self._user_json(user)

    def _user_json(self, user: User) -> JsonDict:
        try:
            zone = ZoneInfo(user.tz)
        except (ZoneInfoNotFoundError, ValueError):
            zone = ZoneInfo("UTC")
        local = datetime.fromtimestamp(self._clock(), UTC).astimezone(zone)
        offset = local.utcoffset()
        return {
            "ok": True,
            "user": {
                "id": user.id,
                "team_id": user.team_id,
                "name": user.name,
                "deleted": False,
                "real_name": user.real_name,
                "tz": user.tz,
                "tz_label": local.tzname() or user.tz,
                "tz_offset": int(offset.total_seconds()) if offset is not None else 0,
                "is_admin": user.is_admin,
                "is_owner": user.is_owner,
                "is_primary_owner": False,
                "is_restricted": False,
                "is_ultra_restricted": False,
                "is_bot": user.is_bot,
                "is_app_user": False,
                "updated": 1_700_000_000,
                "profile": {
                    "real_name": user.real_name,
                    "real_name_normalized": user.real_name,
                    "display_name": user.name,
                    "display_name_normalized": user.name,
                    "team": user.team_id,
                    **({"email": user.email} if user.email is not None else {}),
                },
            },
        }

    def _dnd_json(self, user_id: str) -> JsonDict:
        status = self.dnd.get(user_id, DndStatus())
        body: JsonDict = {
            "dnd_enabled": status.enabled,
            "next_dnd_start_ts": status.next_start,
            "next_dnd_end_ts": status.next_end,
        }
        if status.snooze_end is not None:
            remaining = max(0, status.snooze_end - int(self._clock()))
            body.update(
                snooze_enabled=True, snooze_endtime=status.snooze_end, snooze_remaining=remaining
            )
        return body

    def _dnd_info(self, call: Call) -> JsonDict:
        """``dnd.info`` (the OpenAPI spec's shape): the schedule, and the snooze if one is set."""
        user_id = str(call.params.get("user", ""))
        if user_id not in self.users:
            raise ApiError("user_not_found")
        return {"ok": True, **self._dnd_json(user_id)}

    def _dnd_team_info(self, call: Call) -> JsonDict:
        """``dnd.teamInfo`` for a comma-separated ``users`` list (the spec's example shape;
        a snooze shows as in ``dnd.info``, which the spec's open schema allows). Unknown ids
        are left out."""
        wanted = [u for u in str(call.params.get("users", "")).split(",") if u]
        return {"ok": True, "users": {u: self._dnd_json(u) for u in wanted if u in self.users}}
