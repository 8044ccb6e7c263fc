"""``htt-registry …`` (or ``python -m registry …``): the ``flask --app app …`` commands, installed.

An installed wheel has no ``app.py`` beside it to name with ``--app``; this command carries the
application factory itself, so ``htt-registry run``, ``htt-registry db upgrade`` or
``htt-registry backup PATH`` work from any directory.
"""

from __future__ import annotations

from flask.cli import FlaskGroup


def main() -> None:
    from registry.factory import create_app

    FlaskGroup(create_app=create_app, help="The registry of information systems.").main(
        prog_name="htt-registry"
    )


if __name__ == "__main__":
    main()
