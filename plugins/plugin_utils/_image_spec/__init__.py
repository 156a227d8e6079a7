"""Image specs: validation, defaults, image versions and build naming (pure Python).

An image spec is one YAML file under ``images/`` (format: ``images/README.md``). The validator
checks everything at once and returns every problem as ``"<dotted.field>: <reason>"`` so a user
fixes a file in one pass, before any Azure resource exists. The thin filter plugin
``plugins/filter/image_spec.py`` exposes these functions to Ansible. Nothing here imports Ansible,
so the unit tests exercise it directly.

One concern per module; each imports only the ones listed before it:

- ``azure_data``: reference lists (regions, time zones, VM sizes, Trusted Launch families).
- ``messages``: how a bad value and a did-you-mean hint read in an error.
- ``loader``: reads the spec file strictly (bounded size and aliases, no duplicate keys).
- ``schema``: the known keys of each mapping and the values each choice allows.
- ``checker``: ``Checker`` (walks the spec, collects errors) and ``ImageSpecError``.
- ``naming``: Azure's naming rules (regions, resource groups, gallery names, ...).
- ``versions``: gallery image version numbers (parse, next, date strategy, ``gallery.version``).
- ``publish``: the ``gallery.publish`` section (validation, promotion, pruning).
- ``password``: Azure's admin password rule.
- ``downloads``: one download (an HTTPS URL or a blob, its SHA-256 and signer) and the
  ``downloads`` section (how blobs are read); the sections that name downloads use it.
- ``applications``: the ``applications`` section (installers and packages; uses ``downloads``).
- ``source``, ``network``, ``gallery``, ``tags``: the checks of one section each.
- ``avd``: the ``avd`` and ``default_user`` sections (AVD session-host settings, per-user defaults).
- ``optimization``: the ``optimization`` and ``appx`` sections (reads the configuration files
  through the package ``plugin_utils._optimization``).
- ``windows_update``: the ``windows_update`` section (its rules live in ``plugin_utils._windows_update``).
- ``avd_stack``: the ``avd_stack`` section (the AVD software stack, each installer pinned; the
  Office Deployment Tool's rules in ``plugin_utils._odt``).
- ``languages``: the ``languages`` section (language packs from an offline source or online, and
  the language defaults).
- ``spec``: the whole spec: ``validate_image_spec``, ``normalize_image_spec``, ``source_facts``.
- ``build``: build ids, resource names and the build context ``avd_build``.

This file imports nothing, so importing one module does not load the others.
"""
