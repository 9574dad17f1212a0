# -*- coding: utf-8 -*-
# Copyright: autoport.zos contributors
# Apache License 2.0 (see LICENSE)
"""Make the sample ports' upstream source archives, reproducibly.

    python samples/make_mirror.py            # rewrite samples/mirror/<tool>-<ver>.tar.gz
    python samples/make_mirror.py --check    # exit 1 when a committed archive differs from a fresh one
    python samples/make_mirror.py --git DIR  # also write DIR/<tool>.git bare repositories (tag v<ver>)

Every archive is a plain ustar stream of samples/upstream/<tool>-<ver>/ with sorted
entries, a fixed mtime, owner root:root and modes taken only from the executable
bit, gzip-compressed with a zero header timestamp and no file name. The same
sources therefore always give the same tar bytes; --check compares the
uncompressed streams, since a different zlib may compress the same bytes
differently.
"""

from __future__ import annotations

import argparse
import gzip
import io
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
UPSTREAM = HERE / "upstream"
MIRROR = HERE / "mirror"

# 2023-11-14 22:13:20 UTC: any fixed moment will do, it only has to never change.
FIXED_MTIME = 1700000000
# Build leftovers that must never end up in an archive.
SKIP_NAMES = {".git", "__pycache__", ".DS_Store"}
SKIP_SUFFIXES = (".o", ".a", ".pyc", ".log")


def source_dirs() -> list[Path]:
    """Every samples/upstream/<tool>-<ver> directory, sorted."""
    return sorted(path for path in UPSTREAM.iterdir() if path.is_dir() and not path.name.startswith("."))


def _members(root: Path) -> list[Path]:
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(name for name in dirnames if name not in SKIP_NAMES)
        base = Path(dirpath)
        if base != root:
            found.append(base)
        for name in sorted(filenames):
            if name in SKIP_NAMES or name.endswith(SKIP_SUFFIXES):
                continue
            found.append(base / name)
    return sorted(found, key=lambda path: path.relative_to(root).as_posix())


def tar_bytes(source: Path) -> bytes:
    """The uncompressed, reproducible tar stream of one upstream directory (top folder = its name)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.USTAR_FORMAT) as archive:
        top = tarfile.TarInfo(source.name)
        top.type = tarfile.DIRTYPE
        _normalise(top, 0o755)
        archive.addfile(top)
        for path in _members(source):
            name = "%s/%s" % (source.name, path.relative_to(source).as_posix())
            info = tarfile.TarInfo(name)
            if path.is_dir():
                info.type = tarfile.DIRTYPE
                _normalise(info, 0o755)
                archive.addfile(info)
                continue
            data = path.read_bytes()
            info.size = len(data)
            _normalise(info, 0o755 if os.access(str(path), os.X_OK) else 0o644)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _normalise(info: tarfile.TarInfo, mode: int) -> None:
    info.mode = mode
    info.mtime = FIXED_MTIME
    info.uid = info.gid = 0
    info.uname = info.gname = "root"


def gzip_bytes(data: bytes) -> bytes:
    buffer = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, mtime=0, compresslevel=9) as handle:
        handle.write(data)
    return buffer.getvalue()


def archive_path(source: Path) -> Path:
    return MIRROR / ("%s.tar.gz" % source.name)


def write_archives() -> list[Path]:
    MIRROR.mkdir(exist_ok=True)
    written = []
    for source in source_dirs():
        target = archive_path(source)
        data = gzip_bytes(tar_bytes(source))
        if target.is_file() and gzip.decompress(target.read_bytes()) == gzip.decompress(data):
            continue
        target.write_bytes(data)
        written.append(target)
    return written


def stale_archives() -> list[str]:
    """Names of committed archives whose tar stream differs from a fresh build (or that are missing)."""
    problems = []
    for source in source_dirs():
        target = archive_path(source)
        if not target.is_file():
            problems.append("%s is missing" % target.name)
        elif gzip.decompress(target.read_bytes()) != tar_bytes(source):
            problems.append("%s differs from samples/upstream/%s" % (target.name, source.name))
    return problems


def make_git_repo(source: Path, dest: Path) -> Path:
    """Write dest/<tool>.git: a bare repository of one upstream directory, tagged v<ver>, branch main.

    Commit dates and author are fixed, so the commit id is the same on every run.
    """
    tool, version = source.name.rsplit("-", 1)
    bare = dest / ("%s.git" % tool)
    work = dest / (".%s-work" % tool)
    env = dict(os.environ)
    env.update(
        {
            "GIT_AUTHOR_NAME": "autoport samples",
            "GIT_AUTHOR_EMAIL": "samples@example.invalid",
            "GIT_COMMITTER_NAME": "autoport samples",
            "GIT_COMMITTER_EMAIL": "samples@example.invalid",
            "GIT_AUTHOR_DATE": "%d +0000" % FIXED_MTIME,
            "GIT_COMMITTER_DATE": "%d +0000" % FIXED_MTIME,
            "GIT_CONFIG_NOSYSTEM": "1",
            "HOME": str(dest),
        }
    )
    with tarfile.open(fileobj=io.BytesIO(tar_bytes(source)), mode="r") as archive:
        for member in archive.getmembers():
            target = work / Path(member.name).relative_to(source.name) if member.name != source.name else work
            if member.isdir():
                target.mkdir(parents=True, exist_ok=True)
            else:
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(archive.extractfile(member).read())
                target.chmod(member.mode)

    def git(*args: str, cwd: Path) -> None:
        subprocess.run(["git", *args], cwd=str(cwd), env=env, check=True, stdout=subprocess.DEVNULL)

    git("init", "-q", "-b", "main", ".", cwd=work)
    git("add", "-A", cwd=work)
    git("commit", "-q", "-m", "%s %s" % (tool, version), cwd=work)
    git("tag", "v%s" % version, cwd=work)
    git("clone", "-q", "--bare", str(work), str(bare), cwd=dest)
    shutil.rmtree(str(work))
    return bare


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--check", action="store_true", help="only compare the committed archives with fresh ones")
    parser.add_argument("--git", metavar="DIR", help="also write bare git repositories of the sources into DIR")
    args = parser.parse_args(argv)
    if args.check:
        problems = stale_archives()
        for problem in problems:
            print(problem, file=sys.stderr)
        return 1 if problems else 0
    for path in write_archives():
        print("wrote %s" % path.relative_to(HERE.parent))
    if args.git:
        dest = Path(args.git).resolve()
        dest.mkdir(parents=True, exist_ok=True)
        for source in source_dirs():
            print("wrote %s" % make_git_repo(source, dest))
    return 0


if __name__ == "__main__":
    sys.exit(main())
