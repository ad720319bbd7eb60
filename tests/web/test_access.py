"""Who can reach the dashboard: loopback by default, a password for anything else, and no
secret of the database or the broker in any page."""

from __future__ import annotations

import base64

import pytest
from web_helpers import Dashboard, eas, get

from plato_eas.web.access import AccessError, authorised, check_listen, is_loopback


def test_loopback_addresses():
    assert all(is_loopback(h) for h in ("127.0.0.1", "localhost", "::1", "[::1]", "127.8.9.1"))
    assert not any(is_loopback(h) for h in ("0.0.0.0", "::", "10.0.0.5", "eas.example.org"))


def test_non_loopback_without_password_is_refused(filled):
    with pytest.raises(AccessError, match="without a password"):
        check_listen("0.0.0.0", None, insecure=False)
    check_listen("0.0.0.0", None, insecure=True)
    check_listen("0.0.0.0", "secret", insecure=False)
    done = eas(filled, "web", "--host", "0.0.0.0", "--port", "1", check=False)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        "eas: error: refusing to serve the dashboard on 0.0.0.0 without a password: task logs "
        "may hold sensitive text; set EAS_WEB_PASSWORD or --password-file (or pass --insecure)"]


def test_no_password_flag_on_the_command_line(filled):
    done = eas(filled, "web", "--password", "x", check=False)
    assert done.returncode == 2 and "unrecognized arguments" in done.stderr


def _basic(user: str, password: str) -> dict:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def test_authorisation_header_forms():
    assert authorised(_basic("anyone", "pw")["Authorization"], "pw")
    assert authorised("Bearer pw", "pw")
    assert not authorised(_basic("anyone", "wrong")["Authorization"], "pw")
    assert not authorised("Basic !!!", "pw")
    assert not authorised("Digest pw", "pw")
    assert not authorised(None, "pw")


@pytest.mark.parametrize("source", ["environment", "file"])
def test_with_a_password_a_request_without_it_gets_401(filled, tmp_path, source):
    args, extra = [], {}
    if source == "file":
        secret = tmp_path / "web-password"
        secret.write_text("from-a-file\n")
        args, password = ["--password-file", str(secret)], "from-a-file"
    else:
        password = "from-the-environment"
        extra = {"EAS_WEB_PASSWORD": password}
    server = Dashboard(filled, tmp_path / "web.log", *args, **extra).wait()
    try:
        status, _, headers = get(server.url + "/")
        assert status == 401 and headers["WWW-Authenticate"].startswith("Basic ")
        assert get(server.url + "/", _basic("eas", "wrong"))[0] == 401
        assert get(server.url + "/files/", _basic("eas", "wrong"))[0] == 401
        status, body, _ = get(server.url + "/", _basic("eas", password))
        assert status == 200 and b"demo" in body
        assert get(server.url + "/queue", {"Authorization": f"Bearer {password}"})[0] == 200
        assert get(server.url + "/healthz")[0] == 200  # the readiness probe needs none
    finally:
        server.stop()
    assert password not in server.log.read_text()


def test_no_database_or_broker_password_in_any_page(filled):
    """Settings with secrets set (as a MySQL/RabbitMQ installation has them): no page shows
    them, not even an error page."""
    from plato_eas.web.app import create_app

    settings = filled.replace(db_password="db-Secret-0x51", mq_password="mq-Secret-0x52")
    client = create_app(settings).test_client()
    for url in ("/", "/jobs/demo", "/jobs/failing", "/tasks/1", "/logs", "/timings",
                "/pass_fail", "/timeline", "/queue", "/files/", "/jobs/nope", "/tasks/99999",
                "/logs?since=garbage", "/healthz"):
        body = client.get(url).get_data(as_text=True)
        assert "db-Secret-0x51" not in body and "mq-Secret-0x52" not in body, url


def test_a_port_in_use_is_one_line(filled, tmp_path):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = eas(filled, "web", "--port", str(port), check=False)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        f"eas: error: cannot listen on 127.0.0.1:{port}: Address already in use"]
