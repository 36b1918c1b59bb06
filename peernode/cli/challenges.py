"""Challenges and badges: `peernode challenge`, `submit`, `review`, `badges` and `badge`."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, Final

import click

from peernode.challenges.model import (
    DEFAULT_REVIEWS,
    MAX_CRITERIA,
    MAX_REVIEWS,
    REVIEWER_RULES,
    Criterion,
    badge_json,
)
from peernode.challenges.portfolio import (
    FORMATS,
    MAX_FILE_BYTES,
    file_names,
    open_badges,
    page,
    verify_file,
    write_new,
)
from peernode.challenges.text import (
    badge_line,
    challenge_line,
    challenge_lines,
    done_line,
    refused_text,
    verified_lines,
)
from peernode.circles.model import ResourceLink
from peernode.cli.circles.common import names, read
from peernode.cli.offline import run_with_node
from peernode.cli.options import command, emit_json, group, pass_home
from peernode.errors import BadInput
from peernode.files.text import attachments_text
from peernode.home import Home
from peernode.node import Node
from protocol.badge_proof import ProofRefused
from protocol.event import Event

EXIT_NOT_VERIFIED: Final = 3
"""`badge verify`'s exit code for a file that does not prove its badge (1 is for errors)."""


def _publish(home: Home, as_json: bool, work: Callable[[Node], Awaitable[Event]]) -> None:
    """Sign one event; say what it did, naming the challenge (or print it as JSON)."""

    async def run(node: Node) -> tuple[Event, str, dict[str, Any]]:
        node.ensure_identity()
        event = await work(node)
        ref = event.refs.get("challenge") or event.id
        if "submission" in event.refs:
            ref = (await node.find_event(event.refs["submission"])).refs["challenge"]
        title = (await node.challenges.get(ref)).current.title
        return event, title, node.entry(event).to_json()

    event, title, result = run_with_node(home, run)
    if as_json:
        emit_json(result)
    else:
        click.echo(done_line(event, title))


def _criterion(text: str) -> Criterion:
    """'Name: what meeting it looks like' (no colon: the name says both)."""
    name, _, meets = text.partition(":")
    return Criterion(name.strip(), meets.strip() or name.strip())


def _whole(text: str, what: str) -> bytes:
    """A whole 32-byte id or key given in hex; BadInput says what was expected."""
    try:
        value = bytes.fromhex(text)
    except ValueError:
        value = b""
    if len(value) != 32:
        raise BadInput(f"{text[:70]!r} is not {what} (all 64 hex digits of it)")
    return value


def _file_id(text: str) -> bytes:
    return _whole(text, "a file id")


async def _files(node: Node, fields: dict[str, Any]) -> dict[str, Any]:
    """`fields` with the files given (paths or ids) read as `node.challenges.file_ref` does."""
    if "files" in fields:
        fields = {**fields, "files": [await node.challenges.file_ref(f) for f in fields["files"]]}
    return fields


@group()
def challenge() -> None:
    """Learning challenges: write, list, show and start them."""


def _challenge_options(*, new: bool) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """The fields of a challenge as options: required to write one (`new`), else changes."""

    def add(command: Callable[..., Any]) -> Callable[..., Any]:
        options = [
            click.option("--question", required=new, help="The question that frames it."),
            click.option("--task", "tasks", multiple=True, required=new, help="A task (repeat)."),
            click.option(
                "--criterion",
                "criteria",
                multiple=True,
                required=new,
                metavar="'NAME: WHAT MEETS IT'",
                help=f"A criterion and what meeting it looks like (2 to {MAX_CRITERIA}).",
            ),
            click.option("--badge", required=new, help="The name of the badge it leads to."),
            click.option("--badge-description", help="What the badge says of its holder."),
            click.option("--badge-image", metavar="ID", help="The file id of its image."),
            click.option(
                "--resource", "resources", multiple=True, metavar="URL", help="An open resource."
            ),
            click.option(
                "--reviews",
                "k",
                type=click.IntRange(1, MAX_REVIEWS),
                default=DEFAULT_REVIEWS if new else None,
                show_default=new,
                help="How many peer approvals the badge needs.",
            ),
            click.option(
                "--reviewers",
                type=click.Choice(REVIEWER_RULES),
                default="members" if new else None,
                show_default=new,
                help="Who may approve: circle members, or holders of the badge (mentors).",
            ),
            click.option("--description", help="More about it."),
            click.option(
                "--file",
                "files",
                multiple=True,
                metavar="PATH|ID",
                help="A file to share with the circle, or the id of one shared (repeat).",
            ),
        ]
        for option in reversed(options):
            command = option(command)
        return command

    return add


