"""Versions of a check's reference function with one small change to its code, the slips a student makes while
writing the same function: an operator the other way (`+` for `-`, `/` for `//`, `<` for `<=`, `|` for `&`), a
whole number one more or one less (an index, a `range` end, a constant), another axis, two arguments of a call or
two sides of `-`, `/` or `**` swapped, a term or a factor left out, the brackets around a sum dropped (`a / b - c`
for `a / (b - c)`), a term pulled inside a sum (`np.sum(a + b)` for `np.sum(a) + b`), a mask used as an index
(`x[mask]` for `x * mask` or `np.where(mask, x, 0)`), a rounding the other way, one reduction for another (`sum` for
`mean`, `argmin` for `argmax`). When a student's function returns what one of them returns on every hidden case, the
check can say which expression was written how: the mistake named in the code itself, though no exercise listed it.
`intermediates` gives the other common slip: a function that returns one of the reference's own intermediate
variables (`jump` where `size` is asked).

Only a plain module-level function whose source can be read gets mutants; each mutant is compiled in the
function's own module, so it calls what the reference calls.

Usage:
    for mutant, says in mutants(conv_output_size):
        ...   # says: '`(size - kernel) // stride` written as `(size - kernel) / stride`'
"""
from __future__ import annotations

import ast
import copy
import functools
import inspect
import sys
import textwrap
import warnings
from typing import Any, Callable, Iterator

_SWAPS: dict[type, tuple[type, ...]] = {
    ast.Add: (ast.Sub,), ast.Sub: (ast.Add,), ast.Mult: (ast.Div,), ast.Div: (ast.Mult, ast.FloorDiv),
    ast.FloorDiv: (ast.Div,), ast.BitAnd: (ast.BitOr,), ast.BitOr: (ast.BitAnd,),
    ast.Lt: (ast.LtE,), ast.LtE: (ast.Lt,), ast.Gt: (ast.GtE,), ast.GtE: (ast.Gt,), ast.Eq: (ast.NotEq,),
    ast.NotEq: (ast.Eq,),
}
_ORDERED = (ast.Sub, ast.Div, ast.FloorDiv, ast.Pow, ast.Mod)
"""The operators whose two sides a student may write the other way round."""
_LOOSER = {ast.Mult: (ast.Add, ast.Sub), ast.Div: (ast.Add, ast.Sub), ast.FloorDiv: (ast.Add, ast.Sub),
           ast.Sub: (ast.Add, ast.Sub), ast.Pow: (ast.Mult, ast.Div, ast.Add, ast.Sub)}
"""For an operator, the operators of a right side in brackets whose brackets a student may drop."""
_REDUCTIONS = {"sum", "mean", "max", "min", "dot", "matmul"}
"""The calls a term added after them may slip inside (`np.sum(a + b)` for `np.sum(a) + b`)."""
_NAMES = {"ceil": ("floor", "round"), "floor": ("ceil", "round"), "round": ("ceil", "floor"),
          "mean": ("sum", "median"), "sum": ("mean",), "argmax": ("argmin",), "argmin": ("argmax",),
          "max": ("min",), "min": ("max",), "std": ("var",), "var": ("std",), "any": ("all",), "all": ("any",)}
LIMIT = 400
"""The most mutants one function gets."""


def mutants(function: Callable[..., Any]) -> list[tuple[Callable[..., Any], str]]:
    """(a mutant, what it changes) for each one-change version of `function` that compiles; [] when its source
    cannot be read or it is not a plain module-level function."""
    try:
        return list(_cached(function))
    except TypeError:  # an unhashable callable
        return []


@functools.lru_cache(maxsize=64)
def _cached(function: Callable[..., Any]) -> tuple[tuple[Callable[..., Any], str], ...]:
    if not inspect.isfunction(function) or function.__closure__ or function.__name__ == "<lambda>":
        return ()
    try:
        source = textwrap.dedent(inspect.getsource(function))
        tree = ast.parse(source)
    except (OSError, TypeError, SyntaxError, IndentationError):
        return ()
    if not tree.body or not isinstance(tree.body[0], ast.FunctionDef):
        return ()
    tree.body[0].decorator_list = []
    out: list[tuple[Callable[..., Any], str]] = []
    for changed, says in _changes(tree):
        compiled = _compile(changed, function)
        if compiled is not None:
            out.append((compiled, says))
        if len(out) >= LIMIT:
            break
    return tuple(out)


