"""The import map the architecture promises (docs/architecture.md), read from the source.

Each rule names who may not import whom; a new edge that breaks one fails here, not in review.
"""

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# What the 1NCE client may import besides the standard library and itself.
CLIENT_DEPENDENCIES = {"requests", "redis", "prometheus_client", "urllib3"}
FEATURES = (
    "admin", "alerts", "api", "apikeys", "audit", "auth", "bulk", "fleet", "inventory", "ops",
    "sim_detail",
)  # fmt: skip


def imports(path: Path) -> set[str]:
    """The absolute module names a file imports (at any depth, lazy imports included)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
    return found


def edges(folder: str) -> list[tuple[str, str]]:
    """(file, imported module) for every Python file under `folder`."""
    return [
        (str(path.relative_to(ROOT)), module)
        for path in sorted((ROOT / folder).rglob("*.py"))
        for module in imports(path)
    ]


def top(module: str) -> str:
    return module.split(".")[0]


def test_the_1nce_client_is_a_leaf():
    allowed = CLIENT_DEPENDENCIES | set(sys.stdlib_module_names)
    bad = [
        (file, module)
        for file, module in edges("webapp/one_nce")
        if not module.startswith("webapp.one_nce") and top(module) not in allowed
    ]
    assert bad == []


@pytest.mark.parametrize("folder", ["migrations", "simulator"])
def test_migrations_and_the_simulator_import_no_app_code(folder):
    assert [(f, m) for f, m in edges(folder) if top(m) in ("webapp", "worker")] == []


def test_the_app_imports_neither_the_worker_nor_the_dev_tools():
    banned = {"worker", "simulator", "devtools", "bench", "tests"}
    assert [(f, m) for f, m in edges("webapp") if top(m) in banned] == []


@pytest.mark.parametrize("feature", FEATURES)
def test_features_leave_the_sync_writes_to_the_sync(feature):
    """Features read what the sync stored, and ask webapp.sync.services for fresh readings."""
    writes = [(f, m) for f, m in edges(f"webapp/{feature}") if m.startswith("webapp.sync.ingest")]
    assert writes == []


def test_shared_modules_import_no_feature():
    """What several features use (errors, pages, paging, models...) depends on none of them."""
    shared = [p for p in (ROOT / "webapp").glob("*.py") if p.name != "__init__.py"]
    shared += [*(ROOT / "webapp" / "models").rglob("*.py")]
    features = {f"webapp.{feature}" for feature in (*FEATURES, "sync")}
    bad = [
        (str(path.relative_to(ROOT)), module)
        for path in shared
        for module in imports(path)
        if ".".join(module.split(".")[:2]) in features
    ]
    assert bad == []
