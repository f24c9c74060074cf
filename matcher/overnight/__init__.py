"""Overnight short breaks: bed-nights over a planning horizon (see problem.py)."""
