"""The HTTP service: FastAPI over the persistent register. Thin: routers translate
requests into calls to :mod:`matcher.register` and results into response models."""
