"""Reading a transformer block's output from llama.cpp as the graph runs.

llama.cpp calls a scheduler callback (`cb_eval`) for each graph node: asked first whether
we want a node's data (`ask=True`), then handed it once computed. We want `l_out-<i>`, the
output of block i, for every token of the batch (the judge reads each probe's last token): a
mid-depth state separates stated from unstated claims better than the final layer
(shared/research/judge.md §2.1). llama-cpp-python takes no callback argument, so
`context_params` sets it on the default context parameters while `Llama` builds its context.
"""

import ctypes
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np


def _ggml() -> ctypes.CDLL:
    import llama_cpp

    lib = ctypes.CDLL(str(Path(llama_cpp.__file__).parent / "lib" / "libggml-base.so"))
    lib.ggml_get_name.argtypes = [ctypes.c_void_p]
    lib.ggml_get_name.restype = ctypes.c_char_p
    lib.ggml_nbytes.argtypes = [ctypes.c_void_p]
    lib.ggml_nbytes.restype = ctypes.c_size_t
    lib.ggml_backend_tensor_get.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t,
                                            ctypes.c_size_t]
    lib.ggml_backend_tensor_get.restype = None
    return lib


class BlockCapture:
    """Keeps the rows of the named block output from the most recent decode (one row per
    token of the batch, in the batch's order)."""

    def __init__(self, block: int):
        import llama_cpp

        self.name = f"l_out-{block}".encode()
        self.width = 0  # the model's n_embd, set once the model is loaded
        self.rows: np.ndarray | None = None
        self._lib = _ggml()
        # the C side holds only a raw pointer: keep the ctypes callback alive with this object
        self.callback = llama_cpp.ggml_backend_sched_eval_callback(self._on_node)

    def _on_node(self, tensor: int, ask: bool, _user: int) -> bool:
        if self._lib.ggml_get_name(tensor) != self.name:
            return not ask
        if ask:
            return True
        size = self._lib.ggml_nbytes(tensor)
        rows = np.empty((size // (4 * self.width), self.width), dtype=np.float32)
        self._lib.ggml_backend_tensor_get(tensor, rows.ctypes.data, 0, size)
        self.rows = rows
        return True

    def take(self) -> np.ndarray | None:
        """The rows captured by the last decode; None if the model has no such block."""
        rows, self.rows = self.rows, None
        return rows


@contextmanager
def context_params(**fields: Any) -> Iterator[None]:
    """While `Llama(...)` runs inside this block, its context is created with these fields
    set (llama-cpp-python has no argument for the eval callback or the KV-cache streams)."""
    # `Llama` (in llama_cpp.llama) takes its default context parameters from this module
    import llama_cpp.llama_cpp as low_level

    original = low_level.llama_context_default_params

    def with_fields() -> Any:  # a llama_context_params; llama_cpp's wrapper of the C call is untyped
        params = original()
        for name, value in fields.items():
            setattr(params, name, value)
        return params

    low_level.llama_context_default_params = with_fields
    try:
        yield
    finally:
        low_level.llama_context_default_params = original
