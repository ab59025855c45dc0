"""An MCP client that runs the MCP Python SDK's own OAuth flow (its OAuthClientProvider)
against an MCP server whose authorization server is consola: from the server's 401 the SDK
finds the protected resource metadata (RFC 9728) and consola's metadata (RFC 8414),
registers itself (RFC 7591) as a public client, sends the user to the authorization
endpoint with PKCE and `resource` (RFC 8707), and trades the code for a token; it then
lists the tools, calls one, lets its token expire and calls another, which makes the SDK
refresh it.

    CONSOLA_TEST_PASSWORD=... python3 agent.py MCP_URL USERNAME [CLIENT_METADATA_URL]

With CLIENT_METADATA_URL the SDK is given that HTTPS URL as its Client ID Metadata Document
(its `client_metadata_url`): when consola's metadata says
client_id_metadata_document_supported, the SDK registers nothing and uses the URL as its
client_id, and consola fetches the document there. Its contents must name this run's redirect
URI, so the client first prints {"event": "redirect_uri", "redirect_uri": ...} and waits for
a line "published" on standard input, which says the document is there, before it starts.

What a person does in the browser, the redirect handler does by HTTP: it opens the
authorization URL and, while consola says the client waits for approval, prints
{"event": "pending", "client_id": ...} and waits for a line "approved" on standard input
before it tries again; then it signs in as USERNAME, consents, and reads the code from the
303's Location without following it. The last line printed is {"event": "done", ...}: what
the tools answered, the client_id (registered, or the document's URL), the `resource` the
SDK asked for, and the method, path and status of every request the SDK made. Neither the password nor a token is
printed.
"""

import json
import os
import socket
import sys
import time
from urllib.parse import parse_qsl, urlencode, urlsplit

import anyio
import httpx2
from mcp.client import Client
from mcp.client.auth import AuthorizationCodeResult, OAuthClientProvider
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.auth import OAuthClientInformationFull, OAuthClientMetadata, OAuthToken

PENDING = "espera la aprobación"


def say(event: str, **fields) -> None:
    print(json.dumps({"event": event, **fields}), flush=True)


async def wait_for(word: str) -> None:
    """Waits for the test to say `word` on standard input."""
    read = sys.stdin.readline
    line = await anyio.to_thread.run_sync(read, abandon_on_cancel=True)
    if line.strip() != word:
        raise RuntimeError(f"the test said {line.strip()!r}, not {word}")


class Memory:
    """The SDK's TokenStorage, in memory: what it keeps between requests of this run."""

    def __init__(self) -> None:
        self.tokens: OAuthToken | None = None
        self.client: OAuthClientInformationFull | None = None
        self.tokens_saved = 0

    async def get_tokens(self) -> OAuthToken | None:
        return self.tokens

    async def set_tokens(self, tokens: OAuthToken) -> None:
        self.tokens = tokens
        self.tokens_saved += 1

    async def get_client_info(self) -> OAuthClientInformationFull | None:
        return self.client

    async def set_client_info(self, client_info: OAuthClientInformationFull) -> None:
        self.client = client_info


