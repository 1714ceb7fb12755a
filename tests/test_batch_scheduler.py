"""The batch scheduler (host/codecatch/batch.py `run`) on its own: jobs are plain
functions that block on events the test controls, so every check is about order and
concurrency, never about time."""

import os
import threading

import pytest

from codecatch import batch

WAIT_S = 10


class Jobs:
    """Jobs that start, say so, and finish only when the test lets them."""

    def __init__(self):
        self.lock = threading.Lock()
        self.running = set()
        self.most = 0
        self.started = []
        self.release = {}
        self.changed = threading.Condition(self.lock)

    def __call__(self, tenant, phase):
        gate = threading.Event()
        with self.lock:
            self.release[tenant] = gate
            self.running.add(tenant)
            self.started.append(tenant)
            self.most = max(self.most, len(self.running))
            self.changed.notify_all()
        phase("waiting for the browser")
        assert gate.wait(WAIT_S), f"{tenant} was never released"
        if tenant.startswith("bad"):
            raise RuntimeError(f"{tenant} broke")
        return batch.Result(tenant, batch.SIGNED_IN, account="admin@contoso.test", seconds=1.0)

    def wait_running(self, count):
        with self.lock:
            assert self.changed.wait_for(lambda: len(self.running) == count, WAIT_S), self.running
            return set(self.running)

    def finish(self, tenant):
        # Counted as done from here: the scheduler can start the next job only once this
        # one has returned, which is later still.
        with self.lock:
            self.running.discard(tenant)
            gate = self.release[tenant]
        gate.set()


def run_in_thread(tenants, jobs, parallel, events=None):
    out = {}

    def go():
        out["results"] = batch.run(tenants, jobs, parallel=parallel,
                                   on_event=(lambda *e: events.append(e)) if events is not None else None)

    thread = threading.Thread(target=go)
    thread.start()
    return thread, out


@pytest.mark.parametrize("parallel", [1, 3, 16])
def test_never_more_than_parallel_jobs_at_once_and_results_in_the_lists_order(parallel):
    tenants = [f"t{n:02d}.test" for n in range(10)]
    jobs = Jobs()
    thread, out = run_in_thread(tenants, jobs, parallel)
    done = 0
    while done < len(tenants):
        running = jobs.wait_running(min(parallel, len(tenants) - done))
        # Finish them newest first: the report keeps the list's order anyway.
        for tenant in sorted(running, reverse=True)[:1]:
            jobs.finish(tenant)
            done += 1
    thread.join(WAIT_S)
    assert not thread.is_alive()
    assert jobs.most == min(parallel, len(tenants))
    assert jobs.started == tenants  # taken in the list's order
    assert [r.tenant for r in out["results"]] == tenants
    assert out["results"].all_ok and not out["results"].interrupted


def test_a_job_that_raises_fails_its_tenant_and_the_others_go_on():
    tenants = ["a.test", "bad.test", "c.test"]
    jobs = Jobs()
    events = []
    thread, out = run_in_thread(tenants, jobs, 3, events)
    jobs.wait_running(3)
    for tenant in tenants:
        jobs.finish(tenant)
    thread.join(WAIT_S)
    results = out["results"]
    assert [r.outcome for r in results] == [batch.SIGNED_IN, batch.FAILED, batch.SIGNED_IN]
    assert results[1].error == "RuntimeError: bad.test broke"
    assert batch.exit_status(results) == 1 and not results.all_ok
    kinds = [(kind, tenant) for kind, tenant, _ in events]
    for tenant in tenants:  # each tenant: start, its phase, done; in that order
        mine = [k for k, t in kinds if t == tenant]
        assert mine == ["start", "phase", "done"], (tenant, mine)


def test_no_tenants_is_an_empty_run():
    results = batch.run([], Jobs(), parallel=3)
    assert list(results) == [] and not results.interrupted


def test_parallel_below_one_is_refused():
    with pytest.raises(ValueError):
        batch.run(["a.test"], Jobs(), parallel=0)


def test_the_report_never_holds_a_token_and_csv_cells_are_not_formulas(tmp_path):
    result = batch.succeeded("contoso.test", {
        "access_token": "at-secret", "refresh_token": "rt-secret", "id_token": "it-secret",
        "expires_in": 3600, "scope": "User.Read openid",
        "id_token_claims": {"preferred_username": "=HYPERLINK(\"https://evil.example\")"},
        "codecatch_prompt": "none"}, 2.5, now=0)
    for name in ("r.json", "r.csv"):
        path = tmp_path / name
        batch.write_report(batch.Results([result], interrupted=False), str(path))
        text = path.read_text()
        assert "secret" not in text
        assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert "1970-01-01T01:00:00Z" in (tmp_path / "r.json").read_text()
    # A spreadsheet would run a cell that starts with = + - or @: the CSV quotes it as text.
    row = (tmp_path / "r.csv").read_text().splitlines()[1]
    assert "'=HYPERLINK" in row and ",=HYPERLINK" not in row


def test_the_cache_folder_is_made_private_and_a_foreign_or_linked_one_is_refused(tmp_path):
    made = batch.prepare_cache_dir(str(tmp_path / "new"))
    assert oct(os.stat(made).st_mode & 0o777) == "0o700"
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o777)
    shared.chmod(0o777)
    batch.prepare_cache_dir(str(shared))
    assert oct(shared.stat().st_mode & 0o777) == "0o700"  # others could have planted a cache
    link = tmp_path / "link"
    link.symlink_to(shared)
    with pytest.raises(batch.BatchError, match="is a symbolic link"):
        batch.prepare_cache_dir(str(link))
    if os.geteuid() == 0:  # CI runs as root: a folder of another user's for real
        theirs = tmp_path / "theirs"
        theirs.mkdir()
        os.chown(theirs, 65534, -1)
        with pytest.raises(batch.BatchError, match="belongs to another user"):
            batch.prepare_cache_dir(str(theirs))
