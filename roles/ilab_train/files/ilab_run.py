# -*- coding: utf-8 -*-
# Copyright: autoport.zos contributors
# Apache License 2.0 (see LICENSE)
"""Run the `ilab` command line, optionally with full-precision CPU training.

Usage: ilab_run.py [--cpu-fp32] -- ILAB ARGUMENTS...

Runs inside the ilab virtual environment. Why --cpu-fp32: `ilab model train --pipeline
simple` hard-codes bf16 mixed precision (SFTConfig(bf16=True)) when it trains on a CPU.
On a CPU without native bfloat16 (no AVX512-BF16/AMX, e.g. AVX2-only hosts) every bf16
matmul is emulated: on the 2-core reference host one training step of a 135M model took
about 180 s in bf16 and 20 s in float32. The flag keeps ilab's own code and only turns
bf16/fp16 off in the training arguments it builds.
"""

from __future__ import annotations

import sys


def force_full_precision() -> None:
    from instructlab.train import linux_train

    original = linux_train.SFTConfig

    def full_precision_config(*args, **kwargs):
        kwargs["bf16"] = False
        kwargs["fp16"] = False
        return original(*args, **kwargs)

    linux_train.SFTConfig = full_precision_config


def main(argv: list[str]) -> int:
    if "--" not in argv:
        print("usage: ilab_run.py [--cpu-fp32] -- ILAB ARGUMENTS...", file=sys.stderr)
        return 2
    split = argv.index("--")
    options, ilab_args = argv[:split], argv[split + 1:]
    unknown = [option for option in options if option != "--cpu-fp32"]
    if unknown:
        print("ilab_run.py: unknown option(s) %s" % " ".join(unknown), file=sys.stderr)
        return 2
    if "--cpu-fp32" in options:
        force_full_precision()
        print("ilab_run.py: CPU training in float32 (bf16 mixed precision turned off)", flush=True)
    from instructlab.lab import ilab

    sys.argv = ["ilab"] + ilab_args
    try:
        ilab()  # click: raises SystemExit with the exit code
    except SystemExit as done:
        code = done.code
        return code if isinstance(code, int) else (0 if code is None else 1)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
