"""Arithmetic from spoken numbers: "what is seven times eight", "twelve percent of two hundred and fifty",
"square root of eighty one", "what's 2 to the power of 10", "15 divided by 4".

The request is read into a small expression tree by recursive descent (sums over products over powers over
prefixed and postfixed factors, as spoken maths is usually meant) and answered only if every word was
understood and there is at least one operation: "what is five" or "what is the plus sign" go on to the LLM.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from assistant.brain.answers.base import Answer
from assistant.brain.answers.numbers import NUMBER_WORDS, is_said_exactly, parse_number, say_number

_QUESTION = re.compile(
    r"^(?:what (?:is|does|would be|will be)|what's|whats|how much (?:is|does)|how much's|"
    r"calculate|compute|work out|solve|"
    r"can you (?:tell me |calculate |work out )?(?:what )?|could you (?:tell me |calculate )?(?:what )?|"
    r"do you know what|tell me(?: what)?|i want to know what|and)\s+"
)
_ENDING = re.compile(r"\s+(?:equals?|is|make|makes|come to|comes to|give you|gives you|please)$")

# Operator phrases, longest first at each position; each maps to (kind, symbol).
_BINARY = {
    "plus": "+", "add": "+", "added to": "+", "and": "+",
    "minus": "-", "take away": "-", "less": "-",
    "times": "*", "multiplied by": "*", "x": "*", "multiply by": "*",
    "divided by": "/", "over": "/", "divide by": "/", "divided into": "/into",
    "to the power of": "^", "to the power": "^", "raised to the power of": "^", "raised to": "^", "to the": "^",
    "percent of": "%of", "modulo": "mod", "mod": "mod",
}
_PREFIX = {
    "the square root of": "sqrt", "square root of": "sqrt", "root of": "sqrt", "the cube root of": "cbrt",
    "cube root of": "cbrt", "half of": "half", "a half of": "half", "a third of": "third", "a quarter of": "quarter",
    "double": "double", "twice": "double", "triple": "triple", "minus": "neg", "negative": "neg",
    "the sum of": "sum", "the product of": "product", "the difference between": "difference",
}
_POSTFIX = {"squared": "sq", "cubed": "cube", "factorial": "fact", "percent": "pct"}
_ORDINAL_POWERS = {"second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7, "eighth": 8,
                   "ninth": 9, "tenth": 10, "2nd": 2, "3rd": 3, "4th": 4, "5th": 5, "6th": 6, "10th": 10}
_PHRASES = sorted({*_BINARY, *_PREFIX, *_POSTFIX}, key=lambda p: -len(p.split()))
_WORDS_FOR = {"+": "plus", "-": "minus", "*": "times", "/": "divided by", "^": "to the power of",
              "mod": "modulo", "%of": "percent of"}
MAX_EXPONENT = 1000
MAX_FACTORIAL = 100


class NotArithmetic(Exception):
    """The words are not (only) a sum: the request goes on."""


class Unanswerable(Exception):
    """A sum with no answer (division by zero, too big): said plainly."""


@dataclass(frozen=True)
class Node:
    op: str  # "num", a binary symbol, a prefix or a postfix kind
    args: tuple[Node, ...] = ()
    value: float = 0.0

    def words(self) -> str:
        if self.op == "num":
            return say_number(self.value)
        if self.op in _WORDS_FOR:
            left, right = self.args
            return f"{left.words()} {_WORDS_FOR[self.op]} {right.words()}"
        inner = self.args[0].words()
        return {"sqrt": f"the square root of {inner}", "cbrt": f"the cube root of {inner}",
                "half": f"half of {inner}", "third": f"a third of {inner}", "quarter": f"a quarter of {inner}",
                "double": f"twice {inner}", "triple": f"3 times {inner}", "neg": f"minus {inner}",
                "sq": f"{inner} squared", "cube": f"{inner} cubed", "fact": f"{inner} factorial",
                "pct": f"{inner} percent"}[self.op]

    def value_of(self) -> float:
        if self.op == "num":
            return self.value
        values = [arg.value_of() for arg in self.args]
        try:
            return _apply(self.op, values)
        except OverflowError:
            raise Unanswerable("That number is too big for me to say.") from None


def _apply(op: str, v: list[float]) -> float:
    if op == "+":
        return v[0] + v[1]
    if op == "-":
        return v[0] - v[1]
    if op == "*":
        return v[0] * v[1]
    if op in ("/", "mod"):
        if v[1] == 0:
            raise Unanswerable("You can't divide by zero.")
        return v[0] / v[1] if op == "/" else math.fmod(v[0], v[1])
    if op == "^":
        if abs(v[1]) > MAX_EXPONENT:
            raise Unanswerable("That number is too big for me to say.")
        if v[0] < 0 and not v[1].is_integer():
            raise Unanswerable("That has no real answer.")
        if v[0] == 0 and v[1] < 0:
            raise Unanswerable("You can't divide by zero.")
        return math.pow(v[0], v[1])
    if op == "%of":
        return v[0] / 100 * v[1]
    if op == "sqrt":
        if v[0] < 0:
            raise Unanswerable("A negative number has no real square root.")
        return math.sqrt(v[0])
    if op == "fact":
        if v[0] < 0 or not v[0].is_integer() or v[0] > MAX_FACTORIAL:
            raise Unanswerable("I can only work out factorials of whole numbers up to 100.")
        return float(math.factorial(int(v[0])))
    unary: dict[str, Callable[[float], float]] = {
        "cbrt": math.cbrt, "half": lambda x: x / 2, "third": lambda x: x / 3, "quarter": lambda x: x / 4,
        "double": lambda x: 2 * x, "triple": lambda x: 3 * x, "neg": lambda x: -x, "sq": lambda x: x * x,
        "cube": lambda x: x ** 3, "pct": lambda x: x / 100,
    }
    return float(unary[op](v[0]))


Token = tuple[str, str | float]  # ("num", value) | ("bin"/"pre"/"post", symbol) | ("pow", n)


def tokenize(text: str) -> list[Token]:
    words, tokens, i = text.split(), list[Token](), 0
    while i < len(words):
        for phrase in _PHRASES:
            size = len(phrase.split())
            if words[i:i + size] == phrase.split():
                break
        else:
            phrase, size = "", 0
        # "to the third [power]": an ordinal power
        if phrase in ("to the", "raised to") and i + size < len(words) and words[i + size] in _ORDINAL_POWERS:
            n = _ORDINAL_POWERS[words[i + size]]
            tokens.append(("pow", float(n)))
            i += size + 1 + (i + size + 1 < len(words) and words[i + size + 1] == "power")
            continue
        if phrase and not (phrase in ("and", "a half of") and tokens and tokens[-1][0] != "num"):
            kind = "bin" if phrase in _BINARY else "pre" if phrase in _PREFIX else "post"
            if phrase == "minus" and (not tokens or tokens[-1][0] in ("bin", "pre")):
                kind = "pre"  # "minus 5 times 3", "10 times minus 2": a sign, not a subtraction
            symbol = (_BINARY if kind == "bin" else _PREFIX if kind == "pre" else _POSTFIX)[phrase]
            tokens.append((kind, symbol))
            i += size
            continue
        end = i
        while end < len(words) and (words[end] in NUMBER_WORDS or re.fullmatch(r"\d+(?:\.\d+)?", words[end])) \
                and words[end] not in ("minus", "negative"):
            end += 1
        # the longest run that is one number ("two hundred and five"), so "and" may still be "plus" after it
        for stop in range(end, i, -1):
            value = parse_number(" ".join(words[i:stop]))
            if value is not None:
                tokens.append(("num", value))
                i = stop
                break
        else:
            raise NotArithmetic(words[i])
    return tokens


class _Parser:
    def __init__(self, tokens: list[Token]) -> None:
        self.tokens, self.at = tokens, 0

    def peek(self) -> Token | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def take(self) -> Token:
        token = self.peek()
        if token is None:
            raise NotArithmetic("the sum ends early")
        self.at += 1
        return token

    def parse(self) -> Node:
        node = self.sum()
        if self.peek() is not None:
            raise NotArithmetic(f"left over: {self.peek()}")
        return node

    def sum(self) -> Node:
        node = self.product()
        while (token := self.peek()) is not None and token[0] == "bin" and token[1] in ("+", "-"):
            self.take()
            node = Node(str(token[1]), (node, self.product()))
        return node

    def product(self) -> Node:
        node = self.power()
        while (token := self.peek()) is not None and token[0] == "bin" and token[1] in ("*", "/", "/into", "mod",
                                                                                    "%of"):
            self.take()
            right = self.power()
            node = Node("/", (right, node)) if token[1] == "/into" else Node(str(token[1]), (node, right))
        return node

    def power(self) -> Node:
        node = self.postfixed()
        token = self.peek()
        if token is not None and token[0] == "bin" and token[1] == "^":
            self.take()
            return Node("^", (node, self.power()))  # right-associative, as written maths is
        if token is not None and token[0] == "pow":
            self.take()
            return Node("^", (node, Node("num", value=float(token[1]))))
        return node

    def postfixed(self) -> Node:
        node = self.prefixed()
        while (token := self.peek()) is not None and token[0] == "post":
            self.take()
            node = Node(str(token[1]), (node,))
        return node

    def prefixed(self) -> Node:
        token = self.take()
        if token[0] == "pre":
            if token[1] in ("sum", "product", "difference"):  # "the sum of 3 and 4"
                left = self.postfixed()
                joiner = self.take()
                if joiner != ("bin", "+"):
                    raise NotArithmetic("the sum of ... and ...")
                right = self.postfixed()
                return Node({"sum": "+", "product": "*", "difference": "-"}[str(token[1])], (left, right))
            return Node(str(token[1]), (self.postfixed(),))
        if token[0] == "num":
            return Node("num", value=float(token[1]))
        raise NotArithmetic(f"unexpected {token}")


def evaluate(text: str) -> Node:
    """The expression tree for exactly ``text`` (no question words); NotArithmetic if it is not one."""
    tokens = tokenize(text)
    if not any(kind != "num" for kind, _ in tokens):
        raise NotArithmetic("no operation")
    return _Parser(tokens).parse()


class Arithmetic:
    name = "math"

    def answer(self, text: str, now: datetime) -> Answer | None:
        question = _ENDING.sub("", _QUESTION.sub("", text))  # a sum said bare ("7 times 8") is a question too
        try:
            tree = evaluate(question)
            value = tree.value_of()
        except NotArithmetic:
            return None
        except Unanswerable as exc:
            return Answer(str(exc), "math", {"expression": question})
        said = say_number(value)
        about = "" if is_said_exactly(value, said) else "about "
        words = tree.words()
        text_out = f"{words[0].upper()}{words[1:]} is {about}{said}."
        return Answer(text_out, "math", {"expression": words, "value": value})
