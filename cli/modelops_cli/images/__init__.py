"""Container images built without Docker or a registry (see docs/images.md).

`ensure(names)` builds the named images (all when None) where their inputs
changed and returns a `BuiltImage` per name: the docker-archive a node
imports, its ref `modelops.local/<name>:<hash12>`, digest, size and time.
"""

from modelops_cli.images.builder import BuiltImage, ensure
from modelops_cli.images.catalog import IMAGES
from modelops_cli.images.errors import ImagesError

NAMES = tuple(IMAGES)

__all__ = ["NAMES", "BuiltImage", "ImagesError", "ensure"]
