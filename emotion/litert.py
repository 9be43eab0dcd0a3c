"""LiteRT interpreters, made in one place: the emotion classifier and BlazeFace both start theirs here.

LiteRT's C++ code writes "INFO: Created TensorFlow Lite XNNPACK delegate for CPU." straight to the
process's standard error (file descriptor 2) when the first interpreter allocates its tensors: no
setting turns it off (TF_CPP_MIN_LOG_LEVEL does not reach it), and the command line printed it on
every run. So while an interpreter starts, file descriptor 2 goes to a temporary file, and what it
caught is written back afterwards, all of it but that notice: a real error from the C++ code still
reaches the user, after the call rather than during it. The notice comes once a process, so once it
has been held back, later interpreters start without the detour.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

XNNPACK_NOTICE = re.compile(rb"^INFO: Created TensorFlow Lite XNNPACK delegate for CPU\.\r?\n", re.MULTILINE)
_redirecting = threading.Lock()  # file descriptor 2 is the whole process's: one detour at a time
_notice_held_back = False


@contextlib.contextmanager
def litert_notices_held_back() -> Iterator[None]:
    """Standard error (the file descriptor, so C++ writes too) caught for the block, then written back without LiteRT's notice."""
    global _notice_held_back
    with _redirecting, tempfile.TemporaryFile() as caught:
        sys.stderr.flush()
        real = os.dup(2)
        os.dup2(caught.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(real, 2)
            os.close(real)
            caught.seek(0)
            text, found = XNNPACK_NOTICE.subn(b"", caught.read())
            _notice_held_back = _notice_held_back or found > 0
            if text:
                os.write(2, text)


def new_interpreter(model_path: str | Path, num_threads: int = 1) -> Any:
    """A LiteRT interpreter over the model, its tensors allocated; LiteRT's errors raise as they always did
    (ValueError, RuntimeError), and its XNNPACK notice is not printed."""
    from ai_edge_litert.interpreter import Interpreter

    quiet = contextlib.nullcontext() if _notice_held_back else litert_notices_held_back()
    with quiet:
        interpreter = Interpreter(model_path=str(model_path), num_threads=num_threads)
        interpreter.allocate_tensors()
    return interpreter
