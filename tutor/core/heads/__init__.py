"""Trained judge heads shipped with the package (`tutor calibrate` writes them)."""
