"""Batch grading of written submissions: inputs → resumable grading → reports."""
