"""autoport.zos.git_webhook: a git push webhook that only lets signed payloads through.

ansible-rulebook's own eda.builtin.webhook listens on every address by default and skips
the signature check when its secret is empty; this source refuses to start without a
secret, listens on the loopback address unless told otherwise, checks the HMAC-SHA256
signature over the exact bytes received (GitHub's X-Hub-Signature-256, also sent by
Gitea, Forgejo and GitLab's "signed" webhooks), bounds the body size, answers GitHub's
ping, and drops a redelivered delivery id. Only the payload and a few harmless headers
reach the rulebook; the secret never does.

Arguments:
  host: address to listen on (default 127.0.0.1).
  port: TCP port (required).
  path: URL path of the hook (default /webhook).
  secret_env: environment variable holding the shared secret (default
    AUTOPORT_WEBHOOK_SECRET). It is removed from the environment once read, so the
    playbooks the rulebook starts never inherit it.
  secret: the shared secret itself, for EDA controllers that inject credentials as
    variables. One of secret / secret_env must give a non-empty value.
  signature_header: default X-Hub-Signature-256.
  event_header: default X-GitHub-Event; events other than push are answered and dropped.
  max_body_bytes: default 5 MiB (GitHub caps payloads at 25 MB; a push of the port
    list is a few KB).
  max_events: stop after this many accepted pushes (0: never; for tests and drills).

Example:
  sources:
    - autoport.zos.git_webhook:
        port: 5000
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import os
from collections import OrderedDict
from typing import Any

from aiohttp import web

logger = logging.getLogger(__name__)

DEFAULT_SECRET_ENV = "AUTOPORT_WEBHOOK_SECRET"
DEFAULT_MAX_BODY = 5 * 1024 * 1024
# Redeliveries of the same delivery id within this many recent ones are dropped.
DELIVERY_MEMORY = 512
# Headers passed on to the rulebook: nothing that authenticates.
FORWARDED_HEADERS = ("X-GitHub-Event", "X-GitHub-Delivery", "X-Gitea-Event", "X-Gitlab-Event", "User-Agent")


class WebhookConfigError(ValueError):
    """The source was given arguments it cannot run with."""


def read_secret(args: dict[str, Any], environ: Any = None) -> bytes:
    """The shared secret from args['secret'] or the environment variable args['secret_env'].

    The environment variable is removed once read so that child processes (the
    playbooks run by the rulebook) do not inherit it.
    """
    environ = os.environ if environ is None else environ
    secret = args.get("secret")
    env_name = args.get("secret_env") or DEFAULT_SECRET_ENV
    from_env = environ.pop(env_name, None)
    if not secret:
        secret = from_env
    if not isinstance(secret, str) or not secret.strip():
        raise WebhookConfigError(
            "autoport.zos.git_webhook needs a shared secret: set %s in the environment or give "
            "the secret argument; it will not accept unsigned pushes" % env_name
        )
    return secret.encode("utf-8")


def signature_matches(secret: bytes, body: bytes, header_value: str | None) -> bool:
    """True if header_value ('sha256=<hex>' or '<hex>') is the HMAC-SHA256 of body under secret."""
    if not header_value:
        return False
    given = header_value.strip()
    if given.lower().startswith("sha256="):
        given = given[len("sha256="):]
    expected = hmac.new(secret, body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, given.lower())


def parse_config(args: dict[str, Any]) -> dict[str, Any]:
    """Checked, typed arguments (the secret excluded)."""
    try:
        port = int(args["port"])
    except KeyError as exc:
        raise WebhookConfigError("autoport.zos.git_webhook: the port argument is required") from exc
    except (TypeError, ValueError) as exc:
        raise WebhookConfigError("autoport.zos.git_webhook: port %r is not a number" % (args.get("port"),)) from exc
    if not 0 < port <= 65535:
        raise WebhookConfigError("autoport.zos.git_webhook: port %d is out of range" % port)
    path = str(args.get("path") or "/webhook")
    if not path.startswith("/"):
        path = "/" + path
    try:
        max_body = int(args.get("max_body_bytes") or DEFAULT_MAX_BODY)
        max_events = int(args.get("max_events") or 0)
    except (TypeError, ValueError) as exc:
        raise WebhookConfigError("autoport.zos.git_webhook: max_body_bytes and max_events must be numbers") from exc
    if max_body <= 0:
        raise WebhookConfigError("autoport.zos.git_webhook: max_body_bytes must be positive")
    return {
        "host": str(args.get("host") or "127.0.0.1"),
        "port": port,
        "path": path,
        "signature_header": str(args.get("signature_header") or "X-Hub-Signature-256"),
        "event_header": str(args.get("event_header") or "X-GitHub-Event"),
        "max_body": max_body,
        "max_events": max_events,
    }


def build_app(queue: asyncio.Queue, config: dict[str, Any], secret: bytes, done: asyncio.Event) -> web.Application:
    """The aiohttp application: one POST route, signature first, then JSON."""
    deliveries: OrderedDict[str, None] = OrderedDict()
    accepted = {"count": 0}

    async def receive(request: web.Request) -> web.Response:
        if request.content_length is not None and request.content_length > config["max_body"]:
            return web.Response(status=413, text="payload too large\n")
        try:
            body = await request.read()
        except web.HTTPRequestEntityTooLarge:
            return web.Response(status=413, text="payload too large\n")
        if not signature_matches(secret, body, request.headers.get(config["signature_header"])):
            # Say nothing about why: a missing and a wrong signature look the same.
            logger.warning("git_webhook: refused a request with a missing or wrong signature from %s", request.remote)
            return web.Response(status=401, text="signature required\n")
        event_type = request.headers.get(config["event_header"], "push")
        if event_type == "ping":
            return web.Response(status=200, text="pong\n")
        if event_type.lower() not in ("push", "push hook"):
            return web.Response(status=202, text="ignored event %s\n" % event_type[:40])
        try:
            payload = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return web.Response(status=400, text="body is not JSON\n")
        if not isinstance(payload, dict):
            return web.Response(status=400, text="body is not a JSON object\n")
        delivery = request.headers.get("X-GitHub-Delivery") or request.headers.get("X-Gitea-Delivery") or ""
        if delivery:
            if delivery in deliveries:
                return web.Response(status=200, text="duplicate delivery\n")
            deliveries[delivery] = None
            while len(deliveries) > DELIVERY_MEMORY:
                deliveries.popitem(last=False)
        headers = {name: request.headers[name] for name in FORWARDED_HEADERS if name in request.headers}
        await queue.put({"payload": payload, "meta": {"headers": headers, "endpoint": config["path"]}})
        accepted["count"] += 1
        if config["max_events"] and accepted["count"] >= config["max_events"]:
            done.set()
        return web.Response(status=202, text="accepted\n")

    app = web.Application(client_max_size=config["max_body"])
    app.router.add_post(config["path"], receive)
    return app


async def main(queue: asyncio.Queue, args: dict[str, Any]) -> None:
    """ansible-rulebook entry point: serve until cancelled (or max_events pushes)."""
    config = parse_config(args)
    secret = read_secret(args)
    done = asyncio.Event()
    runner = web.AppRunner(build_app(queue, config, secret, done), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, config["host"], config["port"])
    await site.start()
    logger.info("git_webhook: listening on %s:%s path %s", config["host"], config["port"], config["path"])
    try:
        await done.wait()
        # Let the last response go out before the server closes.
        await asyncio.sleep(0.2)
    finally:
        await runner.cleanup()


if __name__ == "__main__":
    # Manual check: serve on 127.0.0.1:5000 and print what would reach the rulebook.
    class _PrintQueue(asyncio.Queue):
        async def put(self, item: Any) -> None:
            print(json.dumps(item, indent=1)[:2000])

    asyncio.run(main(_PrintQueue(), {"port": 5000}))
