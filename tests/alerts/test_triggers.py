"""What runs an evaluation: a job after each sync chunk (and inventory pass), the periodic
full pass, the CLI; what shows it: metrics; how long it is kept: retention."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa

from tests.alerts.conftest import NOW, open_alerts
from tests.sync.conftest import clock, fleet_simulator, once, settings  # noqa: F401
from webapp.alerts.evaluation import evaluate
from webapp.extensions import db
from webapp.models import Alert, Sim
from webapp.sync.retention import enforce_retention
from webapp.sync.services import run_now
from webapp.tasks import get_queue
from worker import jobs
from worker.scheduler import periodic_jobs


def evaluation_jobs() -> list:
    return [job for job in get_queue("default").get_jobs() if job.func_name.endswith("alerts")]


def test_each_sync_chunk_queues_an_evaluation_of_its_sims(app, once, make_rule):  # noqa: F811
    run_now(kind="inventory", client=once)
    assert [job.args for job in evaluation_jobs()] == [(None,)]  # the whole fleet
    get_queue("default").empty()
    db.session.execute(sa.update(Sim).values(data_remaining_mb=0))
    db.session.commit()
    make_rule({"type": "data_quota_below_mb", "mb": 1}, include_inactive=True)
    run = run_now(kind="connectivity", client=once)
    queued = evaluation_jobs()
    assert len(queued) == run.chunks_total > 1
    chunk = queued[0].args[0]
    assert len(chunk) == app.config["SYNC_CHUNK_SIMS"]
    assert jobs.evaluate_alerts(chunk) == {"fired": len(chunk), "stayed": 0, "resolved": 0}
    assert {iccid for _, iccid, _ in open_alerts()} == set(chunk)


def test_the_scheduler_runs_a_full_pass_every_few_minutes(app):
    intervals = {job.func: job.seconds for job in periodic_jobs(app)}
    assert intervals["worker.jobs.evaluate_alerts"] == 5 * 60
    app.config["ALERTS_EVALUATE_MINUTES"] = 0
    assert "worker.jobs.evaluate_alerts" not in {job.func for job in periodic_jobs(app)}


def test_cli_prints_what_fired_stayed_and_resolved(app, make_sim, make_rule):
    make_sim(data_remaining_mb=Decimal(0))
    make_rule({"type": "quota_exhausted"})
    runner = app.test_cli_runner()
    result = runner.invoke(args=["alerts", "evaluate"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "fired 1, stayed 0, resolved 0"
    assert (
        runner.invoke(args=["alerts", "evaluate"]).output.strip() == "fired 0, stayed 1, resolved 0"
    )


def test_metrics_show_open_alerts_and_evaluations(app, client, make_sim, make_rule):
    make_sim(data_remaining_mb=Decimal(0))
    make_rule({"type": "quota_exhausted"}, name="dry", severity="critical")
    evaluate(now=NOW)
    body = client.get("/metrics").text
    assert 'simfleet_alerts_open{rule="dry",severity="critical",state="firing"} 1.0' in body
    assert 'simfleet_alert_evaluations_total{scope="full"} 1.0' in body
    assert 'simfleet_alert_last_evaluation_duration_seconds{scope="full"}' in body


def test_resolved_alerts_are_kept_as_long_as_events(app, make_sim, make_rule):
    sim = make_sim(data_remaining_mb=Decimal(0))
    make_rule({"type": "quota_exhausted"})
    long_ago = datetime.now(UTC) - timedelta(days=40)
    evaluate(now=long_ago)
    db.session.execute(sa.update(Sim).values(data_remaining_mb=100))
    db.session.commit()
    evaluate(now=long_ago + timedelta(hours=1))  # resolved 40 days ago
    db.session.execute(sa.update(Sim).values(data_remaining_mb=0))
    db.session.commit()
    evaluate()  # open now
    assert enforce_retention()["alerts"] == 1
    assert [(a.iccid, a.state) for a in db.session.scalars(sa.select(Alert))] == [
        (sim.iccid, "firing")
    ]