def _compile(tree: ast.Module, function: Callable[..., Any]) -> Callable[..., Any] | None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a change may make a line Python warns of; it is no student's
            code = compile(ast.fix_missing_locations(tree), f"<mutant of {function.__name__}>", "exec")
        space: dict[str, Any] = {}
        exec(code, function.__globals__, space)  # noqa: S102 - the pack's own reference, one expression changed
        mutant = space[function.__name__]
    except Exception:  # noqa: BLE001 - a change that does not compile is no mutant
        return None
    mutant.__defaults__ = function.__defaults__
    return mutant


def _changes(tree: ast.Module) -> Iterator[tuple[ast.Module, str]]:
    """Each one-change copy of the function's tree with what it says. Conditions of `while` loops are left as they
    are, so that no mutant loops for ever."""
    function = tree.body[0]
    protected = {id(n) for w in ast.walk(function) if isinstance(w, ast.While) for n in ast.walk(w.test)}
    protected |= {id(n) for n in ast.walk(function.args)}  # defaults and annotations stay
    protected |= {id(n) for n in ast.walk(function.returns)} if function.returns else set()
    parents = {id(child): parent for parent in ast.walk(function) for child in ast.iter_child_nodes(parent)}
    walk = list(ast.walk(function))
    index = {id(n): i for i, n in enumerate(walk)}
    yield from _factor_dropped_everywhere(tree, walk, protected)
    for position, node in enumerate(walk):
        if id(node) in protected or (isinstance(node, ast.stmt) and not isinstance(node, ast.AugAssign)):
            continue
        shown = index[id(_shown_part(node, parents))]
        before = _text(walk[shown])
        twins = [i for i, other in enumerate(walk) if i != position and isinstance(node, (ast.BinOp, ast.Call))
                 and type(other) is type(node) and ast.dump(other) == ast.dump(node) and id(other) not in protected]
        for replacement in _replacements(node):
            changed = copy.deepcopy(tree)  # the copy walks in the same order, so positions carry over
            nodes = list(ast.walk(changed.body[0]))
            target, where = nodes[position], nodes[shown]
            if _swap_in(changed, target, replacement):
                after = _text(replacement) if where is target else _text(where)
                yield changed, (f"`{before}` left out" if isinstance(replacement, ast.Pass)
                                else f"`{before}` written as `{after}`")
            if twins and position < min(twins) and not isinstance(replacement, ast.Pass):
                # the same slip wherever the expression appears: `i` for `i * stride` in both ends of a slice
                changed = copy.deepcopy(tree)
                nodes = list(ast.walk(changed.body[0]))
                if all(_swap_in(changed, nodes[i], _clone(replacement)) for i in [position, *twins]):
                    yield changed, (f"`{_text(node)}` written as `{_text(replacement)}` everywhere it appears "
                                    f"({len(twins) + 1} times)")


def _factor_dropped_everywhere(tree: ast.Module, walk: list[ast.AST], protected: set[int]
                               ) -> Iterator[tuple[ast.Module, str]]:
    """For a name that multiplies two or more expressions (`i * stride`, `j * stride`), the version with every
    one of those factors left out: the same slip made in each place."""
    factors: dict[str, list[tuple[int, str]]] = {}
    for i, node in enumerate(walk):
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult) and id(node) not in protected:
            for side, other in (("right", "left"), ("left", "right")):
                if isinstance(getattr(node, side), ast.Name):
                    factors.setdefault(getattr(node, side).id, []).append((i, other))
                    break
    for name, places in factors.items():
        if len(places) < 2:
            continue
        changed = copy.deepcopy(tree)
        nodes = list(ast.walk(changed.body[0]))
        if all(_swap_in(changed, nodes[i], _clone(getattr(nodes[i], kept))) for i, kept in places):
            yield changed, f"every `* {name}` left out ({len(places)} times)"


