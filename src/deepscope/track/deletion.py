"""Which folder `deepscope runs delete --files` may remove: the one decision that stands between a store row and
`rmtree`. A store row is not trusted (an older deepscope recorded a `latest` link as a run; a crafted row can point
anywhere), so the folder must pass every rule below, checked on the disk, before anything is removed:

1. the run's name is a plain folder name (not empty, `.` or `..`, no `/` or `\\`);
2. `ROOT/NAME` is a real directory, not a link: a link alias is never followed (its target is a run of its own,
   deleted by its own name) and not removed either (`rm` removes a link);
3. the path the store recorded for the run is that folder (the same folder once resolved, and no `..` in it);
4. the folder is directly inside the run root, once both are resolved;
5. deepscope made it: `env.json`, which training writes first thing, is a plain file (not a link) holding a JSON
   object whose `versions.deepscope` is a version string, beside a plain `config.yaml` or `metrics.jsonl`.
   Every run folder deepscope has written has them; a project folder that merely holds a config.yaml has not.

    folder = folder_to_delete(Path("runs"), "mnist-20261130-192105", recorded="/home/me/runs/mnist-20261130-192105")
    listing = folder_listing(folder)   # what the confirmation shows
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

from deepscope.errors import UserError
from deepscope.track.runfiles import folder_text, link_out, parse_json

PROOF_FILE = "env.json"  # written by track/rundir.py `write_environment` at the start of every training
ALONGSIDE = ("config.yaml", "metrics.jsonl")  # one of them is beside it in every run folder
NOT_DELETED = "nothing deleted"


@dataclass
class Listing:
    """What deleting a folder removes: every file (relative paths, links as links), and their bytes."""

    folder: Path
    files: list[str]
    bytes: int


def folder_to_delete(root: Path, name: str, recorded: str) -> Path:
    """The run folder of `name` in `root`, checked by the rules above; a UserError saying which rule failed
    (and that nothing was deleted) otherwise."""
    if name in ("", ".", "..") or "/" in name or "\\" in name:
        raise UserError(f"the run store names a run {name!r}, which is not a folder name: {NOT_DELETED}")
    folder = root / name
    try:
        mode = folder.lstat().st_mode
    except OSError:
        raise UserError(f"{folder}: no such folder in the run root: {NOT_DELETED}") from None
    if stat.S_ISLNK(mode):
        raise link_refused(folder)
    if not stat.S_ISDIR(mode):
        raise UserError(f"{folder} is not a folder: {NOT_DELETED}")
    if ".." in Path(recorded).parts or Path(recorded).resolve() != folder.resolve():
        raise UserError(f"the run store says the folder of {name} is {recorded}, not {folder}: {NOT_DELETED} (the "
                        f"store is only an index and may be stale or tampered with; `deepscope runs reindex --root "
                        f"{root}` rebuilds it)")
    if folder.resolve().parent != root.resolve():
        raise UserError(f"{folder} is not inside the run root {root}: {NOT_DELETED}")
    problem = not_made_by_deepscope(folder)
    if problem:
        raise UserError(f"{folder} does not look like a folder deepscope trained in ({problem}): {NOT_DELETED}; "
                        "delete it yourself if it is one")
    return folder


def link_refused(path: Path) -> UserError:
    """Rule 2's refusal, also for a link given as the RUN to delete (`runs delete runs/latest --files`)."""
    return UserError(f"{path} is a link (to {os.readlink(path)}), not a run folder: {NOT_DELETED}; delete the run "
                     "it points to by its own name, or remove the link itself with `rm`")


def not_made_by_deepscope(folder: Path) -> str | None:
    """Why `folder` is not proven a run folder by rule 5, or None."""
    if link_out(folder, PROOF_FILE) or (folder / PROOF_FILE).is_symlink():
        return f"its {PROOF_FILE} is a link"
    text, problem = folder_text(folder, PROOF_FILE)
    if text is None:
        return problem or f"it has no {PROOF_FILE}"
    env, problem = parse_json(text, PROOF_FILE)
    versions = env.get("versions") if isinstance(env, dict) else None
    if problem or not isinstance(versions, dict) or not isinstance(versions.get("deepscope"), str):
        return f"its {PROOF_FILE} does not hold the deepscope version that trained it"
    if not any((folder / name).is_file() and not (folder / name).is_symlink() for name in ALONGSIDE):
        return f"it has neither {' nor '.join(ALONGSIDE)}"
    return None


def folder_listing(folder: Path) -> Listing:
    """Every file under `folder`, links not followed (a link inside is removed as a link)."""
    files, size = [], 0
    for directory, subfolders, names in os.walk(folder):  # os.walk does not descend into linked folders
        subfolders.sort()
        for name in sorted(names) + sorted(s for s in subfolders if (Path(directory) / s).is_symlink()):
            path = Path(directory) / name
            files.append(path.relative_to(folder).as_posix())
            try:
                size += path.lstat().st_size
            except OSError:
                continue
    return Listing(folder, files, size)
