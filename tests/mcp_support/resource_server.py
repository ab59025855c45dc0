"""An MCP server built with the MCP Python SDK (its MCPServer over streamable HTTP) that takes
consola as its authorization server: it serves its protected resource metadata (RFC 9728)
naming consola, answers 401 with that metadata's URL, and accepts only the JWT access tokens
(RFC 9068) that consola signed for it, checked with consola's JWKS alone: the signature, `typ`,
`iss`, `exp` and an `aud` that is this server's own URL.

    python3 resource_server.py ISSUER SCOPE

It listens on a free port of 127.0.0.1 and prints one JSON line, {"url": ".../mcp"}, once it
accepts connections. It stops when its standard input closes (the test that started it
ended), or after ten minutes at most. Refused tokens are told on stderr by the reason only,
never the token.
"""

import json
import os
import socket
import sys
import threading

import anyio
import jwt
import uvicorn
from mcp.server.auth.middleware.auth_context import get_access_token
from mcp.server.auth.provider import AccessToken
from mcp.server.auth.settings import AuthSettings
from mcp.server.mcpserver import MCPServer

# What consola signs access tokens with (src/domain/jose.rs); each key says its own.
ALGORITHMS = ["EdDSA", "ES256", "RS256"]


def refuse(reason: str) -> None:
    print(f"token refused: {reason}", file=sys.stderr, flush=True)


class ConsolaTokens:
    """The SDK's TokenVerifier: a token is good when consola's JWKS verifies it for this URL."""

    def __init__(self, issuer: str, resource: str):
        self.issuer = issuer
        self.resource = resource
        self.jwks = jwt.PyJWKClient(f"{issuer}/.well-known/jwks.json", cache_keys=True, timeout=5)

    async def verify_token(self, token: str) -> AccessToken | None:
        try:
            header = jwt.get_unverified_header(token)
            if header.get("typ", "").lower() not in ("at+jwt", "application/at+jwt"):
                refuse(f"typ {header.get('typ')!r} is not at+jwt")
                return None
            key = await anyio.to_thread.run_sync(self.jwks.get_signing_key_from_jwt, token)
            claims = jwt.decode(
                token,
                key,
                algorithms=ALGORITHMS,
                audience=self.resource,
                issuer=self.issuer,
                options={"require": ["exp", "iat", "iss", "aud", "sub", "client_id"]},
            )
        except jwt.PyJWTError as err:
            refuse(f"{type(err).__name__}: {err}")
            return None
        return AccessToken(
            token=token,
            client_id=claims["client_id"],
            scopes=claims.get("scope", "").split(),
            expires_at=claims["exp"],
            resource=claims["aud"],
            subject=claims["sub"],
            claims=claims,
        )


def main() -> None:
    issuer, scope = sys.argv[1:3]
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    url = f"http://127.0.0.1:{sock.getsockname()[1]}/mcp"

    server = MCPServer(
        "Mantenimiento",
        token_verifier=ConsolaTokens(issuer, url),
        auth=AuthSettings(
            issuer_url=issuer,
            resource_server_url=url,
            required_scopes=[scope],
            # The verifier checks `aud` itself, and the SDK checks it again.
            validate_token_resource=True,
        ),
    )

    @server.tool()
    def whoami() -> dict:
        """Who called: the claims of the verified access token."""
        token = get_access_token()
        claims = token.claims or {}
        return {key: claims.get(key) for key in ("iss", "aud", "client_id", "sub", "scope")}

    @server.tool()
    def asset_status(code: str) -> str:
        """The state of an asset of the plant."""
        return f"{code}: operativo"

    app = server.streamable_http_app()
    config = uvicorn.Config(app, log_level="warning", lifespan="on")
    running = uvicorn.Server(config)

    def watch_stdin() -> None:
        sys.stdin.read()
        os._exit(0)

    threading.Thread(target=watch_stdin, daemon=True).start()
    deadline = threading.Timer(600, lambda: os._exit(3))
    deadline.daemon = True
    deadline.start()
    print(json.dumps({"url": url}), flush=True)
    running.run(sockets=[sock])


if __name__ == "__main__":
    main()
