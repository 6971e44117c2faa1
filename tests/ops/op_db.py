"""THE op table: every family's rows from tests/ops/db/*.py, gathered in one list."""
import importlib
import pkgutil

from . import db

OP_DB = []
for _m in sorted(pkgutil.iter_modules(db.__path__), key=lambda m: m.name):
    OP_DB.extend(importlib.import_module(f"{db.__name__}.{_m.name}").OPS)
