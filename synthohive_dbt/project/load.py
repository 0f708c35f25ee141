"""Load a dbt project: parse it with dbt, load its profile/target with dbt's own loader.

Everything here goes through dbt's public entry points (``dbtRunner``) or the loaders its
CLI uses (``dbt.config.runtime.load_profile`` / ``load_project``), so env_var(), secrets,
profiles-dir lookup and adapter auth modes behave exactly as they do for ``dbt run``.

Global dbt state: dbt keeps process-wide flags (``dbt.flags``), an invocation context
(env snapshot) and an adapter registry. ``load_project`` sets the flags and context itself
before loading the profile, and every ``dbtRunner.invoke`` resets them, so loading several
projects in one process is safe. The adapter registry is emptied when an invocation ends:
a caller that needs a live adapter registers one from ``Project.config``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from synthohive_dbt.errors import ProfileError, ProjectError

_PROFILES = "profiles.yml"


@dataclass(frozen=True)
class Project:
    """A parsed dbt project with its resolved target and the selected tables."""

    project_dir: Path
    project_name: str
    manifest: Any  # dbt.contracts.graph.manifest.Manifest
    config: Any  # dbt.config.runtime.RuntimeConfig
    adapter_type: str
    credentials: Any  # dbt.adapters.contracts.connection.Credentials
    target_name: str
    profile_name: str
    profiles_dir: Path
    selected: tuple[str, ...]  # unique ids of the chosen sources, models and seeds
    dbt_args: tuple[str, ...] = ()  # shared by every dbt invocation for this project


def load_project(
    project_dir: str | os.PathLike[str],
    *,
    profiles_dir: str | os.PathLike[str] | None = None,
    target: str | None = None,
    vars: Mapping[str, Any] | None = None,
    select: Sequence[str] = (),
    exclude: Sequence[str] = (),
    state: str | os.PathLike[str] | None = None,
) -> Project:
    """Parse the dbt project at ``project_dir`` and resolve its profile and selection.

    ``select``/``exclude`` use dbt's selection syntax over sources, models and seeds; with no
    ``select`` every source of the root project is chosen (not sources of installed packages).
    ``state``: a directory holding the manifest.json of an earlier run, for dbt's ``state:``
    selection methods (dbt's ``--state``; relative to the working directory, as in dbt).

    Raises ProjectError (the project does not parse), ProfileError (no profiles.yml, profile or
    target) or SelectionError (the selection chose nothing).
    """
    # Imported here: importing dbt is slow and the CLI's --help should not pay for it.
    from synthohive_dbt.project.selection import select_nodes

    root = Path(project_dir).expanduser().resolve()
    if not (root / "dbt_project.yml").is_file():
        raise ProjectError(
            f"No dbt_project.yml in {root}: pass the directory of a dbt project "
            "(--project-dir) that contains dbt_project.yml."
        )
    profiles = resolve_profiles_dir(root, profiles_dir)
    args = _dbt_args(root, profiles, target, vars)
    config = _load_runtime_config(root, profiles, args)
    manifest = _parse(args)
    selected = select_nodes(
        manifest,
        config.project_name,
        args,
        select,
        exclude,
        state=Path(state).expanduser().resolve() if state is not None else None,
    )
    return Project(
        project_dir=root,
        project_name=config.project_name,
        manifest=manifest,
        config=config,
        adapter_type=config.credentials.type,
        credentials=config.credentials,
        target_name=config.target_name,
        profile_name=config.profile_name,
        profiles_dir=profiles,
        selected=selected,
        dbt_args=tuple(args),
    )


def profiles_search_path(project_dir: Path) -> list[Path]:
    """Where profiles.yml is looked for, in order, when --profiles-dir is not given.

    DBT_PROFILES_DIR wins outright as it does for dbt; otherwise the project directory (a
    common place to keep a CI profile), the working directory (dbt's default), ~/.dbt.
    """
    env = os.environ.get("DBT_PROFILES_DIR")
    if env:
        return [Path(env).expanduser().resolve()]
    candidates = [project_dir, Path.cwd().resolve(), Path.home() / ".dbt"]
    return list(dict.fromkeys(candidates))


def resolve_profiles_dir(
    project_dir: Path, profiles_dir: str | os.PathLike[str] | None = None
) -> Path:
    """The directory whose profiles.yml dbt will read; ProfileError when there is none."""
    if profiles_dir is not None:
        searched = [Path(profiles_dir).expanduser().resolve()]
    else:
        searched = profiles_search_path(project_dir)
    for directory in searched:
        if (directory / _PROFILES).is_file():
            return directory
    paths = ", ".join(str(d / _PROFILES) for d in searched)
    raise ProfileError(
        f"No profiles.yml found for the dbt project in {project_dir} (searched: {paths}). "
        "Pass --profiles-dir DIR (or set DBT_PROFILES_DIR) to the directory that holds "
        "profiles.yml, or create ~/.dbt/profiles.yml."
    )


def _dbt_args(
    project_dir: Path, profiles_dir: Path, target: str | None, vars: Mapping[str, Any] | None
) -> list[str]:
    """Arguments shared by every dbt invocation for this project (after the command).

    Console logging is off: failures come back as exceptions and are re-raised with dbt's
    message, so printing them as well would show them twice. The file log stays as dbt
    writes it (logs/dbt.log under the project's log-path, DBT_LOG_LEVEL_FILE honoured).
    Usage stats are off: they would try the network.
    """
    args = [
        "--project-dir",
        str(project_dir),
        "--profiles-dir",
        str(profiles_dir),
        "--log-level",
        "none",
        "--no-send-anonymous-usage-stats",
        "--no-use-colors",
    ]
    if not os.environ.get("DBT_LOG_LEVEL_FILE"):
        # Without it the file log would follow --log-level and be switched off too.
        args += ["--log-level-file", "debug"]
    if target:
        args += ["--target", target]
    if vars:
        args += ["--vars", json.dumps(dict(vars), default=str)]
    return args


def _load_runtime_config(project_dir: Path, profiles_dir: Path, args: list[str]) -> Any:
    """Build dbt's RuntimeConfig the way dbt's CLI does (dbt.cli.requires), before parsing.

    The profile is loaded first so that a missing profile or target is reported as such and
    not as a parse failure.
    """
    from dbt.cli.flags import Flags, args_to_context
    from dbt.config.project import load_raw_project
    from dbt.config.runtime import RuntimeConfig, load_profile
    from dbt.config.runtime import load_project as dbt_load_project
    from dbt.events.logging import setup_event_logger
    from dbt.flags import set_flags
    from dbt_common.clients.system import get_env
    from dbt_common.context import set_invocation_context
    from dbt_common.exceptions import DbtBaseException

    try:
        load_raw_project(str(project_dir))
        flags = Flags(args_to_context(["parse", *args]))
    except DbtBaseException as exc:
        raise ProjectError(f"dbt cannot read the project in {project_dir}: {exc}") from exc
    # What dbt's preflight does: env snapshot for env_var(), global flags, quiet logging.
    set_invocation_context(get_env())
    set_flags(flags)
    setup_event_logger(flags)

    try:
        profile = load_profile(str(project_dir), flags.VARS, flags.PROFILE, flags.TARGET)
    except DbtBaseException as exc:
        raise _profile_error(exc, project_dir, profiles_dir, flags.TARGET) from exc
    # imported here: the warehouse modules import pandas and pyarrow
    from synthohive_dbt.warehouse import check_credentials

    # before anything dials the warehouse (dbt's compile opens a connection)
    check_credentials(
        profile.credentials.type,
        profile.credentials,
        target=profile.target_name,
        profiles=str(profiles_dir / _PROFILES),
    )
    try:
        project = dbt_load_project(
            str(project_dir), flags.VERSION_CHECK, profile, flags.VARS, validate=True
        )
        return RuntimeConfig.from_parts(project, profile, flags)
    except DbtBaseException as exc:
        raise ProjectError(f"dbt cannot load the project in {project_dir}: {exc}") from exc


def _profile_error(
    exc: BaseException, project_dir: Path, profiles_dir: Path, target: str | None
) -> ProfileError:
    where = profiles_dir / _PROFILES
    hint = (
        f"Fix {where}, pass --target NAME to use another of its targets"
        + (f" than '{target}'" if target else "")
        + ", or pass --profiles-dir DIR (or set DBT_PROFILES_DIR) to use another profiles.yml."
    )
    searched = ", ".join(str(d / _PROFILES) for d in profiles_search_path(project_dir))
    return ProfileError(
        f"dbt cannot load the profile of the project in {project_dir} from {where}: "
        f"{str(exc).strip()}\n{hint}\n(profiles.yml is looked for in: --profiles-dir, "
        f"then {searched})"
    )


def compile_models(project: Project, unique_ids: Sequence[str]) -> dict[str, str]:
    """Compile models and their upstream models with dbt, in-process, through the profile.

    dbt renders every macro of the project and its packages and sets ``compiled_code`` on
    the manifest's nodes, so lineage reads SQL exactly as dbt would run it. Returns dbt's
    message for each model it could not compile (all of them when dbt cannot start, e.g.
    the warehouse is unreachable); the other models are compiled.
    """
    from dbt.cli.main import dbtRunner

    models = [project.manifest.nodes[uid] for uid in unique_ids if uid in project.manifest.nodes]
    if not models:
        return {}
    selectors = sorted({"+fqn:" + ".".join(node.fqn) for node in models})
    result = dbtRunner(manifest=project.manifest).invoke(
        [
            "compile",
            "--select",
            *selectors,
            "--indirect-selection",
            "empty",  # tests need no compiling here
            "--no-write-json",  # leave the project's target/manifest.json alone
            *project.dbt_args,
        ]
    )
    failed: dict[str, str] = {}
    for item in getattr(result.result, "results", None) or ():
        if str(getattr(item.status, "value", item.status)) not in ("success", "pass"):
            failed[item.node.unique_id] = dbt_message(item.message or str(item.status))
    if result.exception is not None:
        message = dbt_message(str(result.exception))
        for node in models:
            if not node.compiled_code:
                failed.setdefault(node.unique_id, message)
    return failed


def dbt_message(text: str) -> str:
    """The first lines of a dbt error message, on one line (for warnings)."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return " ".join(lines[:3])[:300] if lines else "unknown error"


def _parse(args: list[str]) -> Any:
    """Run ``dbt parse`` in-process and return the Manifest object."""
    from dbt.cli.main import dbtRunner

    result = dbtRunner().invoke(["parse", *args])
    if not result.success or result.result is None:
        message = str(result.exception).strip() if result.exception else "dbt parse failed"
        raise ProjectError(f"dbt cannot parse the project: {message}")
    return result.result
