"""The host's log: stderr only, its level from CODECATCH_LOG_LEVEL (default WARNING).

A few lines instead of the logging module, whose import alone costs the host about
5 ms of start-up (bench/host_startup.py). Never pass a code here: only redacted forms.
"""

import os
import sys

LEVELS = {"DEBUG": 10, "INFO": 20, "WARNING": 30, "ERROR": 40}


class HostLog:
    def __init__(self, name, stream=None, level=None):
        self.name = name
        self.stream = stream
        level = level or os.environ.get("CODECATCH_LOG_LEVEL", "WARNING")
        self.threshold = LEVELS.get(level.upper(), 30)

    def _emit(self, level, message, args, with_traceback=False):
        if LEVELS[level] < self.threshold:
            return
        text = message % args if args else message
        if with_traceback:
            import traceback

            text += "\n" + traceback.format_exc().rstrip()
        stream = self.stream or sys.stderr
        try:
            stream.write(f"{self.name}[{os.getpid()}] {level} {text}\n")
            stream.flush()
        except (OSError, ValueError):
            pass  # stderr gone: nothing better to do than keep serving

    def debug(self, message, *args):
        self._emit("DEBUG", message, args)

    def info(self, message, *args):
        self._emit("INFO", message, args)

    def warning(self, message, *args):
        self._emit("WARNING", message, args)

    def error(self, message, *args):
        self._emit("ERROR", message, args)

    def exception(self, message, *args):
        self._emit("ERROR", message, args, with_traceback=True)

    def enabled(self, level):
        return LEVELS[level] >= self.threshold