class Person:
    """The user at the browser: signs in and consents on consola's page."""

    def __init__(self, username: str, password: str, redirect_uri: str) -> None:
        self.username = username
        self.password = password
        self.redirect_uri = redirect_uri
        self.http = httpx2.AsyncClient(follow_redirects=False, timeout=10, trust_env=False)
        self.pending_pages = 0
        self.resource: str | None = None
        self.answer: dict[str, str] = {}

    async def open(self, authorization_url: str) -> None:
        """The SDK's redirect_handler."""
        parts = urlsplit(authorization_url)
        params = parse_qsl(parts.query, keep_blank_values=True)
        query = dict(params)
        self.resource = query.get("resource")
        endpoint = f"{parts.scheme}://{parts.netloc}{parts.path}"
        with anyio.fail_after(20):
            while True:
                page = await self.http.get(authorization_url)
                if PENDING not in page.text:
                    break
                self.pending_pages += 1
                if self.pending_pages == 1:
                    say("pending", client_id=query.get("client_id"), status=page.status_code)
                    await wait_for("approved")
                else:
                    # Still waiting after the approval: told in the result, which the
                    # test checks, rather than as a timeout here.
                    await anyio.sleep(0.2)
        if page.status_code != 200 or 'name="password"' not in page.text:
            raise RuntimeError(f"no login form: {page.status_code} {page.text[:300]}")
        form = params + [
            ("username", self.username),
            ("password", self.password),
            ("decision", "approve"),
        ]
        answer = await self.http.post(
            endpoint,
            content=urlencode(form),
            headers={"content-type": "application/x-www-form-urlencoded"},
        )
        location = answer.headers.get("location", "")
        if answer.status_code != 303 or not location.startswith(self.redirect_uri + "?"):
            # Where it went, without the query: it may hold a code.
            where = urlsplit(location)._replace(query="").geturl()
            raise RuntimeError(f"consent answered {answer.status_code} to {where!r}")
        self.answer = dict(parse_qsl(urlsplit(location).query))
        if "code" not in self.answer:
            error = self.answer.get("error"), self.answer.get("error_description")
            raise RuntimeError(f"no code: {error}")

    async def callback(self) -> AuthorizationCodeResult:
        """The SDK's callback_handler: what came back on the redirect URI."""
        return AuthorizationCodeResult(
            code=self.answer["code"], state=self.answer.get("state"), iss=self.answer.get("iss")
        )


def text(result) -> str:
    """The text a tool answered."""
    if result.is_error:
        raise RuntimeError(f"the tool failed: {result.content}")
    return result.content[0].text


async def main() -> None:
    mcp_url, username = sys.argv[1:3]
    client_metadata_url = sys.argv[3] if len(sys.argv) > 3 else None
    # The redirect URI is a port of this machine's loopback that this run holds; the code
    # is read from the Location header, as a browser's would be, without a request to it.
    callback = socket.socket()
    callback.bind(("127.0.0.1", 0))
    redirect_uri = f"http://127.0.0.1:{callback.getsockname()[1]}/callback"
    person = Person(username, os.environ["CONSOLA_TEST_PASSWORD"], redirect_uri)
    if client_metadata_url is not None:
        say("redirect_uri", redirect_uri=redirect_uri)
        await wait_for("published")
    storage = Memory()
    oauth = OAuthClientProvider(
        server_url=mcp_url,
        client_metadata=OAuthClientMetadata(
            client_name="Agente MCP de prueba",
            redirect_uris=[redirect_uri],
            token_endpoint_auth_method="none",
            grant_types=["authorization_code", "refresh_token"],
            response_types=["code"],
        ),
        storage=storage,
        redirect_handler=person.open,
        callback_handler=person.callback,
        client_metadata_url=client_metadata_url,
    )
    requests: list[dict] = []

    async def seen(response: httpx2.Response) -> None:
        requests.append(
            {
                "method": response.request.method,
                "url": str(response.request.url.copy_with(query=None)),
                "status": response.status_code,
            }
        )

    with anyio.fail_after(45):
        async with httpx2.AsyncClient(
            auth=oauth, timeout=15, trust_env=False, event_hooks={"response": [seen]}
        ) as http:
            async with Client(streamable_http_client(mcp_url, http_client=http)) as client:
                tools = sorted(tool.name for tool in (await client.list_tools()).tools)
                whoami = json.loads(text(await client.call_tool("whoami", {})))
                first = storage.tokens.access_token
                # The token's lifetime runs out: the SDK's next request refreshes it first.
                oauth.context.token_expiry_time = time.time() - 1
                status = text(await client.call_tool("asset_status", {"code": "BOMBA-7"}))
                refreshed = storage.tokens.access_token != first
    say(
        "done",
        tools=tools,
        whoami=whoami,
        asset_status=status,
        refreshed=refreshed,
        tokens_saved=storage.tokens_saved,
        client_id=storage.client.client_id,
        token_endpoint_auth_method=storage.client.token_endpoint_auth_method,
        resource=person.resource,
        pending_pages=person.pending_pages,
        iss=person.answer.get("iss"),
        requests=requests,
    )


if __name__ == "__main__":
    anyio.run(main)