def _fields(given: dict[str, Any]) -> dict[str, Any]:
    """The options given, as ChallengeService fields (absent and empty ones left out)."""
    fields = {name: value for name, value in given.items() if value not in (None, ())}
    if "criteria" in fields:
        fields["criteria"] = [_criterion(text) for text in fields["criteria"]]
    if "tasks" in fields:
        fields["tasks"] = list(fields["tasks"])
    if "badge_image" in fields:
        fields["badge_image"] = _file_id(fields["badge_image"])
    if "resources" in fields:
        fields["resources"] = [ResourceLink(url) for url in fields["resources"]]
    return fields


@challenge.command("create", json_lines=True)
@click.argument("circle_slug", metavar="CIRCLE")
@click.argument("title")
@_challenge_options(new=True)
@pass_home
def challenge_create(
    home: Home, /, as_json: bool, circle_slug: str, title: str, **given: Any
) -> None:
    """Write a challenge in CIRCLE, leading to a badge."""
    fields = _fields(given)

    async def work(node: Node) -> Event:
        return await node.challenges.create(
            circle_slug, title=title, **(await _files(node, fields))
        )

    _publish(home, as_json, work)


@challenge.command("update", json_lines=True)
@click.argument("challenge_id", metavar="ID")
@click.option("--title", default=None, help="A new title.")
@_challenge_options(new=False)
@pass_home
def challenge_update(home: Home, /, as_json: bool, challenge_id: str, **given: Any) -> None:
    """Write a new version of your challenge: what you give replaces what it said."""
    fields = _fields(given)
    if not fields:
        raise click.UsageError("say what to change (--title, --question, --task, ...)")

    async def work(node: Node) -> Event:
        return await node.challenges.update(challenge_id, **(await _files(node, fields)))

    _publish(home, as_json, work)


@challenge.command("fork", json_lines=True)
@click.argument("challenge_id", metavar="ID")
@click.option(
    "--circle", "circle_slug", default=None, help="Where to write it (default: the same)."
)
@click.option("--title", default=None, help="A new title.")
@_challenge_options(new=False)
@pass_home
def challenge_fork(
    home: Home, /, as_json: bool, challenge_id: str, circle_slug: str | None, **given: Any
) -> None:
    """Make a challenge of your own from another: its fields, with what you give changed."""
    fields = _fields(given)

    async def work(node: Node) -> Event:
        return await node.challenges.fork(challenge_id, circle_slug, **(await _files(node, fields)))

    _publish(home, as_json, work)


@challenge.command("list", json_lines=True)
@click.argument("circle_slug", metavar="CIRCLE")
@pass_home
def challenge_list(home: Home, as_json: bool, circle_slug: str) -> None:
    """The challenges of CIRCLE."""

    async def work(node: Node) -> list[Any]:
        found = await node.challenges.in_circle(circle_slug)
        if as_json:
            return [c.to_json() for c in found]
        return [challenge_line(c, names(node)) for c in found]

    lines = read(home, work)
    for line in lines:
        emit_json(line) if as_json else click.echo(line)
    if not lines and not as_json:
        click.echo(
            f"no challenges in {circle_slug} yet: write one with 'challenge create'", err=True
        )


@challenge.command("show", json_lines=True)
@click.argument("challenge_id", metavar="ID")
@pass_home
def challenge_show(home: Home, as_json: bool, challenge_id: str) -> None:
    """A challenge: its question, tasks, goal, badge, who is on it, work and reviews."""

    async def work(node: Node) -> Any:
        found = await node.challenges.get(challenge_id)
        files = await node.files.known(found.file_ids())
        if as_json:
            return {**found.to_json(), "shared_files": [f.to_json() for f in files.values()]}
        return challenge_lines(found, names(node), attachments_text(files))

    shown = read(home, work)
    if as_json:
        emit_json(shown)
    else:
        click.echo("\n".join(shown))


@challenge.command("start", json_lines=True)
@click.argument("challenge_id", metavar="ID")
@click.option("--message", default="", help="A word to the circle.")
@pass_home
def challenge_start(home: Home, as_json: bool, challenge_id: str, message: str) -> None:
    """Say you are on a challenge."""
    _publish(home, as_json, lambda node: node.challenges.start(challenge_id, message))


@challenge.command("buddy", json_lines=True)
@click.argument("challenge_id", metavar="ID")
@click.argument("learner", metavar="NAME")
@pass_home
def challenge_buddy(home: Home, as_json: bool, challenge_id: str, learner: str) -> None:
    """Ask a learner on the same challenge (by name, fingerprint or key) to be your buddy."""
    who: str | bytes = _whole(learner, "a key") if len(learner) == 64 else learner
    _publish(home, as_json, lambda node: node.challenges.buddy(challenge_id, who))


