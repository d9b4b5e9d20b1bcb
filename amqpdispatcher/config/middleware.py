"""`middleware`: the middleware classes, in the order their hooks are called."""

from .checks import IMPORT_PATH, scalars

middleware = scalars(IMPORT_PATH)
