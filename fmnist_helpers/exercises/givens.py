"""The answer of a compute exercise written as a formula of the task's givens, so that a wrong answer no exercise
foresaw can be named by what was misread: one given taken as another value (batches of 64 where the task says
128, the 10,000 test images where it says the training set), a term or a factor left out (the biases, the
validation files, 1 - p), a rounding the other way, a square root or an absolute value left out, or one given
multiplied by another.

A formula is built from `Given`s with Python's operators and `ceil`, `floor`, `sqrt`, `absolute`, `named` and
`call`; `Formula.explain` tries each single change (and a misread given with a rounding the other way) and says
in one sentence which one gives the answer, nearest to the task's givens first, and both when two fit equally.

Usage:
    images, batch = Given("images", 55_000, "{:,} images"), Given("batch", 128, "batches of {}", others={32: ""})
    formula = Formula(ceil(images / batch, "the last, smaller batch counts too"))
    formula.value()                       # 430
    formula.explain(1719, same_number)    # 'that is the answer for batches of 32, but the task has batches of 128.'
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

from .slips import slip

BATCH_SIZES = {32: "Keras's default", 64: "", 128: "", 256: "", 512: "", 1_000: "the bu study's"}
"""The batch sizes of the course, for a given that is one: a student may take any of them for the task's."""
IMAGE_COUNTS = {60_000: "all the training images", 10_000: "the test images", 70_000: "training and test images",
                55_000: "uw's training split", 5_000: "uw's validation split",
                48_000: "the training part of a 20% validation split", 12_000: "a 20% validation split",
                54_000: "the training part of a 10% validation split"}
"""The numbers of images the course's splits hold, for a given that counts images."""

# ----------------------------------------------------------------------------------------------- the nodes


@dataclass(frozen=True)
class Change:
    """A formula under one change: the changed node, what the change says, its rank (lower is likelier) and its
    kind: "rounding" (a rounding the other way) and "left out" (a part left out) may come with another change,
    "other" (an operation the other way) comes alone."""

    node: "Expr"
    says: str
    rank: float = 1
    kind: str = "other"
    source: str = ""  # changes of one source that give the same answer are one explanation (floor or round)

    def inside(self, wrap: Callable[["Expr"], "Expr"]) -> "Change":
        """The change seen from the node above: a change deeper in the formula ranks a little lower, so that
        leaving out `1 - p` explains an answer before leaving out `p` from `1 - p` does."""
        return Change(wrap(self.node), self.says, self.rank + 0.01, self.kind, self.source)


class Expr:
    """A node of a formula: Python's arithmetic operators build larger ones."""

    def value(self, env: dict[str, float]) -> Any:
        raise NotImplementedError

    def text(self) -> str:
        """The node as the task writes it: givens by their symbol (or value), operators in plain text."""
        raise NotImplementedError

    def changes(self) -> Iterator[Change]:
        """Each node this one becomes under one structural change."""
        return iter(())

    def givens(self) -> Iterator["Given"]:
        return iter(())

    def __add__(self, other: Any) -> "Expr":
        return Op("+", self, _expr(other))

    def __radd__(self, other: Any) -> "Expr":
        return Op("+", _expr(other), self)

    def __sub__(self, other: Any) -> "Expr":
        return Op("-", self, _expr(other))

    def __rsub__(self, other: Any) -> "Expr":
        return Op("-", _expr(other), self)

    def __mul__(self, other: Any) -> "Expr":
        return Op("*", self, _expr(other))

    def __rmul__(self, other: Any) -> "Expr":
        return Op("*", _expr(other), self)

    def __truediv__(self, other: Any) -> "Expr":
        return Op("/", self, _expr(other))

    def __rtruediv__(self, other: Any) -> "Expr":
        return Op("/", _expr(other), self)

    def __pow__(self, other: Any) -> "Expr":
        return Op("^", self, _expr(other))


def _expr(value: Any) -> Expr:
    return value if isinstance(value, Expr) else Const(value)


