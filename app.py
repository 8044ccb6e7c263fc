"""Entry point: ``flask --app app run`` finds :func:`create_app` here."""

from registry.factory import create_app

__all__ = ["create_app"]
