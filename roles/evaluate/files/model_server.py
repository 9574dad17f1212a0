# -*- coding: utf-8 -*-
# Copyright: autoport.zos contributors
# Apache License 2.0 (see LICENSE)
"""Start and stop llama-cpp-python's OpenAI-compatible server for the evaluation.

start: refuses a port already in use, starts `python -m llama_cpp.server --config_file F` in its
own session with its output in a log, waits until GET /v1/models answers, prints
{"pid", "url", "seconds"} as JSON. A server that exits or never answers is stopped and the
log's tail is printed. stop: ends the process group named in the pid file (TERM, then KILL).
Standard library only (it runs with the interpreter that has llama_cpp installed).
"""

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request


def port_in_use(host, port):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return True
    return False


def alive(pid):
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True


def stop(pid_file, grace=15.0):
    try:
        with open(pid_file, "r", encoding="ascii") as handle:
            pid = int(handle.read().strip())
    except (OSError, ValueError):
        return False
    stopped = False
    if alive(pid):
        try:
            os.killpg(pid, signal.SIGTERM)
        except OSError:
            pass
        deadline = time.monotonic() + grace
        while alive(pid) and time.monotonic() < deadline:
            time.sleep(0.2)
            try:
                os.waitpid(pid, os.WNOHANG)
            except OSError:
                pass
        if alive(pid):
            try:
                os.killpg(pid, signal.SIGKILL)
            except OSError:
                pass
        stopped = True
    os.unlink(pid_file)
    return stopped


def tail(path, lines=30):
    try:
        with open(path, "r", encoding="utf-8", errors="replace") as handle:
            return "".join(handle.readlines()[-lines:])
    except OSError:
        return ""


def ready(url, timeout=2.0):
    try:
        with urllib.request.urlopen(url + "/models", timeout=timeout) as response:
            return response.status == 200
    except OSError:
        return False


def start(args):
    if os.path.exists(args.pid):
        stop(args.pid)
    if port_in_use(args.host, args.port):
        sys.exit("port %d on %s is in use by another program: set %s to a free port" % (args.port, args.host, args.port_variable))
    os.makedirs(os.path.dirname(os.path.abspath(args.log)), exist_ok=True)
    url = "http://%s:%d/v1" % (args.host, args.port)
    started = time.monotonic()
    with open(args.log, "ab") as log:
        process = subprocess.Popen(
            [args.python, "-m", "llama_cpp.server", "--config_file", args.config],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    with open(args.pid, "w", encoding="ascii") as handle:
        handle.write("%d\n" % process.pid)
    deadline = started + args.timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            os.unlink(args.pid)
            sys.exit("the model server exited with code %s before answering; %s ends with:\n%s" % (process.returncode, args.log, tail(args.log)))
        if ready(url):
            print(json.dumps({"pid": process.pid, "url": url, "seconds": round(time.monotonic() - started, 2)}))
            return
        time.sleep(0.5)
    stop(args.pid)
    sys.exit("the model server did not answer %s/models within %ss; %s ends with:\n%s" % (url, args.timeout, args.log, tail(args.log)))


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    begin = sub.add_parser("start")
    begin.add_argument("--config", required=True)
    begin.add_argument("--host", default="127.0.0.1")
    begin.add_argument("--port", type=int, required=True)
    begin.add_argument("--log", required=True)
    begin.add_argument("--pid", required=True)
    begin.add_argument("--python", default=sys.executable)
    begin.add_argument("--timeout", type=float, default=300.0)
    # The variable named in the "port in use" message (the caller's own setting).
    begin.add_argument("--port-variable", default="evaluate_serve_port")
    end = sub.add_parser("stop")
    end.add_argument("--pid", required=True)
    args = parser.parse_args()
    if args.command == "start":
        start(args)
    else:
        print(json.dumps({"stopped": stop(args.pid)}))


if __name__ == "__main__":
    main()
