"""The fake's ``api.test``, ``auth.test``, ``oauth.v2.access``, ``team.info`` and
``apps.connections.open``: who a token belongs to, installs and token rotation."""

from __future__ import annotations

from bot.devtools.fake_slack.records import ApiError, Call, JsonDict, TokenWorkspace
from bot.devtools.fake_slack.state import WorkspaceState


class AuthMethods(WorkspaceState):
    def _api_test(self, call: Call) -> JsonDict:
        return {"ok": True, "args": call.params}

    def _auth_test(self, call: Call) -> JsonDict:
        workspace = self._workspace_for(call.token)
        body: JsonDict = {
            "ok": True,
            "url": f"https://{self.team_domain}.slack.com/",
            "team": self.team_name,
            "user": self.bot_name,
            "team_id": workspace.team_id,
            "user_id": self.bot_user_id,
            "bot_id": self.bot_id,
            "is_enterprise_install": False,
        }
        if workspace.enterprise_id is not None:
            body["enterprise_id"] = workspace.enterprise_id
        return body

    def _oauth_v2_access(self, call: Call) -> JsonDict:
        params = call.params
        if self.oauth_client is not None:
            client_id = params.get("client_id")
            if client_id != self.oauth_client[0]:
                raise ApiError("invalid_client_id")
            if params.get("client_secret") != self.oauth_client[1]:
                raise ApiError("bad_client_secret")
        if params.get("grant_type") == "refresh_token":
            refresh_token = params.get("refresh_token")
            if refresh_token not in self._refresh_tokens:
                raise ApiError("invalid_refresh_token")
            self._refresh_tokens.discard(str(refresh_token))
            return self._issue_tokens(rotating=True)
        code = params.get("code")
        if not isinstance(code, str) or code not in self.valid_oauth_codes:
            raise ApiError("invalid_code")
        self.valid_oauth_codes.discard(code)
        if self.oauth_response is not None:
            body = dict(self.oauth_response)
            token = body.get("access_token")
            team = body.get("team")
            enterprise = body.get("enterprise")
            if isinstance(token, str) and isinstance(team, dict):
                self.token_workspaces[token] = TokenWorkspace(
                    str(team.get("id")),
                    str(enterprise["id"]) if isinstance(enterprise, dict) else None,
                )
            return body
        return self._issue_tokens(rotating=self.oauth_token_rotation)

    def _issue_tokens(self, *, rotating: bool) -> JsonDict:
        serial = next(self._ids)
        access_token = f"xoxb-{self.team_id}-{serial:06d}-fake"
        self.token_workspaces[access_token] = TokenWorkspace(self.team_id, self.enterprise_id)
        body: JsonDict = {
            "ok": True,
            "app_id": self.app_id,
            "authed_user": {
                "id": "UINSTALLER",
                "scope": "",
                "access_token": f"xoxp-{self.team_id}-{serial:06d}-fake",
                "token_type": "user",
            },
            "scope": "chat:write,commands,im:write,users:read,channels:read,groups:read",
            "token_type": "bot",
            "access_token": access_token,
            "bot_user_id": self.bot_user_id,
            "team": {"id": self.team_id, "name": self.team_name},
            "enterprise": (
                {"id": self.enterprise_id, "name": self.enterprise_name or ""}
                if self.enterprise_id is not None
                else None
            ),
            "is_enterprise_install": False,
        }
        if rotating:
            refresh_token = f"xoxe-1-{self.team_id}-{serial:06d}-fake"
            self._refresh_tokens.add(refresh_token)
            body["refresh_token"] = refresh_token
            body["expires_in"] = 43_200
        return body

    def _team_info(self, call: Call) -> JsonDict:
        team: JsonDict = {
            "id": self.team_id,
            "name": self.team_name,
            "domain": self.team_domain,
            "email_domain": "",
            "icon": {"image_default": True},
        }
        if self.enterprise_id is not None:
            team["enterprise_id"] = self.enterprise_id
            team["enterprise_name"] = self.enterprise_name or ""
        return {"ok": True, "team": team}

    def _apps_connections_open(self, call: Call) -> JsonDict:
        return {"ok": True, "url": self.base_url.replace("http://", "ws://") + "/socket-mode"}
