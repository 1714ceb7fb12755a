"""The "browser" that `webbrowser.open` starts in the batch login test ($BROWSER).

A user's default browser opens the URL in a new tab of the running browser and the
command returns at once. This one hands the URL to the test (a loopback socket named
by CODECATCH_TEST_OPENER), which opens it in a new tab of the Chromium it drives.
"""

import os
import socket
import sys

with socket.create_connection(("127.0.0.1", int(os.environ["CODECATCH_TEST_OPENER"])), timeout=10) as conn:
    conn.sendall(sys.argv[1].encode("utf-8") + b"\n")
    conn.recv(1)  # the test's acknowledgement: the tab is being opened
