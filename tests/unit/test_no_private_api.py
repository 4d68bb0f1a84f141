"""No private API of any library in src/ (issue #16: a dependency upgrade must not break money).

What it covers, by reading the source's syntax tree (not by running it):
- `x._name` where `x` is anything but the bare name `self` or `cls` (a library object's
  underscored attribute, or an object of ours reached through another one: both are flagged);
- `getattr(x, "_name")` / `setattr` / `hasattr` with a literal underscored name.
What it does not cover: `self._name` in a subclass of a library class that reaches the parent's
private attribute, names built at run time, and private modules imported by name (`from a._b`,
which ruff's and import-linter's rules are better placed to catch).

Names that start with an underscore but are documented public API are listed in `PUBLIC`.
"""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src"

# SQLAlchemy's Row keeps its own methods underscored so they never clash with a column's name;
# they are documented public API ("Row._mapping", "Row._fields", "Row._asdict", "Row._t",
# "Row._tuple").
PUBLIC = frozenset({"_mapping", "_fields", "_asdict", "_t", "_tuple"})


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__") and name not in PUBLIC


def private_uses(source: str) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Attribute) and _private(node.attr):
            owner = node.value
            if not (isinstance(owner, ast.Name) and owner.id in {"self", "cls"}):
                found.append((node.lineno, ast.unparse(node)))
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in {"getattr", "setattr", "hasattr"}
            and len(node.args) >= 2
            and isinstance(node.args[1], ast.Constant)
            and isinstance(node.args[1].value, str)
            and _private(node.args[1].value)
        ):
            found.append((node.lineno, ast.unparse(node)))
    return found


def test_src_uses_no_private_attribute_of_a_library() -> None:
    offending = [
        f"{path.relative_to(SRC.parent)}:{line}: {text}"
        for path in sorted(SRC.rglob("*.py"))
        for line, text in private_uses(path.read_text(encoding="utf-8"))
    ]
    assert not offending, "private API used:\n" + "\n".join(offending)


def test_the_check_sees_what_it_claims_to() -> None:
    source = (
        "adapter._transaction\n"
        "self._adapter._transaction\n"
        "getattr(conn, '_start_transaction')\n"
        "self._own\n"
        "cls._own\n"
        "row._mapping\n"
        "obj.__class__\n"
    )
    assert [text for _, text in private_uses(source)] == [
        "adapter._transaction",
        "self._adapter._transaction",
        "getattr(conn, '_start_transaction')",
    ]
