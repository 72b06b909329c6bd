"""model"""

from model import native

# Before any other module of the project: the tap path's compiled modules, when built and
# current (`model.native`), load in place of their sources.
native.install()
