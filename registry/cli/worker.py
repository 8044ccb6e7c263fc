"""``flask worker``: run the background jobs of this registry in a process of its own."""

from __future__ import annotations

import logging

import click
from flask import current_app
from flask.cli import with_appcontext

from registry.jobs import queue_of


@click.command("worker")
@click.option("--workers", "-w", type=click.IntRange(1, 32), default=1, help="Jobs run at the same time.")
@with_appcontext
def worker_command(workers: int) -> None:
    """Run queued jobs (scans) until stopped with Ctrl+C; one per machine is usually enough."""
    queue = queue_of(current_app._get_current_object())  # type: ignore[attr-defined]
    if queue.huey.immediate:
        raise click.ClickException(
            "The queue runs jobs immediately here (tests); there is nothing to consume."
        )
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    click.echo(f"Consuming jobs from {current_app.config['QUEUE_URL']} with {workers} worker thread(s).")
    queue.make_consumer(workers=workers).run()
