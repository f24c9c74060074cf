"""The database behind the register and the service: tables, engines, migrations.

Everything that touches SQL lives here or in :mod:`matcher.store`; the core
(:mod:`matcher.register`) speaks to it through SQLAlchemy sessions.
"""
