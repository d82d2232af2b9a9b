"""Decisions and people: set control, the command line and the live view."""
