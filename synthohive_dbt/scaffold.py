"""`synthohive init`: add synthohive's configuration to a dbt project, safely.

Copies the pieces of ``dbt_project_template/`` into a project:

- the configuration block (``vars.yml``), appended to ``dbt_project.yml`` between marker
  lines; when the file already has a top-level ``vars:`` key the block is appended as
  comments to paste under it, because a second ``vars:`` key would be invalid YAML;
- a ``packages.yml`` entry for the synthohive dbt package (created when missing);
- ``synthohive_profile_example.yml`` with the project's profile name (``profiles.yml`` is
  never edited).

Nothing the user wrote is rewritten: every change is an append or a new file, checked by
parsing the result, and a piece already present is left alone, so running it twice changes
nothing.
"""

from __future__ import annotations

import site
import string
import sys
import sysconfig
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from . import __version__
from .errors import SynthoHiveError

MARK = "# >>> synthohive >>>"
BEGIN = f"{MARK} added by `synthohive init`: edit the values, keep these markers"
END = "# <<< synthohive <<<"
PROFILE_EXAMPLE = "synthohive_profile_example.yml"
PACKAGE_NAME = "synthohive"
PACKAGE_SOURCES = ("local", "git")
VARS_KEYS = ("synthohive", "synthohive_synthesize")

_CHECKOUT = Path(__file__).resolve().parent.parent  # a source checkout or editable install
#: where a wheel installs the dbt package and the template (pyproject's data-files)
_SHARE = Path("share") / "synthohive-dbt"


def _roots() -> list[Path]:
    """Directories that may hold the dbt package and the template: the checkout this
    module runs from, then the data directories a wheel installs into."""
    bases = [sysconfig.get_path("data"), sys.prefix, site.getuserbase()]
    return [_CHECKOUT, *dict.fromkeys(Path(b) / _SHARE for b in bases if b)]


class InitError(SynthoHiveError):
    """The project cannot be initialised without touching user content."""


@dataclass(frozen=True)
class _Edit:
    """One planned change: ``text`` is the file's new content, None when unchanged."""

    path: Path
    text: str | None
    message: str
    note: str | None = None


@dataclass(frozen=True)
class InitResult:
    project_dir: Path
    changes: tuple[str, ...]  # what was written
    unchanged: tuple[str, ...]  # what was already there
    notes: tuple[str, ...] = ()  # what the user still has to do


def template_dir() -> Path:
    for root in _roots():
        if (root / "dbt_project_template" / "vars.yml").is_file():
            return root / "dbt_project_template"
    raise InitError(
        "the synthohive project template is missing (looked in "
        + ", ".join(str(r / "dbt_project_template") for r in _roots())
        + "); reinstall synthohive-dbt (pip install --force-reinstall synthohive-dbt) or "
        "install it from a source checkout (pip install -e DIR)"
    )


def dbt_package_dir() -> Path | None:
    """The synthohive dbt package (``dbt_project.yml`` named synthohive) installed with this
    library (a checkout, or a wheel's data files), or None when it is missing."""
    for root in _roots():
        project = root / "dbt_project.yml"
        if not project.is_file() or not (root / "macros" / "synthesize.sql").is_file():
            continue
        doc = _load_yaml(project.read_text(), project)
        if isinstance(doc, Mapping) and doc.get("name") == PACKAGE_NAME:
            return root
    return None


