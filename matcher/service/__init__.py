"""What the service's two faces share: :mod:`matcher.api` (for programs) and
:mod:`matcher.pages` (for people) both stand on this package and never import each other.

- :mod:`~matcher.service.config`: the service's settings, read from the environment;
- :mod:`~matcher.service.deps`: ``Services`` (the register, the worker, the ranking process)
  and who is signed in, as FastAPI dependencies;
- :mod:`~matcher.service.ranker`: matches computed in a process beside the server;
- :mod:`~matcher.service.middleware`, :mod:`~matcher.service.protocol`: the access log,
  the body limit and the bounded HTTP protocol the server runs with.

The application that composes both faces is :mod:`matcher.app`; ``matcher serve`` runs it
(:mod:`matcher.serve`).
"""
