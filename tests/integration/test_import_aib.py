"""playbooks/import-aib.yml: an Image Builder template file becomes an image definition file that
the strict loader reads and the validator accepts; a second run leaves the file alone."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.aib_templates import IDENTITY, TEMPLATE
from tests.support.paths import REPO

sys.path.insert(0, str(REPO / "collections"))

from ansible_collections.avd.golden.plugins.plugin_utils._image_spec.loader import read_image_spec_file
from ansible_collections.avd.golden.plugins.plugin_utils._image_spec.spec import validate_image_spec

pytestmark = pytest.mark.integration


def _import(template: Path, out: Path) -> subprocess.CompletedProcess[str]:
    evars = {
        "aib_template": str(template),
        "image_spec_out": str(out),
        "aib_name": "win11-24h2-avd",
        "aib_identity": IDENTITY,
    }
    return subprocess.run(
        ["ansible-playbook", "playbooks/import-aib.yml", "-e", json.dumps(evars)],
        cwd=REPO,
        env={**os.environ, "ANSIBLE_COLLECTIONS_PATH": str(REPO / "collections"), "ANSIBLE_NOCOLOR": "1"},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_a_template_file_becomes_a_definition_file(tmp_path: Path) -> None:
    template = tmp_path / "template.json"
    # A value that would be a template expression if it were ever evaluated.
    hostile = json.loads(json.dumps(TEMPLATE))
    hostile["properties"]["customize"][3]["scriptUri"] = "https://example.org/{{ lookup('env', 'HOME') }}.ps1"
    template.write_text(json.dumps(hostile))
    out = tmp_path / "images" / "win11.yml"
    out.parent.mkdir()
    first = _import(template, out)
    assert first.returncode == 0, first.stdout[-4000:] + first.stderr[-2000:]
    text = out.read_text()
    spec = read_image_spec_file(out)
    assert validate_image_spec(spec, today="2026-12-01") == []
    assert spec["avd"] == {"time_zone_redirection": True, "storage_sense": False}
    assert spec["gallery"]["image_definition"]["publisher"] == "Contoso"
    # What was not imported is in the file, as comments, the hostile URL verbatim.
    assert "#   - customize[2] PowerShell installApp: inline" in text
    assert "{{ lookup('env', 'HOME') }}.ps1" in text and os.environ.get("HOME", "/root") + ".ps1" not in text
    written = out.stat().st_mtime_ns
    second = _import(template, out)
    assert second.returncode == 0, second.stdout[-4000:]
    # The second run leaves the file alone: same content, not rewritten.
    assert out.read_text() == text
    assert out.stat().st_mtime_ns == written
