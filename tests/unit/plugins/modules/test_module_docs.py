"""Every module of the collection documents itself in YAML that parses: ansible-doc, ansible-lint
and the sandbox's argument validation (sandbox/windows/argspec.py) all read it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[4]
MODULES = sorted((REPO_ROOT / "plugins" / "modules").glob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.stem)
@pytest.mark.parametrize("block", ["DOCUMENTATION", "EXAMPLES", "RETURN"])
def test_module_doc_block_parses(path: Path, block: str) -> None:
    text = path.read_text()
    found = re.search(rf'^{block} = r"""(.*?)"""', text, re.S | re.M)
    assert found, f"{path.name} has no {block}"
    data = yaml.safe_load(found.group(1))
    assert data, f"{path.name}: {block} is empty"
    if block == "DOCUMENTATION":
        assert data["module"] == path.stem and data["short_description"]
