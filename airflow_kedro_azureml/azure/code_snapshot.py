"""Build the code snapshot a pipeline job uploads: the project, minus what must not travel.

Left out: the Kedro ``data/`` folder, virtualenvs, ``.git``, caches, local run
folders, ``conf/local`` (where Kedro keeps credentials), and whatever the project's
``.gitignore`` and ``.amlignore`` list (gitignore rules, matched by pathspec; the
``.amlignore`` comes last, so its ``!`` lines can bring back what ``.gitignore``
leaves out). Only the project folder's own two files are read, not nested ones.

Added: this package's ``compute/`` folder, whole, with the few root modules it
needs (``COMPUTE_ROOT_MODULES``), under ``airflow_kedro_azureml/``, so the code
that compiled a step and the code that runs it are the same version and the
Azure ML environment needs only Kedro and the project's own dependencies.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from airflow_kedro_azureml.snapshot_rules import IgnoreRules

PACKAGE_DIR = "airflow_kedro_azureml"
COMPUTE_DIR = "compute"
# The package root (light by design), the error family, and the catalog path of the datasets.
COMPUTE_ROOT_MODULES = ("__init__.py", "errors.py", "datasets.py")
LOCAL_CONF_PLACEHOLDER = "README-not-uploaded.txt"


def build_snapshot(code_dir: Path, target: Path) -> list[str]:
    """Copy the project at ``code_dir`` into the empty folder ``target``; return the files."""
    rules = IgnoreRules.for_project(code_dir)
    copied: list[str] = []
    for source in sorted(code_dir.rglob("*")):
        relative = source.relative_to(code_dir).as_posix()
        if rules.excluded_with_parents(relative, source.is_dir()):
            continue
        if source.is_dir() or not source.is_file():
            continue
        destination = target / relative
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, destination)
        copied.append(relative)
    local_conf = code_dir / "conf" / "local"
    if local_conf.is_dir():
        # Kedro needs the folder of its default run env; its contents (credentials) stay home.
        placeholder = target / "conf" / "local" / LOCAL_CONF_PLACEHOLDER
        placeholder.parent.mkdir(parents=True, exist_ok=True)
        placeholder.write_text(
            "conf/local is not uploaded: local settings and credentials stay on the machine "
            "that submitted the job.\n",
            encoding="utf-8",
        )
        copied.append(f"conf/local/{LOCAL_CONF_PLACEHOLDER}")
    # The SDK applies a code folder's .gitignore unless it has an .amlignore; this
    # snapshot is already filtered, so tell it to leave out nothing more.
    (target / ".amlignore").write_text(
        "# This snapshot was already filtered when it was built.\n", encoding="utf-8"
    )
    copied.append(".amlignore")
    package_source = Path(__file__).resolve().parents[1]
    for module in compute_side_modules():
        destination = target / PACKAGE_DIR / module
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(package_source / module, destination)
        copied.append(f"{PACKAGE_DIR}/{module}")
    return copied


def compute_side_modules() -> list[str]:
    """The package's files a step needs, relative to the package: ``compute/`` and a few more."""
    compute = Path(__file__).resolve().parents[1] / COMPUTE_DIR
    modules = sorted(path.relative_to(compute.parent).as_posix() for path in compute.glob("*.py"))
    return [*COMPUTE_ROOT_MODULES, *modules]
