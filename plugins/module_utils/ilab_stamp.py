# -*- coding: utf-8 -*-
# Copyright: autoport.zos contributors
# Apache License 2.0 (see LICENSE)
"""The stamp files of the ilab steps: step_stamp under its earlier name (every name it had
is importable from here). New code imports step_stamp."""

from __future__ import annotations

# pylint: disable=unused-import
from ansible_collections.autoport.zos.plugins.module_utils.step_stamp import CHUNK, DEFAULT_EXCLUDES, HASH_MODES, STAMP_FORMAT  # noqa: F401
from ansible_collections.autoport.zos.plugins.module_utils.step_stamp import StampError, fingerprint, read_stamp, stamp_status  # noqa: F401
from ansible_collections.autoport.zos.plugins.module_utils.step_stamp import write_stamp  # noqa: F401
# pylint: enable=unused-import
