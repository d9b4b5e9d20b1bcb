"""RABBITMQ_URL parsing (no broker)."""

import re
from urllib.parse import quote

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
            "RABBITMQ_URL: expected amqp[s]://USER:PASS@HOST[:PORT]/VHOST, got the scheme 'http'",
        ),
        (
            "amqp://u:p@h:99999/",
            None,
            "RABBITMQ_URL: invalid port '99999' for host 'h': expected a number from 1 to 65535",
        ),
        ("amqp://u:p@a,,b/", None, "RABBITMQ_URL: empty host in the list of hosts"),
        (
            "amqp://u:p@h/?heartbeat=ten",
            None,
            "RABBITMQ_URL heartbeat: expected whole seconds from 0 to 65535 or None, got 'ten'",
        ),
        (
            "amqp://u:p@h/",
            "-1",
            "RABBITMQ_HEARTBEAT: expected whole seconds from 0 to 65535 or None, got '-1'",
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
            "RABBITMQ_URL connection_timeout: expected whole milliseconds from 1 to 3600000, "
            "got '0'",
        ),
        # only ASCII digits: str.isdigit takes '\u00b2' and '\u0663' too
        (
            "amqp://h:\u00b2/",
            None,
            "RABBITMQ_URL: invalid port for host 'h': expected a number from 1 to 65535",
        ),
        (
            "amqp://h:\u0663/",
            None,
            "RABBITMQ_URL: invalid port for host 'h': expected a number from 1 to 65535",
        ),
        (
            "amqp://h/",
            "\u00b2",
            "RABBITMQ_HEARTBEAT: expected whole seconds from 0 to 65535 or None, got '\u00b2'",
        ),
        (
            "amqp://h/?heartbeat=\u0663",
            None,
            "RABBITMQ_URL heartbeat: expected whole seconds from 0 to 65535 or None, got '\u0663'",
        ),
        (
            "amqp://h/?connection_timeout=\u00b9",
            None,
            "RABBITMQ_URL connection_timeout: expected whole milliseconds from 1 to 3600000, "
            "got '\u00b9'",
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


def test_shuffled_puts_the_lost_host_last():
    targets = parse_url("amqp://u:p@a,b,c/")
    orders = {tuple(t.host for t in shuffled(targets, last=targets[0])) for _ in range(50)}
    assert {order[-1] for order in orders} == {"a"}
    assert len(orders) == 2


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


# Generated passwords hold characters that delimit URL parts. Each fragment of these is
# distinctive, so that a test can tell that no part of the password reached a message.
NASTY_PASSWORDS = [
    "Qx7k/Zv9m",
    "Qx7k?Zv9m",
    "Qx7k#Zv9m",
    "Qx7k@Zv9m",
    "Qx7k:Zv9m",
    "Qx7k%Zv9m",
    "Qx7k%2FZv9m",
    "Zv9m/",
    "://Zv9m",
    "Qx7k/Zv9m?Wb3p#Jr5t@Lm2n:Hc8d%Yf4g",
    "Qx7k:/Zv9m@",
]
URL_SHAPES = [
    "amqp://guest:{}@host/",
    "amqp://guest:{}@host:5673,other/vhost?heartbeat=5",
    "amqp://guest:{}@host:bad/",
    "amqp://guest:{}@/",
    "amqps://guest:{}@host?verify=maybe",
    "http://guest:{}@host/",
    "amqp:/guest:{}@host/",
]


def assert_hidden(password: str, text: str) -> None:
    for fragment in re.findall("[A-Za-z0-9]{2,}", password):
        assert fragment not in text, f"{fragment!r} of the password in {text!r}"


@pytest.mark.parametrize("password", NASTY_PASSWORDS)
@pytest.mark.parametrize("shape", URL_SHAPES)
def test_no_part_of_a_raw_password_reaches_a_message(shape, password):
    url = shape.format(password)
    assert_hidden(password, mask(url))
    try:
        targets = parse_url(url)
    except URLError as error:
        assert_hidden(password, str(error))
        return
    for target in targets:
        assert target.password == password.replace("%2F", "/")
        assert_hidden(password, str(target) + repr(target))


# With an '@' the URL reads as another, valid one; after a '?' comes the query, whose errors
# name the parameter.
TYPO_PASSWORDS = ["SECRETPW", *(p for p in NASTY_PASSWORDS if "@" not in p and "?" not in p)]


@pytest.mark.parametrize("password", TYPO_PASSWORDS)
@pytest.mark.parametrize(
    "shape", ["amqp://guest:{}", "amqp://guest:{}/", "amqp://guest:{},127.0.0.1/vhost"]
)
def test_a_password_whose_at_host_is_missing_is_not_shown(shape, password):
    with pytest.raises(URLError) as failure:
        parse_url(shape.format(password))
    assert_hidden(password, str(failure.value))


@pytest.mark.parametrize("password", NASTY_PASSWORDS)
def test_a_percent_encoded_password_is_read_back_exactly(password):
    (target,) = parse_url(f"amqp://guest:{quote(password, safe='')}@host/")
    assert (target.host, target.password) == ("host", password)


@pytest.mark.parametrize(
    "url",
    [
        "amqp://guest:12345/secret@host/",
        "amqp://guest:s3cr/etpw@host:5672/",
        "amqp://guest:pa?ss@host/",
        "amqp://guest:pa#ss@host/",
        "amqp://u:p@host/team@prod",
        "amqp://u:p@host/?cacertfile=/certs/a@b.pem",
    ],
)
def test_an_at_sign_after_the_host_is_refused_with_how_to_encode(url):
    with pytest.raises(URLError) as failure:
        parse_url(url)
    assert str(failure.value) == (
        "RABBITMQ_URL: '@' after the host: percent-encode '/', '?', '#' and '@' in the user "
        "name and password (%2F, %3F, %23, %40), and '@' in the vhost and query (%40)"
    )


def test_a_hash_after_the_host_is_refused():
    with pytest.raises(URLError, match="^RABBITMQ_URL: '#' after the host: percent-encode"):
        parse_url("amqp://u:p@host/vhost#1")


def test_percent_encoded_at_signs_in_the_vhost_and_query(tmp_path):
    ca = tmp_path / "a@b.pem"
    ca.write_text("")
    (target,) = parse_url(f"amqps://u:p@host/team%40prod?cacertfile={quote(str(ca))}")
    assert (target.vhost, target.tls.cacertfile) == ("team@prod", str(ca))


def test_mask_reads_the_user_info_as_parse_url_does():
    assert mask("amqp://a@b:pw@h,k:1/v?heartbeat=5") == "amqp://a@b:***@h,k:1/v?heartbeat=5"
    assert mask("amqp://guest:12345/secret@host/") == "amqp://guest:***@host/"
    assert mask("amqp://guest@host/") == "amqp://guest@host/"
    assert mask("amqp://host/") == "amqp://host/"


@pytest.mark.parametrize(
    ("url", "override", "error"),
    [
        ("amqp://h:" + "9" * 5000 + "/", None, "RABBITMQ_URL: invalid port '99999999"),
        ("amqp://h/", "9" * 5000, "RABBITMQ_HEARTBEAT: expected whole seconds"),
        ("amqp://h/", "65536", "RABBITMQ_HEARTBEAT: expected whole seconds"),
        ("amqp://h/?connection_timeout=" + "9" * 5000, None, "RABBITMQ_URL connection_timeout"),
        ("amqp://h/?connection_timeout=3600001", None, "RABBITMQ_URL connection_timeout"),
    ],
)
def test_huge_numbers_are_refused_in_one_short_line(url, override, error):
    with pytest.raises(URLError) as failure:
        parse_url(url, override)
    assert str(failure.value).startswith(error)
    assert len(str(failure.value)) < 200


def test_the_largest_numbers_allowed():
    (target,) = parse_url("amqp://h:65535/?heartbeat=65535&connection_timeout=3600000")
    assert (target.port, target.heartbeat, target.connection_timeout) == (65535, 65535, 3600)
