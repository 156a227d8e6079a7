"""Action plugin avd.golden.build_fanout: one child build-golden.yml run per image definition.

Runs on the controller (an action plugin, so it sees this run's command line): each child gets
the same inventory, options and extra vars, plus `image_spec=<file>` and `image_definitions=null`
last (a later -e wins). Every definition is validated first (playbooks/validate.yml in check
mode: nothing written, nothing created); then the builds run, at most `parallel` at once.
Logic: plugins/plugin_utils/_multi.py.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from pathlib import Path

from ansible import context
from ansible.plugins.action import ActionBase
from ansible_collections.avd.golden.plugins.plugin_utils import _cancel, _multi

DOCUMENTATION = r"""
---
module: build_fanout
short_description: Build many image definitions, one child run each, bounded in parallel
description: See plugins/plugin_utils/_multi.py and docs/contracts.md (many images in one run).
options:
  definitions:
    description: The definition files (already resolved).
    type: list
    elements: str
    required: true
  parallel:
    description: At most this many builds at once.
    type: int
    default: 2
  playbook_dir:
    description: The directory of build-golden.yml.
    type: str
    required: true
  summary_dir:
    description: Where summary.json and the children's logs go.
    type: str
    required: true
  run_id:
    description: The run id in summary.json.
    type: str
    required: true
author: avd.golden
"""


def _base_argv(playbook):
    args = context.CLIARGS
    argv = [sys.executable, "-m", "ansible.cli.playbook", playbook]
    for inv in args.get("inventory") or ():
        argv += ["-i", inv]
    for extra in args.get("extra_vars") or ():
        argv += ["-e", extra]
    if args.get("skip_tags"):
        argv += ["--skip-tags", ",".join(args["skip_tags"])]
    if args.get("tags") and list(args["tags"]) != ["all"]:
        argv += ["--tags", ",".join(args["tags"])]
    return argv


class ActionModule(ActionBase):
    _supports_check_mode = True

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        a = self._task.args
        files = list(a["definitions"])
        names = _multi.child_names(files)
        pdir = Path(a["playbook_dir"])
        out = Path(a["summary_dir"])
        parallel = _multi.check_parallel(a.get("parallel", _multi.DEFAULT_PARALLEL))
        env = _multi.child_env()

        def argv(playbook, file, check=False):
            last = json.dumps({"image_spec": str(Path(file).resolve()), "image_definitions": None})
            return _base_argv(str(pdir / playbook)) + ["-e", last] + (["--check"] if check else [])

        checks = _multi.FanOut(
            {n: argv("playbooks/validate.yml", f, True) for n, f in zip(names, files, strict=True)},
            parallel,
            out / "validate",
            env=env,
        )
        bad = {n: r for n, r in checks.run().items() if r["returncode"] != 0}
        if bad:
            result["failed"] = True
            result["msg"] = "image_definitions: not valid, nothing was built: " + "; ".join(
                f"{f}: see {bad[n]['log']}" for n, f in zip(names, files, strict=True) if n in bad
            )
            return result
        if self._task.check_mode:
            result.update(changed=False, msg=f"check mode: {len(files)} definition(s) valid, nothing built")
            return result

        builds = {n: argv("build-golden.yml", f) for n, f in zip(names, files, strict=True)}
        fan = _multi.FanOut(builds, parallel, out, env=env)
        previous = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
        for sig in previous:
            signal.signal(sig, lambda s, _f: fan.cancel(s))
        # The main process's cancel handler (build_cancel) forwards its first signal to us.
        reg = Path(_cancel.forward_dir(os.getppid()))
        reg.mkdir(mode=0o700, parents=True, exist_ok=True)
        (reg / str(os.getpid())).touch()
        try:
            results = fan.run()
        finally:
            (reg / str(os.getpid())).unlink(missing_ok=True)
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        summary = _multi.summarise(a["run_id"], files, names, results, fan.cancelled_by)
        (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
        result.update(
            changed=True,
            summary=summary,
            summary_path=str(out / "summary.json"),
            table=_multi.table(summary),
            failed=not summary["succeeded"],
        )
        if result["failed"]:
            result["msg"] = f"{summary['results']}: see {out / 'summary.json'}"
        return result