@command(json_lines=True)
@click.argument("challenge_id", metavar="CHALLENGE")
@click.option("--text", default="", help="Your work, in Markdown.")
@click.option(
    "--file",
    "files",
    multiple=True,
    metavar="PATH|ID",
    help="A file or folder to share with the circle, or the id of one shared (repeatable).",
)
@pass_home
def submit(home: Home, as_json: bool, challenge_id: str, text: str, files: tuple[str, ...]) -> None:
    """Submit your work for a challenge (again: a revision of your last submission); the
    files given by path are shared with the challenge's circle."""

    async def work(node: Node) -> Event:
        given = [await node.challenges.file_ref(file) for file in files]
        return await node.challenges.submit(challenge_id, text, given)

    _publish(home, as_json, work)


@command(json_lines=True)
@click.argument("submission_id", metavar="SUBMISSION")
@click.option("--approve/--revise", "approve", default=None, help="Your verdict.")
@click.option(
    "--meets",
    multiple=True,
    type=click.IntRange(1, MAX_CRITERIA),
    metavar="N",
    help="A criterion met, by number (repeatable; approving: all unless named).",
)
@click.option("--works", default="", help="What works.")
@click.option("--question", default="", help="One question.")
@click.option("--suggestion", default="", help="One suggestion.")
@click.option("--feedback", default="", help="Anything else.")
@pass_home
def review(
    home: Home,
    /,
    as_json: bool,
    submission_id: str,
    approve: bool | None,
    meets: tuple[int, ...],
    feedback: str,
    **prompts: str,
) -> None:
    """Review a submission against its challenge's goal: approve, or ask to revise."""
    if approve is None:
        raise click.UsageError("say --approve or --revise")
    met = [n - 1 for n in meets] if meets else None
    _publish(
        home,
        as_json,
        lambda node: node.challenges.review(
            submission_id, approve=approve, meets=met, note=feedback, **prompts
        ),
    )


@command(json_lines=True)
@click.option("--mine", is_flag=True, help="Only yours.")
@pass_home
def badges(home: Home, as_json: bool, mine: bool) -> None:
    """The badges the events here prove: who earned what, when, approved by whom."""

    async def work(node: Node) -> list[Any]:
        holder = node.public_key if mine else None
        found = await node.challenges.badges(holder)
        return [badge_json(b) if as_json else badge_line(b, names(node)) for b in found]

    lines = read(home, work)
    for line in lines:
        emit_json(line) if as_json else click.echo(line)
    if not lines and not as_json:
        click.echo("no badges here yet", err=True)


@group()
def badge() -> None:
    """Carry a badge: export it to one file; verify such a file, offline."""


@badge.command("export", json_lines=True)
@click.argument("badge_id", metavar="ID")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option("--format", "form", type=click.Choice(FORMATS), default="page", show_default=True)
@click.option("--force", is_flag=True, help="Replace FILE if it exists.")
@pass_home
def badge_export(
    home: Home, as_json: bool, badge_id: str, output: Path, form: str, force: bool
) -> None:
    """Write a badge (its submission's id, or its challenge's) to one self-contained file."""

    async def work(node: Node) -> tuple[str, dict[str, Any]]:
        proof = await node.challenges.proof(badge_id)
        events = [*proof.events, *proof.profiles]
        if form == "openbadges":
            text = json.dumps(open_badges(proof.badge.submission, events), indent=2) + "\n"
        else:
            text = page(proof.badge.submission, events)
        write_new(output, text, force=force)
        return badge_line(proof.badge, names(node)), badge_json(proof.badge)

    line, result = read(home, work)
    if as_json:
        emit_json({**result, "file": str(output)})
    else:
        click.echo(f"Wrote {output}: {line.removeprefix('✓ ')}.")


@badge.command("verify", json_lines=True)
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@pass_home
def badge_verify(home: Home, as_json: bool, file: Path) -> None:
    """Check a badge file with no network and no store: every signature and the rule."""
    del home  # verifying needs nothing of a node: the file holds all it rests on
    with file.open("rb") as given:
        data = given.read(MAX_FILE_BYTES + 1)  # one byte past the limit tells it is too large
    try:
        verified, name_of = verify_file(data)
    except ProofRefused as exc:
        reason = refused_text(exc, file_names(data))
        if as_json:
            emit_json({"verified": False, "code": exc.code, "reason": reason})
        else:
            click.echo(reason, err=True)
        click.get_current_context().exit(EXIT_NOT_VERIFIED)
    if as_json:
        emit_json({"verified": True, **badge_json(verified.badge)})
    else:
        click.echo("\n".join(verified_lines(verified, name_of)))


COMMANDS: Final[tuple[click.Command, ...]] = (challenge, submit, review, badges, badge)
