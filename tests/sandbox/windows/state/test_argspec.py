"""Argument validation: the failure messages Ansible.Basic / Legacy Get-AnsibleParam give."""

from __future__ import annotations

import re

import pytest

from sandbox.windows import argspec, modules

REGEDIT_SUPPORTED = "data, datatype, delete_key, entry, hive, key, name, path, state, type, value"


@pytest.mark.parametrize(
    ("module", "args", "internal", "msg"),
    [
        (
            "win_regedit",
            {"path": r"HKLM:\SOFTWARE\X", "foo": 1},
            {"module_name": "win_regedit"},
            "Unsupported parameters for (win_regedit) module: foo. "
            f"Supported parameters include: {REGEDIT_SUPPORTED}",
        ),
        (
            "win_regedit",
            {"path": r"HKLM:\SOFTWARE\X", "zeta": 1, "alpha": 2},
            {},
            "Unsupported parameters for (ansible.windows.win_regedit) module: alpha, zeta. "
            f"Supported parameters include: {REGEDIT_SUPPORTED}",
        ),
        ("win_regedit", {"name": "x"}, {}, "missing required arguments: path"),
        (
            "win_regedit",
            {"path": r"HKLM:\SOFTWARE\X", "type": "dword2"},
            {},
            "value of type must be one of: none, binary, dword, expandstring, multistring, string, qword. "
            "Got no match for: dword2",
        ),
        (
            "win_regedit",
            {"path": r"HKLM:\SOFTWARE\X", "delete_key": "maybe"},
            {},
            "argument for delete_key is of type System.String and we were unable to convert to bool: "
            "The value 'maybe' is not a valid boolean. Valid booleans include: "
            "y, yes, on, 1, true, t, 1.0, n, no, off, 0, false, f, 0.0",
        ),
        (
            "win_command",
            {"cmd": "a", "argv": ["b"]},
            {},
            "parameters are mutually exclusive: _raw_params, argv, cmd",
        ),
        ("win_command", {"chdir": "C:\\"}, {}, "one of the following is required: _raw_params, argv, cmd"),
        (
            "win_powershell",
            {"script": "x", "path": "y"},
            {},
            "parameters are mutually exclusive: path, script",
        ),
        ("win_powershell", {}, {}, "one of the following is required: path, script"),
        (
            "win_powershell",
            {"script": "x", "depth": "deep"},
            {},
            "argument for depth is of type System.String and we were unable to convert to int: "
            "Input string was not in a correct format.",
        ),
        (
            "win_service",
            {"name": "x", "password": "p"},
            {},
            "missing parameter(s) required by 'password': username",
        ),
        ("win_timezone", {}, {}, "missing required arguments: timezone"),
        (
            "win_service",
            {"name": "x", "start_mode": "sometimes"},
            {},
            "value of start_mode must be one of: auto, manual, disabled, delayed. "
            "Got no match for: sometimes",
        ),
        # Legacy modules (Ansible.ModuleUtils.Legacy): Get-AnsibleParam messages
        ("win_file", {"state": "directory"}, {}, "Get-AnsibleParam: Missing required argument: path"),
        (
            "win_file",
            {"path": "C:\\x", "state": "folder"},
            {},
            "Get-AnsibleParam: Argument state needs to be one of absent,directory,file,touch but was folder.",
        ),
        ("slurp", {}, {}, "Get-AnsibleParam: Missing required argument: src"),
    ],
)
def test_argument_failures(run, module, args, internal, msg):
    result = run(module, args, **internal)
    assert result["failed"] is True
    assert result["msg"] == msg
    assert result["changed"] is False


def test_aliases_and_case_insensitive_choices(run, guest):
    result = run(
        "win_regedit", {"key": r"HKLM:\SOFTWARE\Contoso", "entry": "A", "data": "1", "datatype": "DWORD"}
    )
    assert result["changed"] is True
    assert guest.registry.get_value(r"HKLM\SOFTWARE\Contoso", "A").type == "REG_DWORD"


def test_case_insensitive_option_name_is_accepted(run):
    assert run("win_ping", {"DATA": "x"})["ping"] == "x"


