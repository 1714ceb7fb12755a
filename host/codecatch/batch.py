"""`codecatch login` over many tenants: the tenant list, the scheduler, the report.

    tenants = read_tenants(["contoso.com"], "tenants.txt")
    results = run(tenants, job, parallel=3, on_event=display.event)
    write_report(results, "report.json")

`run` is the scheduler and knows nothing of MSAL or browsers: `job(tenant, phase)`
does one tenant (in the CLI: login.login with that tenant's cache file) and returns a
Result; `phase(name)` tells the display where it is. At most `parallel` jobs run at
once, each in a worker thread of its own (a sign-in waits on the browser and on the
network, not on the CPU). Results come back in the order of the tenant list, and an
interrupted run (Ctrl-C) returns what finished, the rest marked `interrupted`.

Nothing here prints; display.py shows, the CLI decides. No token, code or refresh
token ever reaches a Result: the report holds who, what and when, never a secret.
"""

import csv
import dataclasses
import io
import json
import os
import re
import threading
import time

from .files import NotPrivate, private_dir, write_atomic

DEFAULT_PARALLEL = 3
MAX_PARALLEL = 16  # each sign-in holds a stream subscription; a host takes 32 subscribers

# outcome: what happened to a tenant
CACHED = "cached"  # the cache still yielded a token silently: no browser
SIGNED_IN = "signed_in"  # a sign-in in the browser (prompt=none or interactive)
FAILED = "failed"
INTERRUPTED = "interrupted"  # Ctrl-C came first (in flight, or not started)
SUCCEEDED = frozenset({CACHED, SIGNED_IN})

REPORT_FIELDS = ("tenant", "account", "scopes", "expires", "outcome", "sign_in", "aadsts", "error",
                 "hint", "seconds")

# A tenant as a file name: a domain or a tenant id (login.authority_url refuses the rest).
_TENANT = re.compile(r"[A-Za-z0-9][A-Za-z0-9.\-_]{0,252}\Z")


class BatchError(Exception):
    """Unusable input for a batch (a tenant file, a cache folder, a report path)."""


@dataclasses.dataclass
class Result:
    tenant: str
    outcome: str
    account: str | None = None
    scopes: tuple = ()
    expires: str | None = None  # ISO 8601, UTC
    sign_in: str | None = None  # "none" (prompt=none sufficed) or "interactive"
    aadsts: str | None = None
    error: str | None = None  # what failed, in words
    hint: str | None = None
    seconds: float = 0.0

    @property
    def ok(self):
        return self.outcome in SUCCEEDED

    def row(self):
        return {"tenant": self.tenant, "account": self.account, "scopes": list(self.scopes),
                "expires": self.expires, "outcome": self.outcome, "sign_in": self.sign_in,
                "aadsts": self.aadsts, "error": self.error, "hint": self.hint,
                "seconds": round(self.seconds, 2)}


# --- the tenant list ---------------------------------------------------------------------

def parse_tenant_lines(text, source="the tenant file"):
    """Tenants from a file's text: one per line; `#` starts a comment; blank lines skipped."""
    tenants = []
    for number, line in enumerate(text.splitlines(), 1):
        name = line.split("#", 1)[0].strip()
        if not name:
            continue
        if len(name.split()) > 1:
            raise BatchError(f"{source}, line {number}: one tenant per line, not '{name}'.")
        tenants.append(check_tenant(name, f"{source}, line {number}"))
    return tenants


def check_tenant(name, where="--tenant"):
    if not _TENANT.match(name) or name in (".", "..") or ".." in name:
        raise BatchError(f"{where}: '{name}' is not a tenant (a domain such as contoso.onmicrosoft.com, "
                         "or a tenant id).")
    return name


def read_tenants(names=(), path=None):
    """The tenants of --tenant (repeated) and --tenant-file, in order, each once
    (compared without case: a domain or an id names one tenant however it is spelled)."""
    tenants = [check_tenant(n.strip()) for n in names]
    if path is not None:
        try:
            with open(path, encoding="utf-8-sig") as f:
                text = f.read()
        except OSError as exc:
            raise BatchError(f"--tenant-file: cannot read {path}: {exc.strerror or exc}") from None
        except UnicodeDecodeError:
            raise BatchError(f"--tenant-file: {path} is not UTF-8 text.") from None
        tenants += parse_tenant_lines(text, path)
    seen, unique = set(), []
    for tenant in tenants:
        if tenant.lower() not in seen:
            seen.add(tenant.lower())
            unique.append(tenant)
    if not unique:
        raise BatchError("No tenants: give --tenant T (repeatable) or --tenant-file FILE.")
    return unique


def cache_path(folder, tenant):
    """The tenant's own MSAL cache file in `folder`."""
    return os.path.join(folder, f"{tenant.lower()}.json")


def prepare_cache_dir(folder):
    """Create the cache folder (0700) if needed; an existing one must be a folder of this
    user's, not a link, and is made 0700: another user who could write there could plant
    a cache that the next run takes for a tenant's own (`cached`)."""
    if os.path.exists(folder) and not os.path.isdir(folder):
        raise BatchError(f"--cache-dir: {folder} is a file, not a folder.")
    try:
        return private_dir(folder)
    except NotPrivate as exc:
        raise BatchError(f"--cache-dir: {exc}; use a folder of your own.") from None
    except OSError as exc:
        raise BatchError(f"--cache-dir: cannot create {folder}: {exc.strerror or exc}") from None


# --- results from login ----------------------------------------------------------------------