def number_text(value: Any) -> str:
    """A number as the pack writes it in a message: thousands separated, no trailing zeros."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        value = int(value)
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value:.4g}" if isinstance(value, float) else str(value)


@dataclass(eq=False)
class Const(Expr):
    number: Any

    def value(self, env: dict[str, float]) -> Any:
        return self.number

    def text(self) -> str:
        return number_text(self.number)


@dataclass(eq=False)
class Given(Expr):
    """One number the task gives (or that the course fixes). `say` writes a value of it as a message needs it: a
    format such as "batches of {}" or "{:,} images", or a function of the value; `has` says what the task has
    ("the task has {}" by default, the `say` of the right value in its braces); `noun` names it in a relation
    ("the batch size"); `others` maps the values a student may take for it to a note on where such a value comes
    from ("" for none); `symbol` is how the task's formula writes it (b, n, p), when it does; `steps` marks a
    small count, for which one more, one less, twice and half are tried too."""

    name: str
    number: Any  # the value, or a function without arguments that gives it (read when first needed)
    say: str | Callable[[Any], str] = "{}"
    others: dict[Any, str] | Callable[[], dict[Any, str]] = field(default_factory=dict)
    symbol: str = ""
    steps: bool = False
    noun: str = ""
    has: str = "the task has {}"

    def value(self, env: dict[str, Any]) -> Any:
        return env[self.name] if self.name in env else self.actual()

    def actual(self) -> Any:
        return self.number() if callable(self.number) else self.number

    def words(self, value: Any) -> str:
        if callable(self.say):
            return self.say(value)
        shown = int(value) if isinstance(value, float) and value.is_integer() else value
        return self.say.format(shown) if "{:" in self.say else self.say.format(number_text(shown))

    def text(self) -> str:
        return self.symbol or number_text(self.actual())

    def givens(self) -> Iterator["Given"]:
        yield self

    def alternatives(self) -> Iterator[tuple[Any, str, int]]:
        """(another value, its note, rank): the curated values first, then one step off for a small count."""
        actual = self.actual()
        others = self.others() if callable(self.others) else self.others
        for other, note in others.items():
            if other != actual:
                yield other, note, 0
        if self.steps:
            for other in (actual - 1, actual + 1, actual * 2, actual / 2):
                if other > 0 and float(other).is_integer() and other not in others and other != actual:
                    yield type(actual)(other), "", 0
        if isinstance(actual, int) and not isinstance(actual, bool) and actual >= 1_000 and actual % 10 == 0:
            for other, note in ((actual // 10, "a zero dropped"), (actual * 10, "a zero too many")):
                if other not in others:
                    yield other, note, 2  # after a part left out, which may give the same number


@dataclass(eq=False)
class Op(Expr):
    op: str  # one of + - * / ^
    left: Expr
    right: Expr

    def value(self, env: dict[str, Any]) -> Any:
        a, b = self.left.value(env), self.right.value(env)
        if self.op == "+":
            return a + b
        if self.op == "-":
            return a - b
        if self.op == "*":
            return a * b
        if self.op == "/":
            return a / b
        return a ** b

    def text(self) -> str:
        def side(node: Expr, right: bool) -> str:
            inner = node.text()
            if isinstance(node, Named):
                node = node.inner
            if isinstance(node, Op) and (_PRECEDENCE[node.op] < _PRECEDENCE[self.op]
                                         or right and _PRECEDENCE[node.op] == _PRECEDENCE[self.op]
                                         and self.op in "-/"):
                return f"({inner})"
            return inner

        symbol = {"*": " x ", "/": " / ", "+": " + ", "-": " - ", "^": "^"}[self.op]
        return side(self.left, False) + symbol + side(self.right, True)

    def givens(self) -> Iterator[Given]:
        yield from self.left.givens()
        yield from self.right.givens()

    def changes(self) -> Iterator[Change]:
        left, right = self.left, self.right
        if self.op in "+-":
            if not isinstance(right, Const):
                yield Change(left, _left_out(right, self), kind="left out")
            if self.op == "+" and not isinstance(left, Const):
                yield Change(right, _left_out(left, self), kind="left out")
            if self.op == "-" and not isinstance(right, Const):
                yield Change(Op("+", left, right), f"that adds {_what(right)} where {self.text()} subtracts it")
            if self.op == "+" and not isinstance(right, Const):
                yield Change(Op("-", left, right), f"that subtracts {_what(right)} where {self.text()} adds it")
            if not isinstance(right, Const):
                verb = "adds" if self.op == "+" else "subtracts"
                yield Change(Op(self.op, Op(self.op, left, right), right), f"that {verb} {_what(right)} twice; "
                                                                          f"{self.text()} {verb} it once", rank=1.5)
        elif self.op == "*":
            for kept, gone in ((left, right), (right, left)):
                if not isinstance(gone, Const):
                    yield Change(kept, _left_out(gone, self, factor=True), kind="left out")
        elif self.op == "/":
            yield Change(left, f"that leaves out the division by {_what(right)} in {self.text()}")
            yield Change(Op("*", left, right), f"that multiplies by {_what(right)} where {self.text()} divides")
        elif self.op == "^" and isinstance(right, Const) and right.number == 2:
            base = f"{left.noun} ({left.text()})" if isinstance(left, Given) and left.noun else left.text()
            yield Change(left, f"that uses {base} where its square, {self.text()}, belongs")
        yield from _moves(self)
        for change in left.changes():
            yield change.inside(lambda node: Op(self.op, node, right))
        for change in right.changes():
            yield change.inside(lambda node: Op(self.op, left, node))


_PRECEDENCE = {"+": 1, "-": 1, "*": 2, "/": 2, "^": 3}
_FUNCTION_WORDS = {"sqrt": "the square root", "ceil": "the rounding", "floor": "the rounding",
                   "round": "the rounding", "abs": "the absolute value"}


def _moves(node: "Op") -> Iterator[Change]:
    """A part moved across a function next to it: a factor taken inside a square root or a rounding
    (`sqrt(100 x v)` for `100 x sqrt(v)`, `ceil(a / b x e)` for `ceil(a / b) x e`), a divisor taken out of a square
    root (`sqrt(v) / n` for `sqrt(v / n)`), or a term added before a rounded division instead of after it
    (`floor((a + 1) / b)` for `floor(a / b) + 1`)."""
    left, right = node.left, node.right
    if node.op == "*":
        for outer, func, first in ((left, right, True), (right, left, False)):
            if not isinstance(func, Func) or func.kind == "abs":
                continue
            factors = [outer] + ([outer.left, outer.right] if isinstance(outer, Op) and outer.op == "*" else [])
            for factor in factors:
                rest = None if factor is outer else (outer.right if factor is outer.left else outer.left)
                moved = Func(func.kind, Op("*", factor, func.inner) if first else Op("*", func.inner, factor),
                             func.why)
                whole = moved if rest is None else (Op("*", rest, moved) if first else Op("*", moved, rest))
                where = "inside" if func.kind == "sqrt" else "before"
                yield Change(whole, f"that multiplies by {_what(factor)} {where} {_FUNCTION_WORDS[func.kind]}, "
                                    f"{whole.text()}; the task multiplies {func.text()} by it")
    if node.op == "*":  # a term of a sum that is multiplied, added once outside the product or to one factor
        for total, factor, first in ((left, right, True), (right, left, False)):
            if not (isinstance(total, Op) and total.op in "+-") and not (
                    isinstance(total, Named) and isinstance(total.inner, Op) and total.inner.op in "+-"):
                continue
            total_op = total.inner if isinstance(total, Named) else total
            kept, term = total_op.left, total_op.right
            product = Op("*", kept, factor) if first else Op("*", factor, kept)
            verb = "adds" if total_op.op == "+" else "subtracts"
            yield Change(Op(total_op.op, product, term), f"that {verb} {_what(term)} once, after multiplying by "
                                                         f"{_what(factor)}; the task {verb} it to each of the "
                                                         f"{_what(factor)}: {node.text()}")
            inner = kept.inner if isinstance(kept, Named) else kept
            if isinstance(inner, Op) and inner.op == "*":
                moved = Op("*", inner.left, Op(total_op.op, inner.right, term))
                whole = Op("*", moved, factor) if first else Op("*", factor, moved)
                yield Change(whole, f"that {verb} {_what(term)} to {_what(inner.right)} before multiplying by "
                                    f"{_what(inner.left)}: {whole.text()}; the task {verb} it to the product, "
                                    f"{node.text()}")
    if node.op in "+-" and isinstance(left, Func) and left.kind in _ROUNDINGS and isinstance(left.inner, Op) \
            and left.inner.op == "/":
        division = left.inner
        moved = Func(left.kind, Op("/", Op(node.op, division.left, right), division.right), left.why)
        verb = "adds" if node.op == "+" else "subtracts"
        yield Change(moved, f"that {verb} {_what(right)} before the division, {moved.text()}; the task {verb} it "
                            f"after: {node.text()}")


def _sqrt_moves(func: "Func") -> Iterator[Change]:
    """A divisor or a factor taken out of a square root: `sqrt(v) / n` for `sqrt(v / n)`."""
    inner = func.inner
    if func.kind == "sqrt" and isinstance(inner, Op) and inner.op in "*/":
        moved = Op(inner.op, Func("sqrt", inner.left, func.why), inner.right)
        verb = "divides by" if inner.op == "/" else "multiplies by"
        yield Change(moved, f"that {verb} {_what(inner.right)} outside the square root, {moved.text()}; the task "
                            f"{verb.split()[0]} inside it: {func.text()}")


def _tokens(node: "Expr") -> list:
    """The node as the task writes it, a list of parts (nodes that are no arithmetic) and of operators and
    brackets."""
    if isinstance(node, Named):
        return _tokens(node.inner)
    if not isinstance(node, Op):
        return [node]

    def side(child: Expr, right: bool) -> list:
        inner = child.inner if isinstance(child, Named) else child
        tokens = _tokens(child)
        if isinstance(inner, Op) and (_PRECEDENCE[inner.op] < _PRECEDENCE[node.op]
                                      or right and _PRECEDENCE[inner.op] == _PRECEDENCE[node.op] and node.op in "-/^"
                                      or not right and node.op == "^" and inner.op == "^"):
            return ["(", *tokens, ")"]
        return tokens

    return [*side(node.left, False), node.op, *side(node.right, True)]


def _parse(tokens: list) -> "Expr":
    """The tree Python's precedence makes of `tokens` (powers first, then * and /, then + and -, left to right;
    powers right to left)."""
    position = 0

    def primary() -> Expr:
        nonlocal position
        token = tokens[position]
        position += 1
        if isinstance(token, str) and token == "(":
            inside = expression(1)
            position += 1  # the closing bracket
            return inside
        return token

    def expression(least: int) -> Expr:
        nonlocal position
        left = primary()
        while position < len(tokens) and isinstance(tokens[position], str) and tokens[position] in _PRECEDENCE \
                and _PRECEDENCE[tokens[position]] >= least:
            op = tokens[position]
            position += 1
            left = Op(op, left, expression(_PRECEDENCE[op] + (op != "^")))
        return left

    return expression(1)


def _render(tokens: list) -> str:
    symbols = {"*": " x ", "/": " / ", "+": " + ", "-": " - ", "^": "^"}
    return "".join(t if t in ("(", ")") else symbols[t] if isinstance(t, str) else t.text() for t in tokens)


def _bracket_drops(node: "Expr") -> Iterator[Change]:
    """The node with one pair of its brackets left out, as Python reads what is left: `a / b + c` for
    `a / (b + c)`, `|b - c| - 1^2 / (b + c)` for `(|b - c| - 1)^2 / (b + c)`."""
    tokens = _tokens(node)
    opened: list[int] = []
    pairs = []
    for i, token in enumerate(tokens):
        if isinstance(token, str) and token == "(":
            opened.append(i)
        elif isinstance(token, str) and token == ")":
            pairs.append((opened.pop(), i))
    for start, end in pairs:
        kept = tokens[:start] + tokens[start + 1:end] + tokens[end + 1:]
        try:
            read = _parse(kept)
        except (IndexError, TypeError):
            continue
        yield Change(read, f"that drops the brackets around {_render(tokens[start + 1:end])}: Python then computes "
                           f"{_render(kept)}, powers before * and /, and these before + and -")


def _what(node: Expr) -> str:
    """How a message names a part of a formula: its name when it has one, a given as its `say` writes it, else
    how the task writes it."""
    if isinstance(node, Named):
        return node.label
    return node.words(node.actual()) if isinstance(node, Given) and not node.symbol else node.text()


def _left_out(gone: Expr, whole: Expr, factor: bool = False) -> str:
    """What a message says of a part left out: its name alone when it has one, else where it was."""
    if isinstance(gone, Named) or isinstance(gone, Given) and not gone.symbol:
        return f"that leaves out {_what(gone)}"
    return f"that leaves out {'the factor ' if factor else ''}{gone.text()} {'of' if factor else 'from'} {whole.text()}"


@dataclass(eq=False)
class Named(Expr):
    """A part of a formula with a name for messages ("the biases, one per unit")."""

    inner: Expr
    label: str

    def value(self, env: dict[str, Any]) -> Any:
        return self.inner.value(env)

    def text(self) -> str:
        return self.inner.text()

    def givens(self) -> Iterator[Given]:
        yield from self.inner.givens()

    def changes(self) -> Iterator[Change]:
        for change in self.inner.changes():
            yield change.inside(lambda node: Named(node, self.label))


_ROUNDINGS = {"ceil": math.ceil, "floor": math.floor, "round": round}
_ROUNDING_SAYS = {"ceil": "rounds up", "floor": "rounds down", "round": "rounds to the nearest whole number"}


@dataclass(eq=False)
class Func(Expr):
    """A rounding (ceil, floor, round), a square root or an absolute value, with why the task needs it (`why`)."""

    kind: str  # "ceil", "floor", "round", "sqrt", "abs"
    inner: Expr
    why: str = ""

    def value(self, env: dict[str, Any]) -> Any:
        x = self.inner.value(env)
        if self.kind == "sqrt":
            return math.sqrt(x)
        if self.kind == "abs":
            return abs(x)
        return _ROUNDINGS[self.kind](x)

    def text(self) -> str:
        if self.kind == "abs":
            return f"|{self.inner.text()}|"
        return f"{self.kind}({self.inner.text()})"

    def givens(self) -> Iterator[Given]:
        yield from self.inner.givens()

    def changes(self) -> Iterator[Change]:
        why = f": {self.why}" if self.why else ""
        if self.kind in _ROUNDINGS:
            task = f"so the task {_ROUNDING_SAYS[self.kind]}"
            source = f"rounding {id(self)}"
            for other in _ROUNDINGS:
                if other != self.kind:
                    yield Change(Func(other, self.inner), f"that {_ROUNDING_SAYS[other]}{why}, {task}",
                                 kind="rounding", source=source)
            yield Change(self.inner, f"that is not a whole number{why}, {task}", kind="rounding", source=source)
        elif self.kind == "sqrt":
            yield Change(self.inner, f"that leaves out the square root{why}", kind="left out")
        elif self.kind == "abs":
            yield Change(self.inner, f"that leaves out the absolute value in {self.text()}{why}")
        yield from _sqrt_moves(self)
        for change in _bracket_drops(self.inner):
            yield change.inside(lambda node: Func(self.kind, node, self.why))
        for change in self.inner.changes():
            yield change.inside(lambda node: Func(self.kind, node, self.why))


@dataclass(eq=False)
class Call(Expr):
    """A function of givens that is no arithmetic (an early-stopping walk, a dropout mask): only its givens
    change."""

    function: Callable[..., Any]
    arguments: tuple[Expr, ...]
    label: str = ""

    def value(self, env: dict[str, Any]) -> Any:
        return self.function(*(a.value(env) for a in self.arguments))

    def text(self) -> str:
        return self.label or getattr(self.function, "__name__", "f")

    def givens(self) -> Iterator[Given]:
        for argument in self.arguments:
            yield from argument.givens()


def ceil(x: Any, why: str = "") -> Expr:
    return Func("ceil", _expr(x), why)


def floor(x: Any, why: str = "") -> Expr:
    return Func("floor", _expr(x), why)


def sqrt(x: Any, why: str = "") -> Expr:
    return Func("sqrt", _expr(x), why)


def absolute(x: Any, why: str = "") -> Expr:
    return Func("abs", _expr(x), why)


def named(x: Any, label: str) -> Expr:
    return Named(_expr(x), label)


def call(function: Callable[..., Any], *arguments: Any, label: str = "") -> Expr:
    return Call(function, tuple(_expr(a) for a in arguments), label)


# ------------------------------------------------------------------------------------------------ a formula

_ORDINAL_WORDS = ("first", "second", "third", "fourth", "fifth")
SWAPS = 3  # the rank of another given's value in a given's place, or two givens multiplied: likelier chance
_BOTH = 4  # the rank of a misread given or a part left out that comes with a rounding the other way
_STRICT = 6  # the rank of two structural changes at once, which must give the answer to 1 part in 10,000


@dataclass(eq=False)
class Formula:
    """An exercise's answer as one expression, or a tuple of them (a shape, a pair); `also` lists givens of the
    task that the answer does not use (the input's channels for an output shape), which a student may use."""

    parts: Expr | tuple[Expr, ...]
    also: tuple[Given, ...] = ()
    extra: tuple[tuple[Any, str], ...] = ()  # (a term a student may add, what it is): a neighbouring layer's count

    def __post_init__(self) -> None:
        self.parts = tuple(_expr(p) for p in self.parts) if isinstance(self.parts, tuple) else _expr(self.parts)

    def _all(self) -> tuple[Expr, ...]:
        return self.parts if isinstance(self.parts, tuple) else (self.parts,)

    def value(self, env: dict[str, Any] | None = None, parts: Any = None) -> Any:
        env, parts = env or {}, self.parts if parts is None else parts
        if isinstance(parts, tuple):
            return tuple(_plain(p.value(env)) for p in parts)
        return _plain(parts.value(env))

    def givens(self) -> list[Given]:
        seen: dict[str, Given] = {}
        for part in self._all():
            for given in part.givens():
                seen.setdefault(given.name, given)
        return list(seen.values())

    def names(self) -> dict[float, str]:
        """Each given's value with its noun ("the batch size"), for a relation that a given explains."""
        out: dict[float, str] = {}
        for given in (*self.givens(), *self.also):
            value = given.actual()
            if _is_number(value) and value not in (0, 1) and given.noun:
                out.setdefault(float(value), given.noun)
        return out

    def _changes(self, parts: Any = None) -> Iterator[tuple[Any, Change]]:
        """(the parts, the change) for each structural change of one part; a part the formula repeats (both sides
        of a shape) changes everywhere at once, as a student computes it the same way each time."""
        whole = self.parts if parts is None else parts
        all_parts = whole if isinstance(whole, tuple) else (whole,)
        done: list[Expr] = []
        for part in all_parts:
            if any(part is seen for seen in done):
                continue
            done.append(part)
            for change in (*part.changes(), *_bracket_drops(part)):
                changed = tuple(change.node if p is part else p for p in all_parts)
                yield (changed if isinstance(whole, tuple) else changed[0]), change

    def _misreadings(self) -> Iterator[tuple[dict[str, Any], str, float, str]]:
        """Each environment with one given misread: another value for it, another given's value in its place, or
        it multiplied by a given the answer does not use (`also`); with what it says, its rank and its source."""
        givens = self.givens()
        for given in givens:
            actual = given.actual()
            has = given.has.format(given.words(actual))
            for other, note, rank in given.alternatives():
                note = f" ({note})" if note else ""
                yield ({given.name: other}, f"that is the answer for {given.words(other)}{note}, but {has}", rank,
                       f"given {given.name}")
            for partner in givens[givens.index(given) + 1:]:  # two givens swapped
                theirs = partner.actual()
                if _is_number(actual) and _is_number(theirs) and theirs != actual \
                        and isinstance(actual, int) == isinstance(theirs, int):
                    says = (f"that swaps two givens: it uses {partner.words(actual)} and {given.words(theirs)}, but "
                            f"the task has {given.words(actual)} and {partner.words(theirs)}")
                    yield {given.name: theirs, partner.name: actual}, says, 1.5, f"swap {given.name} {partner.name}"
            for partner in (*givens, *self.also):
                theirs = partner.actual()
                if partner is given or not (_is_number(actual) and _is_number(theirs)) or theirs in (0, 1):
                    continue
                if isinstance(actual, int) and not float(theirs).is_integer():
                    continue  # a count or an index is never a fraction such as a rate
                if theirs != actual:
                    says = f"that uses {partner.words(theirs)} where {given.words(actual)} belong"
                    yield {given.name: theirs}, says, SWAPS, says
                if partner in self.also:  # a given of the formula times another would only count that one twice
                    says = f"that multiplies {given.words(actual)} by {partner.words(theirs)}"
                    yield {given.name: actual * theirs}, says, SWAPS, says

    def candidates(self) -> Iterator[tuple[Any, str, float, str]]:
        """(a wrong answer, what it says, its rank, its source) for every change the formula knows: one given
        misread, one part changed, or a rounding the other way together with a misread given or a part left
        out."""
        misread = list(self._misreadings())
        for env, says, rank, source in misread:
            yield self._safe(env, None), says, rank, source
        roundings, others = [], []
        for parts, change in self._changes():
            yield self._safe({}, parts), change.says, change.rank, change.source or change.says
            if change.kind != "other":
                (roundings if change.kind == "rounding" else others).append((parts, change))
        for env, says, rank, source in misread:
            if rank < SWAPS:
                for parts, rounding in roundings:
                    yield (self._safe(env, parts), f"{says}, and {_it(rounding.says)}",
                           _BOTH + rank + rounding.rank - 1, f"{source} + {rounding.source}")
        for parts, first in others:
            for twice, change in self._changes(parts):
                if change.kind == "rounding":
                    yield (self._safe({}, twice), f"{first.says}, and {_it(change.says)}",
                           _BOTH + first.rank + change.rank - 2, f"{first.says} + {change.source}")
        if not isinstance(self.parts, tuple):
            for term, label in self.extra:
                added = self._safe({}, Op("+", self.parts, _expr(term)))
                yield added, f"that adds {label}", 1, f"extra {label}"
        points = any(isinstance(node, Const) and node.number == 100 for node in self._nodes())
        for parts, first in self._changes():  # two parts left out, matched strictly
            if first.kind != "left out":
                continue
            for twice, change in self._changes(parts):
                if change.kind == "left out" and change.says != first.says:
                    pair = sorted((first.says, change.says))
                    yield (self._safe({}, twice), f"{pair[0]}, and {_it(pair[1])}", _STRICT + first.rank + change.rank,
                           f"{pair[0]} + {pair[1]}")
        for parts, first in self._changes():  # an operation the other way with a part left out, matched strictly
            if first.kind != "other":
                continue
            for twice, change in self._changes(parts):
                if change.kind == "left out":
                    yield (self._safe({}, twice), f"{first.says}, and {_it(change.says)}",
                           _STRICT + first.rank + change.rank, f"{first.says} + {change.says}")
            value = self._safe({}, parts)
            if points and _is_number(value):  # and the factor 100 that makes points left out
                yield (value / 100, f"{first.says}, and it leaves out the factor 100 that turns a fraction into "
                                    f"points", _STRICT + first.rank, f"{first.says} + 100")

    def _nodes(self) -> Iterator[Expr]:
        """Every node of the formula."""
        todo = list(self._all())
        while todo:
            node = todo.pop()
            yield node
            todo += [child for name in ("left", "right", "inner") if isinstance(child := getattr(node, name, None),
                                                                                Expr)]
            todo += list(getattr(node, "arguments", ()))

    def _safe(self, env: dict[str, Any], parts: Any) -> Any:
        try:
            return self.value(env, parts)
        except (ArithmeticError, ValueError, TypeError):
            return None

    def explain_ranked(self, answer: Any, same: Callable[[Any, Any], bool]) -> tuple[str, float] | None:
        """What change of the formula gives `answer` (`same` compares as the check does), in one sentence, with
        its rank (below `SWAPS`: a misread given or a part changed); the two likeliest when two different changes
        fit equally well; None when none does."""
        expected = self.value()
        found: dict[str, tuple[float, str]] = {}  # source -> (rank, what it says): the first of each source
        for wrong, says, rank, source in self.candidates():
            if wrong is None or source in found or _agree(same, wrong, expected) or not _agree(same, answer, wrong):
                continue
            if rank >= _STRICT and not _agree(lambda a, b: _near(a, b, 1e-4), answer, wrong):
                continue  # two changes at once fit a loose comparison too often by chance
            found[source] = (rank, says)
        if not found:
            return None
        says, rank = _likeliest({says: rank for rank, says in found.values()})
        return (says[0] + "." if len(says) == 1 else f"{says[0]}; or {_it(says[1])}."), rank

    def explain_parts(self, answer: Any) -> str | None:
        """For an answer of several numbers (a shape, a pair) with some wrong: each wrong number explained on its
        own, by a change of its own part of the formula, or as the value of a named part elsewhere in the formula
        (a neighbouring quantity: the fold each model validates on, where the images each trains on are asked);
        None unless at least one wrong number is explained."""
        if not isinstance(self.parts, tuple) or not isinstance(answer, (tuple, list)) \
                or len(answer) != len(self.parts) or not all(_is_number(v) for v in answer):
            return None
        expected = self.value()
        same = lambda a, b: _near(a, b, 1e-6)  # noqa: E731 - one number against another
        neighbours = []
        for node in self._nodes():
            if isinstance(node, Named):
                try:
                    neighbours.append((node, _plain(node.value({}))))
                except (ArithmeticError, ValueError, TypeError):
                    continue
        said, wrong = [], 0
        for i, (part, value) in enumerate(zip(self.parts, answer)):
            if same(value, expected[i]):
                continue
            wrong += 1
            others = tuple(g for g in (*self.givens(), *self.also) if all(g is not h for h in part.givens()))
            found = next((f"that is {node.label}, {node.text()}." for node, theirs in neighbours
                          if node is not part and same(value, theirs) and not same(theirs, expected[i])), None)
            found = found or Formula(part, also=others).explain(value, same)
            if found is None:  # a factor the task's givens name ("3 times the right number, 3 being the folds")
                found = slip(value, expected[i], self.names(), bare=False)
            where = f"the {_ORDINAL_WORDS[i] if i < len(_ORDINAL_WORDS) else f'#{i + 1}'} number, {number_text(value)}"
            said.append(f"{where}: {found.rstrip('.')}" if found else f"{where}, is not right either")
        if not any(not s.endswith("is not right either") for s in said):
            return None
        right = len(answer) - wrong
        tail = (" (the other number is right)" if right == 1 else f" (the other {right} are right)") if right else ""
        return "; ".join(said) + tail + "."

    def explain(self, answer: Any, same: Callable[[Any, Any], bool]) -> str | None:
        """`explain_ranked` without the rank."""
        found = self.explain_ranked(answer, same)
        return found[0] if found else None


def _likeliest(found: dict[str, float]) -> tuple[list[str], float]:
    """The one or two explanations a message gives, and the best rank: those of the best rank; and when the best
    is a misread given and a part changed fits too (or the other way round), the shallowest such change as well,
    since two kinds of slip that give the same number are both worth saying."""
    best = min(found.values())
    says = [s for s, r in found.items() if r == best]
    if best < SWAPS:
        other = [(r, s) for s, r in found.items() if (r < 1) != (best < 1) and r < SWAPS]
        if other:
            says.append(min(other)[1])
    return says[:2], best


def _near(a: Any, b: Any, rel: float) -> bool:
    if isinstance(a, (tuple, list)) and isinstance(b, (tuple, list)):
        return len(a) == len(b) and all(_near(x, y, rel) for x, y in zip(a, b))
    return _is_number(a) and _is_number(b) and math.isclose(a, b, rel_tol=rel, abs_tol=1e-12)


def _it(says: str) -> str:
    """A change's words after "and" or "or": 'that rounds down' becomes 'it rounds down'."""
    return "it " + says.removeprefix("that ") if says.startswith("that ") else says


def _plain(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer() and abs(value) < 2 ** 53:
        return int(value)
    return value


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _agree(same: Callable[[Any, Any], bool], a: Any, b: Any) -> bool:
    try:
        return bool(same(a, b))
    except Exception:  # noqa: BLE001 - a candidate of another form than the answer
        return False
