"""The fake's ``views.*`` methods: modals opened, pushed and updated, and the App Home."""

from __future__ import annotations

from typing import Any

from bot.devtools.fake_slack.records import ApiError, Call, JsonDict
from bot.devtools.fake_slack.state import WorkspaceState


class ViewMethods(WorkspaceState):
    def _stored_view(
        self,
        view: Any,
        *,
        view_id: str,
        root_view_id: str | None = None,
        previous_view_id: str | None = None,
    ) -> JsonDict:
        if not isinstance(view, dict) or "type" not in view:
            raise ApiError("invalid_arguments")
        stored: JsonDict = {
            "id": view_id,
            "team_id": self.team_id,
            "type": view["type"],
            "blocks": view.get("blocks", []),
            "private_metadata": view.get("private_metadata", ""),
            "callback_id": view.get("callback_id", ""),
            "state": {"values": {}},
            "hash": f"{int(self._clock())}.{next(self._ids):08d}",
            "clear_on_close": bool(view.get("clear_on_close", False)),
            "notify_on_close": bool(view.get("notify_on_close", False)),
            "root_view_id": root_view_id or view_id,
            "previous_view_id": previous_view_id,
            "app_id": self.app_id,
            "external_id": view.get("external_id", ""),
            "app_installed_team_id": self.team_id,
            "bot_id": self.bot_id,
        }
        for optional in ("title", "submit", "close"):
            stored[optional] = view.get(optional)
        self.views[view_id] = stored
        return stored

    def _views_open(self, call: Call) -> JsonDict:
        if not call.params.get("trigger_id") and not call.params.get("interactivity_pointer"):
            raise ApiError("invalid_arguments")
        view = self._stored_view(call.params.get("view"), view_id=self._next_id("V"))
        return {"ok": True, "view": view}

    def _views_update(self, call: Call) -> JsonDict:
        view_id = call.params.get("view_id")
        external_id = call.params.get("external_id")
        current: JsonDict | None = None
        if isinstance(view_id, str) and view_id:
            current = self.views.get(view_id)
        elif isinstance(external_id, str) and external_id:
            current = next(
                (v for v in self.views.values() if v.get("external_id") == external_id), None
            )
        else:
            raise ApiError("invalid_arguments")
        if current is None:
            raise ApiError("not_found")
        expected_hash = call.params.get("hash")
        if expected_hash and expected_hash != current["hash"]:
            raise ApiError("hash_conflict")
        view = self._stored_view(
            call.params.get("view"),
            view_id=current["id"],
            root_view_id=current["root_view_id"],
            previous_view_id=current["previous_view_id"],
        )
        if view["type"] == "home":
            for user_id, home in self.published_home.items():
                if home["id"] == view["id"]:
                    self.published_home[user_id] = view
        return {"ok": True, "view": view}

    def _views_publish(self, call: Call) -> JsonDict:
        user_id = call.params.get("user_id")
        if not isinstance(user_id, str) or not user_id:
            raise ApiError("invalid_arguments")
        view_param = call.params.get("view")
        if not isinstance(view_param, dict) or view_param.get("type") != "home":
            raise ApiError("invalid_arguments")
        previous = self.published_home.get(user_id)
        expected_hash = call.params.get("hash")
        if previous is not None and expected_hash and expected_hash != previous["hash"]:
            raise ApiError("hash_conflict")
        view_id = previous["id"] if previous is not None else self._next_id("V")
        view = self._stored_view(view_param, view_id=view_id)
        self.published_home[user_id] = view
        return {"ok": True, "view": view}