def succeeded(tenant, result, seconds, now=None):
    """A Result from MSAL's result (login.login's), without any token in it."""
    claims = result.get("id_token_claims") or {}
    account = result.get("codecatch_account") or {}
    who = claims.get("preferred_username") or claims.get("upn") or account.get("username") or claims.get("oid")
    expires = None
    if result.get("expires_in") is not None:
        at = (time.time() if now is None else now) + int(result["expires_in"])
        expires = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(at))
    scopes = tuple(sorted(str(result.get("scope") or "").split()))
    source = result.get("codecatch_source")
    return Result(tenant, CACHED if source == "cache" else SIGNED_IN, account=who, scopes=scopes,
                  expires=expires, sign_in=None if source == "cache" else result.get("codecatch_prompt"),
                  seconds=seconds)


def failed(tenant, exc, seconds, sign_in=None):
    """A Result from a LoginError (reason, message, hint, aadsts)."""
    return Result(tenant, FAILED, sign_in=sign_in, aadsts=getattr(exc, "aadsts", None),
                  error=getattr(exc, "message", None) or str(exc), hint=getattr(exc, "hint", None),
                  seconds=seconds)


# --- the scheduler ---------------------------------------------------------------------------

def run(tenants, job, parallel=DEFAULT_PARALLEL, on_event=None, clock=time.monotonic):
    """Run job(tenant, phase) for every tenant, at most `parallel` at once; return the
    Results in the tenants' order.

    on_event(kind, tenant, detail) hears ("start", t, None), ("phase", t, name) and
    ("done", t, Result), from the worker threads (one at a time: calls are serialised).
    A job that raises is a failed tenant (the exception's message); KeyboardInterrupt in
    the caller's thread stops the run: tenants not done are `interrupted`, and the
    Results so far are returned with `interrupted` set on the returned list.
    """
    if parallel < 1:
        raise ValueError("parallel must be at least 1")
    tenants = list(tenants)
    results = [None] * len(tenants)
    lock = threading.Lock()
    emit_lock = threading.Lock()
    all_done = threading.Event()
    stop = threading.Event()
    next_index = [0]
    remaining = [len(tenants)]
    started = {}

    def emit(kind, tenant, detail=None):
        if on_event is not None:
            with emit_lock:
                on_event(kind, tenant, detail)

    def take():
        with lock:
            if stop.is_set() or next_index[0] >= len(tenants):
                return None
            index = next_index[0]
            next_index[0] += 1
            started[index] = clock()
            return index

    def worker():
        while True:
            index = take()
            if index is None:
                return
            tenant = tenants[index]
            emit("start", tenant)
            try:
                result = job(tenant, lambda name, t=tenant: emit("phase", t, name))
            except Exception as exc:  # a job's own bug must not stop the others
                result = Result(tenant, FAILED, error=f"{type(exc).__name__}: {exc}")
            if not result.seconds:
                result.seconds = clock() - started[index]
            with lock:
                if stop.is_set():
                    return  # the report was written without it; it is `interrupted` there
                results[index] = result
                remaining[0] -= 1
                finished = remaining[0] == 0
            emit("done", tenant, result)
            if finished:
                all_done.set()

    if not tenants:
        return Results([], interrupted=False)
    for _ in range(min(parallel, len(tenants))):
        threading.Thread(target=worker, name="codecatch-batch", daemon=True).start()
    try:
        all_done.wait()
    except KeyboardInterrupt:
        with lock:
            stop.set()
            now = clock()
            for index, tenant in enumerate(tenants):
                if results[index] is None:
                    seconds = now - started[index] if index in started else 0.0
                    results[index] = Result(tenant, INTERRUPTED, seconds=seconds,
                                            error="interrupted (Ctrl-C)" if index in started else "not started")
        return Results(results, interrupted=True)
    return Results(results, interrupted=False)


class Results(list):
    """The run's Results, in the tenants' order; `interrupted` when Ctrl-C ended it."""

    def __init__(self, items, interrupted):
        super().__init__(items)
        self.interrupted = interrupted

    @property
    def all_ok(self):
        return not self.interrupted and all(r.ok for r in self)


# --- the report --------------------------------------------------------------------------

REPORT_FORMATS = {".json": "json", ".csv": "csv"}


def report_format(path):
    fmt = REPORT_FORMATS.get(os.path.splitext(path)[1].lower())
    if fmt is None:
        raise BatchError(f"--report: {path} must end in .json or .csv (that picks the format).")
    return fmt


def report_text(results, fmt):
    rows = [r.row() for r in results]
    if fmt == "json":
        return json.dumps({"tenants": rows, "interrupted": bool(getattr(results, "interrupted", False))},
                          indent=2) + "\n"
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=REPORT_FIELDS, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({name: _as_text(value) for name, value in dict(row, scopes=" ".join(row["scopes"])).items()})
    return out.getvalue()


def _as_text(value):
    """A cell a spreadsheet shows as text: one starting with = + - @ (or a tab or CR)
    would be run as a formula (OWASP, "CSV Injection"), and account names and Microsoft's
    messages are not ours to trust. Numbers stay numbers."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def write_report(results, path):
    """The report as JSON or CSV by the file's suffix, written atomically (0600: it
    names the accounts and tenants you manage, though never a token)."""
    write_atomic(path, report_text(results, report_format(path)), mode=0o600)


def exit_status(results):
    """0 when every tenant succeeded, 1 when any failed (130 is the CLI's, for Ctrl-C)."""
    return 0 if all(r.ok for r in results) else 1