def init_project(
    project_dir: str | Path,
    *,
    package_source: str = "local",
    git_url: str | None = None,
    revision: str | None = None,
) -> InitResult:
    """Add the configuration block, the package entry and the profile example."""
    root = Path(project_dir).expanduser().resolve()
    project_file = root / "dbt_project.yml"
    if not project_file.is_file():
        raise InitError(
            f"No dbt_project.yml in {root}: pass the directory of a dbt project (--project)."
        )
    if package_source not in PACKAGE_SOURCES:
        raise InitError(f"--package-source must be local or git, got {package_source!r}")
    entry = _package_entry(package_source, git_url, revision)  # fail before writing anything
    templates = template_dir()

    # Plan every edit first: a piece that cannot be added stops init before any write.
    edits = [
        _vars_edit(project_file, templates),
        _package_edit(root, entry),
        _profile_example_edit(root, project_file, templates),
    ]
    for edit in edits:
        if edit.text is not None:
            edit.path.write_text(edit.text)
    changes = [e.message for e in edits if e.text is not None]
    unchanged = [e.message for e in edits if e.text is None]
    notes = [e.note for e in edits if e.note]
    return InitResult(root, tuple(changes), tuple(unchanged), tuple(notes))


# ---- vars block ------------------------------------------------------------------------


def _vars_edit(project_file: Path, templates: Path) -> _Edit:
    text = project_file.read_text()
    if MARK in text:
        return _Edit(project_file, None, f"{project_file.name}: the synthohive block is there")
    doc = _load_yaml(text, project_file)
    existing = doc.get("vars") if isinstance(doc, Mapping) else None
    if isinstance(existing, Mapping) and all(k in existing for k in VARS_KEYS):
        return _Edit(project_file, None, f"{project_file.name}: vars already configure synthohive")
    block = (templates / "vars.yml").read_text().rstrip("\n")
    if isinstance(doc, Mapping) and "vars" in doc:
        # Two `vars:` keys are invalid YAML: the block becomes comments to paste.
        body = [
            "# Your dbt_project.yml already has `vars:`; paste the keys you want under it:",
            *(f"# {line}" if line else "#" for line in block.splitlines()),
        ]
        note = (
            f"{project_file} already has `vars:`: the synthohive settings were added as "
            "comments at its end; paste them under your `vars:` key"
        )
        changed = "appended the synthohive vars as comments (vars: exists)"
    else:
        body, note = block.splitlines(), None
        changed = "appended the synthohive vars block"
    addition = "\n".join(["", BEGIN, *body, END, ""])
    new_text = _joined(text, addition)
    expected = dict(doc or {})
    if note is None:
        expected["vars"] = yaml.safe_load(block)["vars"]
    if not _parses_to(new_text, expected):
        raise InitError(
            f"appending to {project_file} would change its other settings; add this block "
            f"yourself:\n{block}"
        )
    return _Edit(project_file, new_text, f"{project_file.name}: {changed}", note)


# ---- packages.yml ----------------------------------------------------------------------


def _package_entry(source: str, git_url: str | None, revision: str | None) -> dict[str, str]:
    if source == "git":
        url = git_url or _metadata_url()
        if not url:
            raise InitError(
                "--package-source git needs --git-url URL (the synthohive-dbt repository)"
            )
        return {"git": url, "revision": revision or f"v{__version__}"}
    package = dbt_package_dir()
    if package is None:
        raise InitError(
            "this installation of synthohive-dbt has no local copy of the synthohive dbt "
            "package (dbt_project.yml and macros/); use --package-source git --git-url URL"
        )
    return {"local": str(package)}


def _metadata_url() -> str | None:
    from importlib.metadata import PackageNotFoundError, metadata

    try:
        urls = metadata("synthohive-dbt").get_all("Project-URL") or []
    except PackageNotFoundError:
        return None
    for item in urls:
        label, _, url = item.partition(",")
        if label.strip().lower() in ("source", "repository") and url.strip():
            return url.strip()
    return None


