"""Issue 21, item 7: `make test` in a second checkout ran the gateway set-up against the live
database and re-keyed the running gateway. The gateway now has no credentials in the database:
it shares one secret with the portal (var/gateway_secret, written once by `make run`'s set-up),
and the test run writes neither it nor anything of the running portal's."""

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_make_test_runs_no_set_up_against_the_configured_database():
    """The test run makes its own database; the set-up (migrate, bootstrap, the gateway's
    secret) is the running portal's."""
    dry_run = subprocess.run(["make", "-n", "test"], cwd=ROOT, capture_output=True, text=True, check=True)

    assert "pytest" in dry_run.stdout
    assert "manage.py" not in dry_run.stdout
    assert "gateway_secret" not in dry_run.stdout