def test_legacy_module_ignores_unknown_options_like_windows(run):
    # Get-AnsibleParam never looks at keys it does not ask for: the real module succeeds too.
    assert run("win_file", {"path": r"C:\NewDir", "state": "directory", "stat": "x"})["changed"] is True


def test_check_mode_unsupported_is_skipped(run):
    result = run("win_command", {"_raw_params": "hostname"}, check=True)
    assert result == {
        "changed": False,
        "skipped": True,
        "msg": "remote module (ansible.windows.win_command) does not support check mode",
    }


def test_sub_options_context(run):
    result = run("win_powershell", {"script": "x", "sensitive_parameters": [{"value": "v"}]})
    assert result["msg"] == "missing required arguments: name found in sensitive_parameters"


def test_unsimulated_module_raises(guest):
    with pytest.raises(modules.NotModelled, match=r"module ansible.windows.win_updates is not simulated"):
        guest.run_module("ansible.windows.win_updates", {}, check_mode=False, diff=False, module_path="x.ps1")


def test_every_simulated_module_spec_matches_its_powershell_options():
    """The documented options (our spec) name the same options as the module's $spec / Get-AnsibleParam."""
    for fqcn, module in modules.simulated().items():
        ps1 = argspec.doc_file(fqcn).with_suffix(".ps1").read_text()
        documented = set(argspec.documented_options(fqcn))
        if module.spec.style == "basic":
            body = ps1[ps1.index("$spec = @{") :]
            body = body[: body.index("::Create(")]
            in_ps1 = set(re.findall(r"^\s{8}(\w+) = @\{", body, re.M))
        else:
            in_ps1 = set(
                re.findall(r"Get-AnsibleParam\s+(?:-obj\s+)?\$\w+\s+(?:-name\s+)?[\"'](\w+)[\"']", ps1)
            )
            internal = (
                set(module.spec.options) - documented
            )  # e.g. win_copy's files/directories from the action
            in_ps1 = {n for n in in_ps1 if not n.startswith("_")} - internal
        if module.spec.style == "basic":
            assert documented == in_ps1, fqcn
        else:
            # Legacy modules also receive action-plugin options (e.g. win_copy's content); they ignore them.
            assert in_ps1 <= documented, fqcn


def test_only_known_fragments_add_options():
    """argspec merges the options of ansible.windows.web_request only: every other fragment of a
    simulated module describes attributes."""
    from ansible.parsing.plugin_docs import read_docstring

    for fqcn in modules.simulated():
        doc = read_docstring(str(argspec.doc_file(fqcn)))["doc"]
        fragments = doc.get("extends_documentation_fragment") or []
        fragments = [fragments] if isinstance(fragments, str) else fragments
        for fragment in fragments:
            known = "action_common_attributes" in fragment or fragment in argspec.OPTION_FRAGMENTS
            assert known, (fqcn, fragment)
            assert set(argspec.fragment_options(fragment)) <= set(argspec.documented_options(fqcn)), fqcn
    assert {"url_timeout", "validate_certs", "follow_redirects"} <= set(
        argspec.documented_options("ansible.windows.win_get_url")
    )


def test_setup_accepts_unknown_options_like_setup_ps1(run):
    # setup.ps1 turns every unknown (non-underscore) key into a raw option before validating.
    assert run("setup", {"gather_subset": ["!all"], "whatever": 1})["ansible_facts"]["module_setup"] is True
    assert "Unsupported parameters" in run("setup", {"_private": 1})["msg"]


def test_legacy_choice_order_and_undocumented_alias(run, guest):
    # async_status.ps1: -ValidateSet "status", "cleanup" (the docs sort them)
    bad = run("async_status", {"jid": "1", "mode": "poll", "_async_dir": "C:\\x"})
    assert bad["msg"] == "Get-AnsibleParam: Argument mode needs to be one of status,cleanup but was poll."
    # win_reg_stat.ps1 never reads the documented alias `property`: the whole key comes back
    result = run(
        "win_reg_stat",
        {"path": r"HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\Setup\State", "property": "ImageState"},
    )
    assert "properties" in result and "value" not in result
