"""The README's "Command line" synopsis says what each subcommand's --help says: the same options, each with the
same argument, and what --help requires is not shown in [brackets] as optional."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest

from repsense.core.cli import build_parser

README = Path(__file__).resolve().parents[2] / "README.md"


def subcommands() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    (sub,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(sub.choices)


def argument(action: argparse.Action) -> str | None:
    """An option's argument as --help shows it, with choices written a|b (as the README does)."""
    if action.nargs == 0:
        return None
    if action.metavar is not None:
        shown = str(action.metavar)
    elif action.choices is not None:
        shown = "|".join(str(c) for c in action.choices)
    else:
        shown = action.dest.upper()
    return shown + ("..." if action.nargs == "+" else "")


def synopsis() -> dict[str, list[str]]:
    """The synopsis block: each subcommand's lines (continuation lines are indented), joined."""
    section = README.read_text(encoding="utf-8").split("## Command line", 1)[1]
    block = section.split("```", 2)[1]
    commands: dict[str, list[str]] = {}
    current = None
    for line in block.splitlines():
        if line.startswith("repsense "):
            current = line.split()[1]
            commands.setdefault(current, []).append(line)
        elif line.strip() and current is not None:
            commands[current][-1] += " " + line.strip()
    return commands


def parse(line: str) -> tuple[list[str], dict[str, str | None], set[str]]:
    """Positionals, options with their argument, and the options shown outside any [brackets]."""
    depth = 0
    outside: set[str] = set()
    for token in re.findall(r"\[|\]|[^\s\[\]()]+", line):
        depth += {"[": 1, "]": -1}.get(token, 0)
        if token.startswith("--") and depth == 0:
            outside.add(token)
    tokens = [t for t in re.sub(r"[\[\]()]", " ", line).split() if t not in ("|", "...")][2:]
    positionals: list[str] = []
    options: dict[str, str | None] = {}
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if token.startswith("--"):
            arg = tokens[i + 1] if i + 1 < len(tokens) and not tokens[i + 1].startswith("-") else None
            options[token] = arg
            i += 2 if arg is not None else 1
        else:
            positionals.append(token)
            i += 1
    return positionals, options, outside


def test_every_subcommand_is_in_the_synopsis():
    assert set(synopsis()) == set(subcommands())


@pytest.mark.parametrize("name", sorted(subcommands()))
def test_the_synopsis_matches_help(name):
    parser = subcommands()[name]
    positionals: list[str] = []
    options: dict[str, str | None] = {}
    outside: set[str] = set()
    for line in synopsis()[name]:
        p, o, out = parse(line)
        positionals = positionals or p
        options.update(o)
        outside |= out
    actions = [a for a in parser._actions if not isinstance(a, argparse._HelpAction)]
    want = {max(a.option_strings, key=len): argument(a) for a in actions if a.option_strings}
    assert options == want
    assert positionals == [argument(a) for a in actions if not a.option_strings]
    required = {max(a.option_strings, key=len) for a in actions if a.option_strings and a.required}
    for group in parser._mutually_exclusive_groups:
        if group.required:
            required |= {max(a.option_strings, key=len) for a in group._group_actions}
    assert required <= outside, f"required but shown as optional: {sorted(required - outside)}"
