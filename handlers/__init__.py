"""Bolt listeners and Block Kit rendering, the Slack-facing layer.

Each listener module has `register(app)`; wiring.app calls them in turn. Listeners read the
services from Bolt's context (handlers.context.services_of) and stay thin.
"""