def _shown_part(node: ast.AST, parents: dict[int, ast.AST]) -> ast.AST:
    """The part of the code a change to `node` is shown in: the whole line for a simple statement, the condition or
    the loop's range for an `if`, `for` or `while`; enough for a student to find it."""
    part = node
    while id(part) in parents and isinstance(parents[id(part)], (ast.expr, ast.keyword, ast.slice)) \
            and not isinstance(parents[id(part)], (ast.Tuple, ast.List)):
        part = parents[id(part)]
    if isinstance(part, (ast.Constant, ast.Name)) and id(part) in parents:  # too little to find: the whole line
        while id(part) in parents and not isinstance(part, ast.stmt) and not isinstance(
                parents[id(part)], (ast.If, ast.For, ast.While, ast.FunctionDef, ast.With)):
            part = parents[id(part)]
    return part


def _swap_in(tree: ast.AST, old: ast.AST, new: ast.AST) -> bool:
    """Put `new` where `old` is in `tree`; False when `old` has no parent there."""
    for parent in ast.walk(tree):
        for field, value in ast.iter_fields(parent):
            if value is old:
                setattr(parent, field, new)
                return True
            if isinstance(value, list) and any(item is old for item in value):
                setattr(parent, field, [new if item is old else item for item in value])
                return True
    return False


def _replacements(node: ast.AST) -> Iterator[ast.AST]:
    """The one-change versions of one node."""
    if isinstance(node, ast.AugAssign):
        for op in _SWAPS.get(type(node.op), ()) + ((ast.Add,) if isinstance(node.op, ast.Mult) else ()):
            yield ast.AugAssign(target=_clone(node.target), op=op(), value=_clone(node.value))
        yield ast.Pass()  # the line left out
    elif isinstance(node, ast.BinOp):
        for op in _SWAPS.get(type(node.op), ()):
            yield ast.BinOp(left=_clone(node.left), op=op(), right=_clone(node.right))
        if isinstance(node.op, (ast.Add, ast.Sub)):
            yield _clone(node.left)  # the term left out
        if isinstance(node.op, ast.Add):
            yield _clone(node.right)  # the other term left out
        if isinstance(node.op, _ORDERED):
            yield ast.BinOp(left=_clone(node.right), op=type(node.op)(), right=_clone(node.left))  # the sides swapped
        if isinstance(node.op, ast.Pow):
            yield _clone(node.left)  # the power left out
        if isinstance(node.op, ast.Mult):  # a factor left out
            yield _clone(node.left)
            yield _clone(node.right)
        if isinstance(node.right, ast.BinOp) and type(node.right.op) in _LOOSER.get(type(node.op), ()):
            # the brackets around the right side dropped: a / (b - c) written as a / b - c
            yield ast.BinOp(left=ast.BinOp(left=_clone(node.left), op=type(node.op)(), right=_clone(node.right.left)),
                            op=type(node.right.op)(), right=_clone(node.right.right))
        if isinstance(node.op, ast.Mult):  # a mask used as an index: x[mask] for x * mask
            for kept, mask in ((node.left, node.right), (node.right, node.left)):
                if not isinstance(kept, ast.Constant):
                    yield ast.Subscript(value=_clone(kept), slice=_clone(mask), ctx=ast.Load())
        if isinstance(node.op, (ast.Add, ast.Sub)) and isinstance(node.left, ast.Call) \
                and _called(node.left) in _REDUCTIONS and len(node.left.args) == 1:  # the term inside the sum
            inner = ast.BinOp(left=_clone(node.left.args[0]), op=type(node.op)(), right=_clone(node.right))
            yield ast.Call(func=_clone(node.left.func), args=[inner], keywords=[_clone(k) for k in node.left.keywords])
    elif isinstance(node, ast.Compare) and len(node.ops) == 1:
        for op in _SWAPS.get(type(node.ops[0]), ()):
            yield ast.Compare(left=_clone(node.left), ops=[op()], comparators=[_clone(node.comparators[0])])
    elif isinstance(node, ast.Constant) and type(node.value) is int and abs(node.value) < 10_000:
        for step in (1, -1):
            yield ast.Constant(value=node.value + step)
    elif isinstance(node, ast.keyword) and node.arg == "axis":
        for axis in (0, 1, -1, None):
            if not (isinstance(node.value, ast.Constant) and node.value.value == axis):
                yield ast.keyword(arg="axis", value=ast.Constant(value=axis))
    elif isinstance(node, ast.Call):
        if len(node.args) >= 2 and not any(isinstance(a, ast.Starred) for a in node.args[:2]):
            args = [_clone(a) for a in node.args]
            args[0], args[1] = args[1], args[0]
            yield ast.Call(func=_clone(node.func), args=args, keywords=[_clone(k) for k in node.keywords])
        if _called(node) == "where" and len(node.args) == 3 and not node.keywords \
                and not isinstance(node.args[1], ast.Constant):  # a mask used as an index
            yield ast.Subscript(value=_clone(node.args[1]), slice=_clone(node.args[0]), ctx=ast.Load())
        for other in _NAMES.get(_called(node) or "", ()):
            func = _clone(node.func)
            if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == "math" \
                    and other == "round":
                func = ast.Name(id="round", ctx=ast.Load())
            elif isinstance(func, ast.Attribute):
                func.attr = other
            elif other in ("round", "max", "min", "sum", "any", "all"):
                func = ast.Name(id=other, ctx=ast.Load())
            else:
                continue
            yield ast.Call(func=func, args=[_clone(a) for a in node.args], keywords=[_clone(k) for k in node.keywords])
    elif isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Slice):
        part = node.slice
        for bound in ("lower", "upper"):
            value = getattr(part, bound)
            if value is not None:
                for step in (1, -1):
                    new = ast.Slice(lower=_clone(part.lower), upper=_clone(part.upper), step=_clone(part.step))
                    setattr(new, bound, ast.BinOp(left=_clone(value), op=ast.Add() if step > 0 else ast.Sub(),
                                                  right=ast.Constant(value=1)))
                    yield ast.Subscript(value=_clone(node.value), slice=new, ctx=ast.Load())


