"""tutor: an LLM-graded oral-exam tutor."""

__version__ = "0.1.0"
