"""The modules' documentation as ansible-doc shows it, doc fragments merged (shared by the module tests)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[3]
MODULES = sorted(path.stem for path in (REPO / "plugins" / "modules").glob("*.py") if path.stem != "__init__")


def ansible_doc(*names: str) -> dict[str, Any]:
    """{short name: doc} from `ansible-doc --json` for autoport.zos modules (all when none named)."""
    wanted = list(names) or MODULES
    command = [str(Path(sys.executable).parent / "ansible-doc"), "-t", "module", "--json"] + ["autoport.zos." + name for name in wanted]
    env = dict(os.environ, ANSIBLE_CONFIG=str(REPO / "ansible.cfg"))
    out = subprocess.run(command, capture_output=True, text=True, check=True, env=env, cwd=str(REPO), timeout=120).stdout
    return {fqcn.rsplit(".", 1)[1]: entry["doc"] for fqcn, entry in json.loads(out).items()}
