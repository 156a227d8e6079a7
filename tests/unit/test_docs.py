"""What the repository says about itself is true.

Every citation of the contracts names a file under docs/ that exists (and, with "section N", a
section it has); no tracked file cites the old, never-committed contracts file or carries an
absolute path of a development machine; and the product code never branches on the sandbox
(docs/contracts.md section 1).
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SKIPPED = {"requirements.lock"}

# Spelled in pieces so that this file does not match its own patterns.
OLD_CONTRACTS = re.compile("CONTRACTS" + r"\.md")
MACHINE_PATH = re.compile(r"(?<![\w.~-])/(?:" + "work|root|home" + r")/")
DOCS_REF = re.compile(r"(?<![\w/.-])docs/[\w./-]*\w(?:\s+section\s+(\d+))?")
# Product code: what runs in a build. READMEs may explain the sandbox; code must not test for it.
PRODUCT = ["build-golden.yml", "playbooks", "roles", "plugins"]
SANDBOX_WORD = re.compile(r"sandbox", re.IGNORECASE)


def _tracked_text_files() -> list[Path]:
    # The repository is a git checkout wherever the tests run (a clone in CI): no skip otherwise.
    out = subprocess.run(
        ["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True, timeout=60
    ).stdout
    files = []
    for name in out.decode().split("\0"):
        path = REPO / name
        if not name or name in SKIPPED or not path.is_file():
            continue
        data = path.read_bytes()
        if b"\0" not in data[:8192]:
            files.append(path)
    return files


def _lines(pattern: re.Pattern[str]) -> list[str]:
    return [
        f"{path.relative_to(REPO)}:{number}: {line.strip()}"
        for path in _tracked_text_files()
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1)
        if pattern.search(line)
    ]


def _sections(doc: Path) -> set[str]:
    return set(re.findall(r"^## (\d+)\.", doc.read_text(), re.MULTILINE))


def test_nothing_cites_the_old_contracts_file() -> None:
    assert _lines(OLD_CONTRACTS) == []


def test_no_absolute_development_paths() -> None:
    assert _lines(MACHINE_PATH) == []


def test_every_docs_reference_exists() -> None:
    broken = []
    for path in _tracked_text_files():
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
            for match in DOCS_REF.finditer(line):
                target = match.group(0).split()[0].rstrip(".")
                doc = REPO / target
                if not doc.exists():
                    broken.append(f"{path.relative_to(REPO)}:{number}: {target} does not exist")
                elif match.group(1) and match.group(1) not in _sections(doc):
                    where = f"{path.relative_to(REPO)}:{number}"
                    broken.append(f"{where}: {target} has no section {match.group(1)}")
    assert broken == []


def test_the_docs_are_linked_from_the_readme() -> None:
    readme = (REPO / "README.md").read_text()
    for doc in sorted((REPO / "docs").glob("*.md")):
        assert f"docs/{doc.name}" in readme, doc.name


def test_product_code_never_names_the_sandbox() -> None:
    files = []
    for entry in PRODUCT:
        path = REPO / entry
        candidates = [path] if path.is_file() else sorted(path.rglob("*"))
        files.extend(
            p
            for p in candidates
            if p.is_file()
            and p.suffix in (".yml", ".yaml", ".py", ".ps1", ".j2", ".json")
            and "molecule" not in p.relative_to(REPO).parts
        )
    hits = [
        f"{path.relative_to(REPO)}:{number}: {line.strip()}"
        for path in files
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1)
        if SANDBOX_WORD.search(line)
    ]
    assert hits == []


@pytest.mark.parametrize(
    ("text", "caught"),
    [
        ("see " + "CONTRACTS" + ".md section 3", OLD_CONTRACTS),
        ("follows /" + "work/shared/reference/x.md", MACHINE_PATH),
        ("in /" + "home/alice/repo", MACHINE_PATH),
        ("written to /" + "root/.ansible", MACHINE_PATH),
    ],
)
def test_the_patterns_catch_what_they_are_for(text: str, caught: re.Pattern[str]) -> None:
    assert caught.search(text)


@pytest.mark.parametrize(
    "text",
    [
        "artifacts/<id>/report.json",
        "ansible_collections/avd/golden/roles/x",
        "~/work/notes",
        "https://example.com/home/page",
    ],
)
def test_ordinary_paths_are_not_machine_paths(text: str) -> None:
    assert not MACHINE_PATH.search(text)
