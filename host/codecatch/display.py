"""What a batch login shows while it runs, and its table at the end: a thin layer on
rich (https://rich.readthedocs.io/: rich.live, rich.progress, rich.table).

On a terminal: a progress bar and one line per tenant in flight, redrawn in place,
with a line printed above them as each tenant finishes. Anywhere else (a pipe, a
file, CI): plain lines, one per change, that a log keeps readable.

`event(kind, tenant, detail)` is batch.run's on_event. Nothing shown holds a token
or a code: a Result has none.
"""

import threading
import time

from . import batch

PHASES = {
    "start": "checking its token cache",
    "browser": "waiting for the browser",
    "interactive": "waiting for you to confirm in the browser tab of {tenant} (interactive sign-in)",
    "redeeming": "redeeming the code",
}


def outcome_text(result):
    """One line for a finished tenant (the same words on a terminal and in plain lines)."""
    if result.outcome == batch.CACHED:
        text = "token from its cache (no sign-in)"
    elif result.outcome == batch.SIGNED_IN:
        how = "silently (prompt=none)" if result.sign_in == "none" else "interactively"
        text = f"signed in {how}"
    elif result.outcome == batch.INTERRUPTED:
        return result.error or "interrupted"
    else:
        text = "failed" + (f" {result.aadsts}" if result.aadsts else "")
        detail = why(result, with_number=False)
        return f"{text}: {detail}" if detail else text
    if result.account:
        text += f" as {result.account}"
    return text


def why(result, with_number=True):
    """Why a tenant failed, in words: with an AADSTS number, its hint (which explains it);
    without one (the network, no browser host), what happened and then what to do."""
    if result.aadsts:
        detail = result.hint or result.error or ""
        return f"{result.aadsts}: {detail}" if with_number else detail
    return " ".join(part for part in (result.error, result.hint) if part)


class Plain:
    """Plain lines: `tenant: what it does now`."""

    def __init__(self, write):
        self.write = write  # write(line)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def event(self, kind, tenant, detail=None):
        if kind == "phase":
            self.write(f"{tenant}: {PHASES.get(detail, detail).format(tenant=tenant)}")
        elif kind == "done":
            self.write(f"{tenant}: {outcome_text(detail)} ({detail.seconds:.1f} s)")


class Live:
    """The live view on a terminal (rich.live.Live over a progress bar and a table)."""

    def __init__(self, console, total):
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self.console = console
        self.progress = Progress(TextColumn("[bold]Tenants"), BarColumn(), MofNCompleteColumn(),
                                 TextColumn("{task.fields[summary]}"), TimeElapsedColumn(), console=console)
        self.task = self.progress.add_task("tenants", total=total, summary="")
        self.in_flight = {}  # tenant -> (phase, since)
        self.counts = {"ok": 0, "failed": 0}
        self._lock = threading.Lock()
        self._live = None

    def __rich__(self):
        from rich.console import Group
        from rich.table import Table
        from rich.text import Text

        table = Table.grid(padding=(0, 2))
        table.add_column(no_wrap=True)
        table.add_column()
        table.add_column(justify="right", no_wrap=True)
        now = time.monotonic()
        with self._lock:
            flying = list(self.in_flight.items())
        for tenant, (phase, since) in flying:
            style = "yellow" if phase == "interactive" else "cyan"
            table.add_row(Text.assemble(("\u25cf ", style), tenant),
                          Text(PHASES.get(phase, phase).format(tenant=tenant)), f"{now - since:.0f} s")
        return Group(self.progress, table)

    def __enter__(self):
        from rich.live import Live as RichLive

        self._live = RichLive(self, console=self.console, refresh_per_second=8, transient=True)
        self._live.__enter__()
        return self

    def __exit__(self, *exc):
        self._live.__exit__(*exc)
        return False

    def event(self, kind, tenant, detail=None):
        if kind == "start":
            with self._lock:
                self.in_flight[tenant] = ("start", time.monotonic())
        elif kind == "phase":
            with self._lock:
                self.in_flight[tenant] = (detail, time.monotonic())
        elif kind == "done":
            with self._lock:
                self.in_flight.pop(tenant, None)
                self.counts["ok" if detail.ok else "failed"] += 1
                summary = f"[green]{self.counts['ok']} ok[/]" + (
                    f"  [red]{self.counts['failed']} failed[/]" if self.counts["failed"] else "")
            from rich.text import Text

            mark = ("\u2713 ", "green") if detail.ok else ("\u2717 ", "red")
            self.console.print(Text.assemble(mark, f"{tenant}: {outcome_text(detail)} ",
                                             (f"({detail.seconds:.1f} s)", "dim")), highlight=False)
            self.progress.update(self.task, advance=1, summary=summary)


def for_stream(stream, total):
    """The live view when `stream` is a terminal, plain lines otherwise."""
    from rich.console import Console

    console = Console(file=stream)
    if console.is_terminal:
        return Live(console, total)
    return Plain(lambda line: console.print(line, markup=False, highlight=False, soft_wrap=True))


def abandoned_text(asked, told):
    """What Ctrl-C did to the sign-in tabs still open: `asked` flows in flight, `told` of
    them acknowledged by a browser host (which closes their tabs); None for none."""
    if not asked:
        return None
    if told == asked:
        tabs = "sign-in tab" if asked == 1 else f"{asked} sign-in tabs"
        return f"Interrupted: asked the browser to close the {tabs} still open."
    return (f"Interrupted: {asked - told} of {asked} sign-in tabs could not be closed (no browser host "
            "answered in time): close them by hand.")


def print_abandoned(stream, asked, told):
    from rich.console import Console

    text = abandoned_text(asked, told)
    if text:
        Console(file=stream).print(text, style="yellow" if told == asked else "red", highlight=False,
                                   soft_wrap=True)


def print_table(stream, results):
    """The report as a table (tenant, outcome, how, account, expiry, AADSTS, seconds),
    then one line per tenant that did not succeed, with its hint."""
    from rich import box
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    console = Console(file=stream)
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, padding=(0, 1))
    for name, kw in (("tenant", {}), ("outcome", {}), ("account", {}), ("expires UTC", {}),
                     ("AADSTS", {}), ("s", {"justify": "right"})):
        table.add_column(name, no_wrap=True, **kw)
    for r in results:
        style = "green" if r.ok else ("red" if r.outcome == batch.FAILED else "yellow")
        how = "cache" if r.outcome == batch.CACHED else {"none": "prompt=none"}.get(r.sign_in, r.sign_in)
        outcome = ("ok" if r.ok else r.outcome) + (f" ({how})" if how else "")
        table.add_row(Text(r.tenant), Text(outcome, style), Text(r.account or ""),
                      (r.expires or "")[5:16].replace("T", " "), r.aadsts or "", f"{r.seconds:.1f}")
    # Whole rows even on a narrow terminal or a pipe (80 columns): a cut tenant or AADSTS
    # number is no report; the terminal wraps a long line instead.
    natural = table.__rich_measure__(console, console.options.update(max_width=400)).maximum
    (Console(file=stream, width=natural) if natural > console.width else console).print(table)
    for r in results:
        if not r.ok:
            text = Text.assemble((f"{r.tenant}: ", "bold"), why(r) or r.outcome)
            console.print(text, highlight=False)
    failed = sum(r.outcome == batch.FAILED for r in results)
    interrupted = sum(r.outcome == batch.INTERRUPTED for r in results)
    console.print(f"{sum(r.ok for r in results)} of {len(results)} tenants have a token; {failed} failed"
                  + (f"; {interrupted} interrupted" if interrupted else "") + ".", highlight=False)
