"""facestyle core library: models, faces, styles, training and metrics shared by the service and the worker."""

__version__ = "0.1.0"
