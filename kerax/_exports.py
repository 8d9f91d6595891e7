"""`__all__` computed from what a namespace module binds, not kept by hand.

Each public namespace ends with `__all__ = _exports.public_names(globals())`. Its exports
are the public names its own source binds at module level: `def`, `class`, assignments
and `from ... import name` (a star import contributes the imported module's exports).
Plain `import x` statements, names starting with `_`, and modules other than the
namespace's own subpackages (`jax`, `kerax.errors` seen from `kerax.losses`) are helpers,
not exports.
"""

import ast
import inspect
import sys


def public_names(namespace):
    """The sorted public names the module whose `globals()` is `namespace` exports.

    Example:
    >>> import kerax.regularizers as R
    >>> public_names(vars(R)) == R.__all__
    True
    >>> "L2" in R.__all__, "jnp" in R.__all__
    (True, False)
    """
    name = namespace["__name__"]
    package = name if namespace.get("__path__") is not None else name.rpartition(".")[0]
    with open(namespace["__file__"], encoding="utf-8") as f:
        tree = ast.parse(f.read())
    names = set()
    for node in _module_level(tree.body):
        names.update(_bound(node, package))
    return sorted(n for n in names if _is_export(n, namespace, name))


def _module_level(body):
    """Statements at module level, including those inside top-level `if`/`try` blocks."""
    for node in body:
        if isinstance(node, (ast.If, ast.Try)):
            yield from _module_level(node.body)
            yield from _module_level(node.orelse)
            if isinstance(node, ast.Try):
                for handler in node.handlers:
                    yield from _module_level(handler.body)
                yield from _module_level(node.finalbody)
        else:
            yield node


def _bound(node, package):
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return [node.name]
    if isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        return [n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)]
    if isinstance(node, ast.ImportFrom):
        out = []
        for alias in node.names:
            if alias.name == "*":
                out.extend(_star_exports(_absolute(node, package)))
            else:
                out.append(alias.asname or alias.name)
        return out
    return []


def _absolute(node, package):
    if not node.level:
        return node.module
    base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
    return f"{base}.{node.module}" if node.module else base


def _star_exports(module_name):
    module = sys.modules[module_name]
    exported = getattr(module, "__all__", None)
    if exported is not None:
        return list(exported)
    return [n for n, v in vars(module).items()
            if not n.startswith("_") and not inspect.ismodule(v)]


def _is_export(n, namespace, name):
    if n.startswith("_") or n not in namespace:
        return False
    value = namespace[n]
    return not inspect.ismodule(value) or value.__name__.startswith(name + ".")
