"""Ports are data, not paths: a symbolic link in a port directory is never followed out of it
on the POSIX transfer (harvest.yml on localhost, which is also the controller here).

One port carries links to a controller file outside it (as a plain file and as a patch):
the port is refused naming the link, and the file's content reaches neither the build
host's directories nor any record, log or runner artifact. A port whose only link stays
inside it is harvested, the link arriving as a link.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from playbook_harness import REPO, load_json_lines, run_playbook

MARKER = "CONTROLLER-ONLY-7f3a9c"


def _files_holding(root: Path, text: str) -> list[str]:
    found = []
    for current, _dirs, files in os.walk(root):
        for name in files:
            path = Path(current) / name
            if path.is_symlink():
                continue
            try:
                if text.encode() in path.read_bytes():
                    found.append(str(path))
            except OSError:
                continue
    return found


def test_links_out_of_a_port_are_refused_and_never_followed(tmp_path: Path) -> None:
    samples = REPO / "samples" / "ports"
    secret_dir = tmp_path / "controller-home"
    secret_dir.mkdir()
    (secret_dir / "credentials").write_text("token=%s\n" % MARKER, encoding="utf-8")
    (secret_dir / "leak.patch").write_text(
        "--- a/src/run.c\n+++ b/src/run.c\n@@ -1 +1 @@\n-x\n+/* %s */\n" % MARKER, encoding="utf-8"
    )
    leak = tmp_path / "leakport"
    shutil.copytree(samples / "tinyprocport", leak)
    os.symlink(str(secret_dir / "credentials"), leak / "notes.txt")
    os.symlink(str(secret_dir / "leak.patch"), leak / "patches" / "src" / "zz-leak.patch")
    inner = tmp_path / "linkport"
    shutil.copytree(samples / "tinyprocport", inner)
    os.symlink("buildenv", inner / "buildenv.link")

    out = tmp_path / "out"
    remote = tmp_path / "remote"
    extravars = {
        "autoport_output_dir": str(out),
        "harvest_remote_dir": str(remote),
        "harvest_poll_interval": 1,
        "harvest_ports": [{"name": "leakport", "src": str(leak)}, {"name": "linkport", "src": str(inner)}],
    }
    run = run_playbook("harvest.yml", extravars, private_data_dir=str(tmp_path / "run"))
    assert run.rc != 0
    final = run.task_results("Fail when a port could not be harvested")
    assert final, run.stdout[-3000:]
    message = final[0]["msg"]
    assert "leakport" in message and "links outside" in message and "linkport" not in message.split(":")[0]
    # The refused port sent nothing to the build host.
    assert not (remote / "leakport" / "port").exists()
    # The port with an inner link was harvested; the link arrived as a link.
    assert os.readlink(remote / "linkport" / "port" / "buildenv.link") == "buildenv"
    records = load_json_lines(out / "harvest" / "linkport" / "records.jsonl")
    assert any(r["provenance"] == "build" for r in records)
    # The controller file's content is nowhere: build host, records, logs, runner artifacts.
    for root in (remote, out, tmp_path / "run"):
        assert _files_holding(root, MARKER) == [], root