def _package_edit(root: Path, entry: Mapping[str, str]) -> _Edit:
    target = _packages_file(root)
    text = target.read_text() if target.is_file() else ""
    doc = _load_yaml(text, target) if text.strip() else None
    if doc is not None and not isinstance(doc, Mapping):
        raise InitError(f"{target} is not a YAML mapping; add the synthohive entry yourself")
    packages = (doc or {}).get("packages")
    if packages is not None and not isinstance(packages, list):
        raise InitError(f"{target}: `packages:` is not a list; add the synthohive entry yourself")
    if any(_is_synthohive(p, root) for p in packages or []):
        return _Edit(target, None, f"{target.name}: already lists the synthohive package")

    indent = _item_indent(text) if packages else "  "
    lines = [f"{indent}# the synthohive dbt package (added by `synthohive init`)"]
    for i, (key, value) in enumerate(entry.items()):
        lead = f"{indent}- " if i == 0 else f"{indent}  "
        lines.append(f"{lead}{key}: {_quoted(value)}")
    if not (isinstance(doc, Mapping) and "packages" in doc):
        lines.insert(0, "packages:")
    new_text = _joined(text, "\n".join(lines) + "\n")
    expected = {**(doc or {}), "packages": [*(packages or []), dict(entry)]}
    if not _parses_to(new_text, expected):
        snippet = "\n".join(lines)
        raise InitError(
            f"cannot append to {target} without rewriting it (flow-style YAML?); add this "
            f"entry under `packages:` yourself:\n{snippet}"
        )
    how = "added" if target.is_file() else "created with"
    return _Edit(
        target,
        new_text,
        f"{target.name}: {how} the synthohive package ({_describe(entry)})",
        "run `dbt deps` to install the synthohive package",
    )


def _packages_file(root: Path) -> Path:
    """packages.yml, or dependencies.yml when that is where the project lists packages."""
    packages = root / "packages.yml"
    dependencies = root / "dependencies.yml"
    if not packages.is_file() and dependencies.is_file():
        doc = _load_yaml(dependencies.read_text(), dependencies)
        if isinstance(doc, Mapping) and "packages" in doc:
            return dependencies
    return packages


def _is_synthohive(item: Any, root: Path) -> bool:
    if not isinstance(item, Mapping):
        return False
    local = item.get("local")
    if isinstance(local, str):
        path = (root / local).resolve()
        project = path / "dbt_project.yml"
        if project.is_file():
            doc = _load_yaml(project.read_text(), project)
            return isinstance(doc, Mapping) and doc.get("name") == PACKAGE_NAME
    return any(isinstance(v, str) and PACKAGE_NAME in v.lower() for v in item.values())


def _item_indent(text: str) -> str:
    for line in text.splitlines():
        stripped = line.lstrip(" ")
        if stripped.startswith("- "):
            return line[: len(line) - len(stripped)]
    return "  "


def _describe(entry: Mapping[str, str]) -> str:
    return ", ".join(f"{k}: {v}" for k, v in entry.items())


# ---- profile example -------------------------------------------------------------------


def _profile_example_edit(root: Path, project_file: Path, templates: Path) -> _Edit:
    target = root / PROFILE_EXAMPLE
    if target.exists():
        return _Edit(target, None, f"{PROFILE_EXAMPLE}: exists, left as it is")
    doc = _load_yaml(project_file.read_text(), project_file)
    profile = doc.get("profile") if isinstance(doc, Mapping) else None
    if not isinstance(profile, str) or not profile.strip():
        profile = doc.get("name", "my_project") if isinstance(doc, Mapping) else "my_project"
    text = string.Template((templates / "profile_example.yml").read_text())
    return _Edit(
        target,
        text.safe_substitute(profile=profile),
        f"{PROFILE_EXAMPLE}: written (a synthetic target for profile {profile!r})",
        f"copy a target from {target} into your profiles.yml to use synthetic data in dbt",
    )


# ---- helpers ---------------------------------------------------------------------------


def _load_yaml(text: str, path: Path) -> Any:
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise InitError(f"{path} is not valid YAML ({exc}); fix it, then rerun") from exc


def _parses_to(text: str, expected: Any) -> bool:
    """Whether an appended file reads as the old content plus exactly our addition."""
    try:
        return yaml.safe_load(text) == expected
    except yaml.YAMLError:
        return False


def _joined(text: str, addition: str) -> str:
    if text and not text.endswith("\n"):
        text += "\n"
    return text + addition


def _quoted(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
