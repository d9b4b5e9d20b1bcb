"""RABBITMQ_URL parsing (no broker)."""

import pytest

from amqpdispatcher.url import TLS, Target, URLError, mask, parse_url, shuffled


def test_one_host_with_every_part():
    (target,) = parse_url("amqp://user:p%40ss@rabbit.example:5673/prod?heartbeat=15")
    assert target == Target(
        host="rabbit.example",
        port=5673,
        username="user",
        password="p@ss",
        vhost="prod",
        heartbeat=15,
        connection_timeout=None,
    )


def test_several_hosts_each_with_or_without_a_port():
    targets = parse_url("amqp://u:p@a:5673,b,[::1]:5674/v")
    assert [(t.host, t.port) for t in targets] == [("a", 5673), ("b", 5672), ("::1", 5674)]
    assert {(t.username, t.password, t.vhost) for t in targets} == {("u", "p", "v")}


@pytest.mark.parametrize(
    ("url", "vhost"),
    [
        ("amqp://u:p@h", "/"),
        ("amqp://u:p@h/", "/"),
        ("amqp://u:p@h/%2F", "/"),
        ("amqp://u:p@h/%2Fstaging", "/staging"),
        ("amqp://u:p@h/staging", "staging"),
    ],
)
def test_vhost_is_the_decoded_path(url, vhost):
    assert parse_url(url)[0].vhost == vhost


@pytest.mark.parametrize(
    ("query", "heartbeat"),
    [("", None), ("?heartbeat=", None), ("?heartbeat=None", None), ("?heartbeat=0", 0)],
)
def test_heartbeat_unset_means_the_brokers_value(query, heartbeat):
    assert parse_url(f"amqp://u:p@h/{query}")[0].heartbeat == heartbeat


def test_rabbitmq_heartbeat_overrides_the_url():
    assert parse_url("amqp://u:p@h/?heartbeat=5", "30")[0].heartbeat == 30
    assert parse_url("amqp://u:p@h/?heartbeat=5", "None")[0].heartbeat is None
    assert parse_url("amqp://u:p@h/?heartbeat=5", "")[0].heartbeat == 5


def test_connection_timeout_is_in_milliseconds():
    assert parse_url("amqp://u:p@h/?connection_timeout=2500")[0].connection_timeout == 2.5


@pytest.mark.parametrize(
    ("url", "override", "error"),
    [
        (
            "http://u:secret@h/",
            None,
            "RABBITMQ_URL: expected amqp[s]://USER:PASS@HOST[:PORT]/VHOST, got 'http://u:***@h/'",
        ),
        ("amqp://u:p@h:99999/", None, "RABBITMQ_URL: invalid port '99999' for host 'h'"),
        ("amqp://u:p@a,,b/", None, "RABBITMQ_URL: empty host in 'amqp://u:***@a,,b/'"),
        (
            "amqp://u:p@h/?heartbeat=ten",
            None,
            "RABBITMQ_URL heartbeat: expected whole seconds >= 0 or None, got 'ten'",
        ),
        (
            "amqp://u:p@h/",
            "-1",
            "RABBITMQ_HEARTBEAT: expected whole seconds >= 0 or None, got '-1'",
        ),
        (
            "amqp://u:p@h/?frame_max=1",
            None,
            "RABBITMQ_URL: unsupported query parameter 'frame_max' (heartbeat, "
            "connection_timeout, cacertfile, certfile, keyfile, verify, server_name_indication)",
        ),
        (
            "amqp://u:p@h/?connection_timeout=0",
            None,
            "RABBITMQ_URL connection_timeout: expected whole milliseconds > 0, got '0'",
        ),
    ],
)
def test_bad_settings_are_named(url, override, error):
    with pytest.raises(URLError) as failure:
        parse_url(url, override)
    assert str(failure.value) == error


def test_the_password_is_masked_everywhere():
    url = "amqp://user:hunter2@a:5672,b/v"
    assert mask(url) == "amqp://user:***@a:5672,b/v"
    for target in parse_url(url):
        assert target.password == "hunter2"
        assert "hunter2" not in str(target) + repr(target)


def test_shuffled_keeps_every_host():
    targets = parse_url("amqp://u:p@a,b,c,d,e,f/")
    orders = {tuple(t.host for t in shuffled(targets)) for _ in range(50)}
    assert all(sorted(order) == list("abcdef") for order in orders)
    assert len(orders) > 1


def test_amqps_defaults_to_port_5671_and_the_system_ca_store():
    (target,) = parse_url("amqps://u:p@rabbit/")
    assert (target.port, target.tls) == (5671, TLS())
    assert str(target) == "amqps://u:***@rabbit:5671/"


def test_tls_query_parameters(tmp_path):
    ca = tmp_path / "ca.pem"
    ca.write_text("")
    query = f"cacertfile={ca}&verify=verify_none&server_name_indication=rabbit.internal"
    (target,) = parse_url(f"amqps://u:p@10.0.0.1:5673/?{query}")
    assert target.port == 5673
    assert target.tls == TLS(
        cacertfile=str(ca), verify=False, server_name_indication="rabbit.internal"
    )


@pytest.mark.parametrize(
    ("url", "error"),
    [
        ("amqp://u:p@h/?verify=verify_none", "RABBITMQ_URL: verify needs an amqps:// URL"),
        (
            "amqps://u:p@h/?verify=yes",
            "RABBITMQ_URL verify: expected verify_peer or verify_none, got 'yes'",
        ),
        ("amqps://u:p@h/?keyfile=/no/key.pem", "RABBITMQ_URL keyfile: no such file: /no/key.pem"),
    ],
)
def test_bad_tls_settings_are_named(url, error):
    with pytest.raises(URLError) as failure:
        parse_url(url)
    assert str(failure.value) == error
