"""A `tutor` process that hears Ctrl-C as a terminal delivers it, wherever the tests run.

A shell that starts a job in the background (`nohup … &`, a detached CI runner) starts it with
SIGINT ignored; Python then never installs its Ctrl-C handler, and neither do the processes it
starts, so a test sending SIGINT would meet a process deaf to it and fail for a reason that is
not the product's. The child restores Python's own handler before running `python -m tutor`."""

import sys

RESTORE_CTRL_C = ("import runpy, signal; signal.signal(signal.SIGINT, signal.default_int_handler); "
                  "runpy.run_module('tutor', run_name='__main__', alter_sys=True)")
TUTOR = [sys.executable, "-c", RESTORE_CTRL_C]  # in place of [sys.executable, "-m", "tutor"]