def _called(node: ast.Call) -> str | None:
    """The name a call calls: `sum` for `np.sum(x)` and for `sum(x)`."""
    return node.func.attr if isinstance(node.func, ast.Attribute) else node.func.id \
        if isinstance(node.func, ast.Name) else None


def intermediates(function: Callable[..., Any]) -> list[tuple[Callable[..., Any], str]]:
    """(a version, what it says) for each variable `function` assigns in its body: the version returns that
    variable's value when the function returns, for a student's function that returns a step before the last (`jump`
    where the reference returns `size`). [] when the source cannot be read.

    Usage:
        for version, says in intermediates(receptive_field):
            ...   # says: 'what the solution holds in `jump` when it returns `size`'
    """
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(function)))
    except (OSError, TypeError, SyntaxError, IndentationError):
        return []
    if not tree.body or not isinstance(tree.body[0], ast.FunctionDef) or not inspect.isfunction(function):
        return []
    body = tree.body[0]
    returned = [_text(n.value) for n in ast.walk(body) if isinstance(n, ast.Return) and n.value is not None]
    names = dict.fromkeys(n.id for n in ast.walk(body) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store))
    shown = f" when it returns `{returned[-1]}`" if len(set(returned)) == 1 else ""
    return [(_holding(function, name), f"what the solution holds in `{name}`{shown}") for name in names
            if name not in returned]


def _holding(function: Callable[..., Any], name: str) -> Callable[..., Any]:
    """A function that calls `function` and returns its local `name` as it was when the call returned."""
    code = function.__code__

    def version(*args: Any, **kwargs: Any) -> Any:
        seen: dict[str, Any] = {}

        def watch(frame: Any, event: str, arg: Any) -> None:
            if event == "return" and frame.f_code is code and name in frame.f_locals:
                seen["value"] = frame.f_locals[name]

        before = sys.getprofile()
        sys.setprofile(watch)
        try:
            function(*args, **kwargs)
        finally:
            sys.setprofile(before)
        if "value" not in seen:
            raise LookupError(f"{name} was never set")
        return seen["value"]

    return version


def _clone(node: Any) -> Any:
    return copy.deepcopy(node) if isinstance(node, ast.AST) else node


def _text(node: ast.AST) -> str:
    try:
        return ast.unparse(node)
    except Exception:  # noqa: BLE001
        return "?"
