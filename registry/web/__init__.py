"""Blueprints of the HTML interface: thin views that parse, call a service and render."""
