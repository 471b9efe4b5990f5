"""tutor: an LLM-graded oral-exam tutor."""

__version__ = "0.1.0"

import logging

# Library logging stays quiet unless the application configures it (retries, timings).
logging.getLogger("tutor").addHandler(logging.NullHandler())
