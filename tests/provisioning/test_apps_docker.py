"""The data science and R notebooks on the real engine, launched through the API and used through
jobs as a user would: XGBoost trains a model that predicts, R evaluates an expression and its
kernel is the one JupyterLab lists. Both sandboxes start at once (starting is the slow part) and
leave nothing behind."""

import pytest

from tests.provisioning.conftest import leftovers, wait_for_status
from tests.provisioning.test_jobs_docker import by_node, run_job, wait_for_job

pytestmark = pytest.mark.django_db(transaction=True)

NOTHING = {"containers": [], "networks": [], "volumes": []}

XGBOOST = """
import numpy as np, xgboost as xgb
from sklearn.datasets import make_classification
from sklearn.model_selection import train_test_split
x, y = make_classification(n_samples=2000, n_features=12, n_informative=6, random_state=0)
x_train, x_test, y_train, y_test = train_test_split(x, y, random_state=0)
model = xgb.XGBClassifier(n_estimators=50, max_depth=4, n_jobs=1).fit(x_train, y_train)
accuracy = float((model.predict(x_test) == y_test).mean())
print("xgboost", xgb.__version__, "accuracy", round(accuracy, 3))
assert accuracy > 0.85, accuracy
"""

R_SMOKE = (
    """Rscript -e 'm <- lm(dist ~ speed, data = cars); cat("R", sum(1:10), round(coef(m)[[2]], 2), "\\n")'"""
)


def launch(client, *, name: str, item: str) -> int:
    created = client.post(
        "/api/v1/sandboxes/",
        {"tenant": "lab", "name": name, "catalog_item": item, "flavor": "small"},
        format="json",
    )
    assert created.status_code == 202, created.json()
    return created.json()["id"]


def test_data_science_and_r_notebooks_run_their_frameworks(
    team, published, celery_worker_process, docker_client
):
    _tenant, _user, client = team
    published("data-science", "r-notebook")
    science = launch(client, name="science", item="data-science")
    r_notebook = launch(client, name="r", item="r-notebook")
    try:
        for sandbox_id in (science, r_notebook):
            body = wait_for_status(client, sandbox_id, {"running"})
            assert [e["service"] for e in body["endpoints"]] == ["jupyter"]

        trained = run_job(client, science, f"python - <<'PY'\n{XGBOOST}\nPY", nodes="head")
        evaluated = run_job(client, r_notebook, f"{R_SMOKE}; jupyter kernelspec list", nodes="head")

        trained = wait_for_job(client, trained["id"], {"succeeded", "failed"}, seconds=300)
        assert trained["status"] == "succeeded", trained
        words = by_node(trained)["head-0"]["log"].split()
        assert words[:3] == ["xgboost", "3.2.0", "accuracy"] and float(words[3]) > 0.85, words
        evaluated = wait_for_job(client, evaluated["id"], {"succeeded", "failed"}, seconds=300)
        assert evaluated["status"] == "succeeded", evaluated
        log = by_node(evaluated)["head-0"]["log"].splitlines()
        assert log[0] == "R 55 3.93 "
        kernels = {line.split()[0]: line.split()[1] for line in log[2:] if line.strip()}
        assert kernels["ir"] == "/opt/venv/share/jupyter/kernels/ir"
        assert "python3" in kernels
    finally:
        for sandbox_id in (science, r_notebook):
            client.delete(f"/api/v1/sandboxes/{sandbox_id}/")
        for sandbox_id in (science, r_notebook):
            wait_for_status(client, sandbox_id, {"deleted"})
    assert leftovers(docker_client, science) == NOTHING
    assert leftovers(docker_client, r_notebook) == NOTHING
