"""Judge backends: the model behind every grade.

A backend implements one method, `judge(request) -> list[Signals]`: for each claim
in the request, the model's raw signals (P(yes), and a hidden state where the backend
can read one), and states its `provenance` (which model and layer the signals come from), so
the code that builds it can choose the head that turns them into probabilities
(`tutor.core.decide.head_for`); a backend never chooses or holds a head.
The registry (`registry.py`) names the backends, imports them lazily, builds each from the
settings and wraps it once with caching, retries and logging.
"""
