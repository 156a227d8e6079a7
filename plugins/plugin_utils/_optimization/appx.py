"""AppX names and patterns: which packages are never removed, and the list the plan removes.

Names are compared without case, patterns with ``*`` and ``?`` (as ``Get-AppxPackage -Name``
does). Two groups are protected:

- ``SYSTEM``: the Store, winget (DesktopAppInstaller), Windows Security's UI, the shell's and
  sign-in's packages and the frameworks other apps depend on. Removing them breaks the image
  and the Store cannot put them back: never removed, by name or by pattern.
- ``INBOX``: Photos, Notepad, Calculator: everyday tools users expect. A pattern never takes them
  out; naming one exactly in ``appx.remove`` does.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable

# Globs, with a concrete name each for checking a user's pattern against them.
SYSTEM = {
    "Microsoft.WindowsStore": "Microsoft.WindowsStore",
    "Microsoft.StorePurchaseApp": "Microsoft.StorePurchaseApp",
    "Microsoft.DesktopAppInstaller": "Microsoft.DesktopAppInstaller",
    "Microsoft.SecHealthUI": "Microsoft.SecHealthUI",
    "Microsoft.AAD.BrokerPlugin": "Microsoft.AAD.BrokerPlugin",
    "Microsoft.Windows.ShellExperienceHost": "Microsoft.Windows.ShellExperienceHost",
    "Microsoft.Windows.StartMenuExperienceHost": "Microsoft.Windows.StartMenuExperienceHost",
    "MicrosoftWindows.Client.CBS": "MicrosoftWindows.Client.CBS",
    "MicrosoftWindows.Client.Core": "MicrosoftWindows.Client.Core",
    "Microsoft.VCLibs.*": "Microsoft.VCLibs.140.00",
    "Microsoft.UI.Xaml.*": "Microsoft.UI.Xaml.2.8",
    "Microsoft.NET.Native.*": "Microsoft.NET.Native.Framework.2.2",
    "Microsoft.WindowsAppRuntime.*": "Microsoft.WindowsAppRuntime.1.5",
}
INBOX = ("Microsoft.Windows.Photos", "Microsoft.WindowsNotepad", "Microsoft.WindowsCalculator")
PATTERN_CHARS = "*?"


def matches(pattern: str, name: str) -> bool:
    return fnmatch.fnmatchcase(name.lower(), pattern.lower())


def is_pattern(name: str) -> bool:
    return any(c in name for c in PATTERN_CHARS)


def protected(name: str) -> str | None:
    """Why ``name`` (a package name or a pattern) must not be removed, or None."""
    for glob, sample in SYSTEM.items():
        if matches(glob, name) or matches(name, sample):
            return (
                f"would remove {sample if is_pattern(name) else name}, which is never removed (the "
                "Store, winget, Windows Security, the shell and the frameworks apps depend on)"
            )
    if is_pattern(name):
        hit = [app for app in INBOX if matches(name, app)]
        if hit:
            return (
                f"the pattern would also remove {', '.join(hit)}; patterns never remove Photos, "
                "Notepad or Calculator: name such a package exactly to remove it"
            )
    return None


def kept(name: str, keep: Iterable[str]) -> str | None:
    """The ``appx.keep`` entry that keeps ``name`` (a name or pattern it matches), or None."""
    return next((pattern for pattern in keep if matches(pattern, name)), None)


def conflict(name: str, keep: Iterable[str]) -> str | None:
    """A kept name that the removal pattern ``name`` would also remove, or None.

    Removal goes by pattern on the build VM, so "Microsoft.Xbox* except one" cannot be expressed:
    that is an error for the user to resolve by naming the packages to remove.
    """
    if not is_pattern(name):
        return None
    return next((k for k in keep if not is_pattern(k) and matches(name, k)), None)
