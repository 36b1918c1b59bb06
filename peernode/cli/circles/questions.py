"""Questions and answers: `peernode ask`, `answer`, `resolve`, `questions` and `helpers`."""

from __future__ import annotations

from typing import Any

import click

from peernode.circles.model import QUESTION_STATUSES
from peernode.circles.queries import tags_match
from peernode.circles.text import answer_line, helper_line, question_status_line
from peernode.cli.circles.common import names, publish, read
from peernode.cli.options import command, emit_json, pass_home
from peernode.home import Home
from peernode.node import Node


@command(json_lines=True)
@click.argument("circle_slug", metavar="CIRCLE")
@click.argument("title")
@click.option("--text", default="", help="More detail.")
@click.option("--tag", "tags", multiple=True, help="A topic tag (repeatable).")
@pass_home
def ask(
    home: Home,
    as_json: bool,
    circle_slug: str,
    title: str,
    text: str,
    tags: tuple[str, ...],
) -> None:
    """Ask the circle for help."""
    publish(home, as_json, lambda node: node.circles.ask(circle_slug, title, text, tags))


@command(json_lines=True)
@click.argument("question_id", metavar="QUESTION")
@click.argument("text")
@pass_home
def answer(home: Home, as_json: bool, question_id: str, text: str) -> None:
    """Answer a question (by its id, or ≥ 8 leading hex digits of it)."""
    publish(home, as_json, lambda node: node.circles.answer(question_id, text))


@command(json_lines=True)
@click.argument("question_id", metavar="QUESTION")
@click.option(
    "--answer", "answer_id", default=None, metavar="ANSWER", help="The answer that helped."
)
@click.option("--note", default="", help="A short note.")
@pass_home
def resolve(
    home: Home,
    as_json: bool,
    question_id: str,
    answer_id: str | None,
    note: str,
) -> None:
    """Mark your question resolved, and which answer helped."""
    publish(home, as_json, lambda node: node.circles.resolve(question_id, answer_id, note))


@command(json_lines=True)
@click.argument("circle_slug", metavar="CIRCLE")
@click.option("--status", type=click.Choice(QUESTION_STATUSES), default=None, help="Only these.")
@click.option(
    "--tag", default="", metavar="WORDS", help="Only questions with a tag that starts so ('group')."
)
@pass_home
def questions(home: Home, as_json: bool, circle_slug: str, status: str | None, tag: str) -> None:
    """The questions of CIRCLE with their answers."""

    async def work(node: Node) -> list[Any]:
        state = await node.circles.state(circle_slug)
        chosen = [
            q
            for q in state.questions
            if (status is None or q.status == status) and (not tag or tags_match(q.tags, tag))
        ]
        if as_json:
            return [question.to_json() for question in chosen]
        name_of = names(node)
        lines = []
        for question in chosen:
            lines.append(question_status_line(question, name_of))
            lines += [answer_line(question, a, name_of) for a in question.answers]
        return lines

    for line in read(home, work):
        if as_json:
            emit_json(line)
        else:
            click.echo(line)


@command(json_lines=True)
@click.argument("circle_slug", metavar="CIRCLE")
@click.argument("topic")
@pass_home
def helpers(home: Home, as_json: bool, circle_slug: str, topic: str) -> None:
    """Who can help you with TOPIC: by their profile, or because they answered such questions."""

    async def work(node: Node) -> list[Any]:
        me = node.public_key if node.has_identity else None
        return await node.circles.who_can_help(circle_slug, topic, asker=me)

    found = read(home, work)
    for helper in found:
        if as_json:
            emit_json(helper.to_json())
        else:
            click.echo(helper_line(helper))
    if not found and not as_json:
        click.echo(f"nobody known here says they can help with {topic!r} yet", err=True)
