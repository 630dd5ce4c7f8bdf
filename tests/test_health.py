"""The health endpoint operators and load balancers poll."""


def test_healthz_reports_database_redis_and_workers(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.get_json()
    assert body["database"] == "ok" and body["redis"] == "ok"
    assert body["workers"] == 0


def test_healthz_is_503_when_redis_is_down(config):
    from app import create_app

    app = create_app({**config, "REDIS_URL": "unix:///nonexistent/redis.sock"})
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["redis"].startswith("error")


def test_unknown_api_path_is_json_404(client):
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.get_json()["success"] is False


def test_every_response_carries_a_request_id(client):
    response = client.get("/healthz", headers={"X-Request-ID": "abc123"})
    assert response.headers["X-Request-ID"] == "abc123"
    assert len(client.get("/healthz").headers["X-Request-ID"]) == 32


def test_healthz_counts_only_workers_that_still_run(client, config):
    import psutil

    from tests.processes import start_worker, wait_for

    worker = start_worker(config)
    wait_for(lambda: client.get("/healthz").get_json()["workers"] == 1, "the worker to register")
    # Killed with no chance to unregister, as when `flask up` or the machine dies: its registration stays.
    for process in [psutil.Process(worker.pid), *psutil.Process(worker.pid).children(recursive=True)]:
        process.kill()
    worker.wait(15)

    assert client.get("/healthz").get_json()["workers"] == 0
