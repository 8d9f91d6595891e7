"""`python -m kerax.serve PATH --port P [--name NAME]`: TF Serving's REST API for a
`model.export(PATH, format="jax")` directory (see `kerax.export.serving`)."""

import sys

from kerax.export.serving import ModelServer, main  # noqa: F401

if __name__ == "__main__":
    sys.exit(main())
