"""devices"""

import model  # noqa: F401  (installs the compiled modules' finder before any devices module loads)
