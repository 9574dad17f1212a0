# -*- coding: utf-8 -*-
# Copyright: autoport.zos contributors
# Apache License 2.0 (see LICENSE)
"""Render an SDG pipeline directory from one of instructlab-sdg's built-in pipelines.

Runs inside the ilab virtual environment. Why: instructlab-sdg formats every LLM prompt
with a template picked by model family (granite, mixtral, llama, blank); a teacher in
another chat format (SmolLM2 speaks ChatML) needs the template set on each LLM block
(`model_prompt`). The same pass caps the blocks' completion length (`max_tokens`) so
prompt + completion stay inside the llama.cpp context.

Usage: render_pipeline.py --base simple|full|DIR --out DIR [--model-prompt TEXT] [--max-tokens N]
Writes only files whose content changes; prints {"changed": bool, "files": [...]} as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

PIPELINE_FILES = ("knowledge.yaml", "freeform_skills.yaml", "grounded_skills.yaml")


def base_directory(base):
    if os.path.isabs(base):
        return base
    from importlib import resources

    return str(resources.files("instructlab.sdg.pipelines").joinpath(base))


def render(base_dir, model_prompt, max_tokens):
    import yaml

    rendered = {}
    for name in PIPELINE_FILES:
        source = os.path.join(base_dir, name)
        with open(source, "r", encoding="utf-8") as handle:
            content = yaml.safe_load(handle)
        for block in content.get("blocks", []):
            if block.get("type") != "LLMBlock":
                continue
            config = block.setdefault("config", {})
            path = config.get("config_path")
            if path and not os.path.isabs(path):
                # Relative config paths are resolved against the pipeline file's folder.
                config["config_path"] = os.path.normpath(os.path.join(base_dir, path))
            if model_prompt is not None:
                config["model_prompt"] = model_prompt
            if max_tokens:
                gen_kwargs = config.setdefault("gen_kwargs", {})
                gen_kwargs["max_tokens"] = min(int(gen_kwargs.get("max_tokens", max_tokens)), max_tokens)
        rendered[name] = "# Rendered by autoport.zos from %s; do not edit.\n" % source + yaml.safe_dump(content, sort_keys=False, width=1000)
    return rendered


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--model-prompt", default=None)
    parser.add_argument("--max-tokens", type=int, default=0)
    args = parser.parse_args(argv)
    base_dir = base_directory(args.base)
    missing = [name for name in PIPELINE_FILES if not os.path.isfile(os.path.join(base_dir, name))]
    if missing:
        print("render_pipeline: %s is not an SDG pipeline directory (missing %s)" % (base_dir, ", ".join(missing)), file=sys.stderr)
        return 2
    rendered = render(base_dir, args.model_prompt, args.max_tokens)
    os.makedirs(args.out, exist_ok=True)
    changed = []
    for name, text in rendered.items():
        target = os.path.join(args.out, name)
        try:
            with open(target, "r", encoding="utf-8") as handle:
                if handle.read() == text:
                    continue
        except FileNotFoundError:
            pass
        with open(target + ".tmp", "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(target + ".tmp", target)
        changed.append(name)
    print(json.dumps({"changed": bool(changed), "files": changed, "base": base_dir}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
