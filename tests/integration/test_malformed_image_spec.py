"""build-golden.yml refuses malformed image spec files before Azure is asked to change anything.

One sandbox, one run of the real entry point per file, each class of the input hardening once: a
value with a trailing newline (a YAML block scalar), a key given twice, an alias bomb and a date
that does not exist. Each run fails in the validate phase naming the file's field, and the ARM
emulator records no write request (PUT, PATCH, POST, DELETE) and holds no resource. The full table
of malformed files is the unit test tests/unit/plugins/filter/test_image_spec_input.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.guest_observer import run_playbook
from tests.support.paths import REPO
from tests.support.sandbox_process import Sandbox

pytestmark = pytest.mark.integration

GOOD = (REPO / "images" / "win11-24h2-avd.yml").read_text()
WRITES = ("PUT", "PATCH", "POST", "DELETE")


def _edit(old: str, new: str) -> str:
    assert GOOD.count(old) == 1, old
    return GOOD.replace(old, new)


def _bomb() -> str:
    lines = ['  l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"  l{n}: &l{n} [" + ", ".join([f"*l{n - 1}"] * 9) + "]" for n in range(1, 10)]
    return GOOD + "x-bombs:\n" + "\n".join(lines) + "\n"


# (file name, text, what the failure must say)
CASES = [
    (
        "trailing-newline.yml",
        _edit("\nlocation: westeurope\n", "\nlocation: |\n  westeurope\n"),
        "location: must not end with a newline",
    ),
    ("duplicate-key.yml", GOOD + "location: northeurope\n", "location: duplicate key (first at line"),
    ("alias-bomb.yml", _bomb(), "x-bombs.l5: more than 100000 values once its aliases are expanded"),
    (
        "impossible-date.yml",
        _edit("  end_of_life_date: null\n", "  end_of_life_date: 2030-02-30\n"),
        "gallery.end_of_life_date: must be a real date, 2030-02-30 does not exist",
    ),
]


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox() as sb:
        yield sb


def test_malformed_specs_fail_in_validate_with_no_arm_write(sandbox: Sandbox, tmp_path: Path) -> None:
    # A read first, so the request log is shown to record what reaches the emulator.
    groups = f"/subscriptions/{sandbox.subscription_id}/resourcegroups?api-version=2022-09-01"
    assert sandbox.request("GET", groups).status == 200
    probed = sandbox.requests()
    assert any(r["method"] == "GET" and r["path"].lower().startswith(groups.split("?")[0]) for r in probed)
    failures = []
    for name, text, expected in CASES:
        path = tmp_path / name
        path.write_text(text)
        run = run_playbook(
            sandbox,
            "build-golden.yml",
            "-e",
            f"image_spec={path}",
            "-e",
            f"image_spec_artifacts_root={tmp_path / 'artifacts'}",
            timeout=300,
        )
        if (
            run.returncode == 0
            or expected not in run.stdout
            or f"Image spec {path} is not valid" not in run.stdout
        ):
            failures.append(f"{name}: rc={run.returncode}\n{run.stdout[-3000:]}\n{run.stderr[-1500:]}")
    assert failures == [], "\n\n".join(failures)
    # The runs' own requests (read-only look-ups would be fine): not one write, to ARM or elsewhere.
    runs = sandbox.requests()[len(probed) :]
    writes = [f"{r['method']} {r['path']}" for r in runs if r["method"] in WRITES]
    assert writes == []
    assert sandbox.state()["resources"] == {}
    assert sandbox.unmodelled() == []
