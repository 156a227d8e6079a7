"""OS optimization from VDOT and WDOT configuration files, read on the controller (pure Python).

The Virtual Desktop Optimization Tool (VDOT) and its successor, the Windows Desktop Optimization
Tool (WDOT), describe optimizations as JSON files, one per category (AppxPackages,
ScheduledTasks, Services, Autologgers, DefaultUserSettings, LanManWorkstation,
PolicyRegSettings, EdgeSettings). This package reads such files (theirs or a user's, in either
format) and the collection's own profiles (``optimization/profiles/``), and turns them into the
items the collection's modules apply. Nothing here imports Ansible.

One concern per module; each imports only the ones listed before it:

- ``values``: one field: states, registry paths, value types and data, with real files' quirks.
- ``items``: one item of each category, in either format, to an ``Entry``.
- ``reader``: files and folders: names in any case, BOMs, every error with file, item and field.
- ``profiles``: the shipped profiles, their layers, and which one a source image gets.
- ``appx``: which AppX packages are never removed; keep and pattern rules.
- ``plan``: the plan of an image: profile, overrides, switches, AppX.
"""
