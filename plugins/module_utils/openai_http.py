# -*- coding: utf-8 -*-
# Copyright: autoport.zos contributors
# Apache License 2.0 (see LICENSE)
"""The one HTTP client of the OpenAI-compatible endpoints (evaluation and auto-port).

A POST of a JSON body and the raw answer, through http.client (standard library only: it
runs on build hosts and in benchmarks, outside Ansible's module_utils.urls). Every failure
is an OpenAIHTTPError whose message names what went wrong, never the key.
"""

from __future__ import annotations

import http.client
import json
import socket
import urllib.parse

MAX_ANSWER_BYTES = 16 * 1024 * 1024


class OpenAIHTTPError(Exception):
    """The endpoint could not be asked or did not answer; the message says why."""


def post_json(url: str, path: str, body: dict, api_key: str = "", timeout: float = 60.0) -> bytes:
    """POST body as JSON to url + path; the answer's bytes when the status is 200."""
    parsed = urllib.parse.urlparse(url.rstrip("/") + path)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise OpenAIHTTPError("endpoint %r is not an http(s) URL" % url)
    headers = {"Content-Type": "application/json"}
    if api_key:
        headers["Authorization"] = "Bearer " + api_key
    kind = http.client.HTTPSConnection if parsed.scheme == "https" else http.client.HTTPConnection
    connection = kind(parsed.hostname, parsed.port, timeout=timeout)
    try:
        connection.request("POST", parsed.path + ("?" + parsed.query if parsed.query else ""), body=json.dumps(body).encode("utf-8"),
                           headers=headers)
        response = connection.getresponse()
        raw = response.read(MAX_ANSWER_BYTES)
    except (socket.timeout, TimeoutError):
        raise OpenAIHTTPError("endpoint timed out after %gs" % timeout)
    except (ConnectionError, socket.gaierror) as exc:
        raise OpenAIHTTPError("endpoint unreachable: %s" % exc)
    except (OSError, http.client.HTTPException, ValueError) as exc:
        raise OpenAIHTTPError("endpoint failed: %s" % exc)
    finally:
        connection.close()
    if response.status != 200:
        detail = " ".join(raw[:500].decode("utf-8", "replace").split())[:300]
        raise OpenAIHTTPError("endpoint answered HTTP %d: %s" % (response.status, detail))
    return raw
