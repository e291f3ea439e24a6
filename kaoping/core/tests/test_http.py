from django.test import RequestFactory

from kaoping.core.http import client_address


def test_without_proxies_the_socket_address_counts(settings):
    settings.PROXY_HOPS = 0
    request = RequestFactory().get("/", HTTP_X_FORWARDED_FOR="6.6.6.6", REMOTE_ADDR="10.0.0.2")
    assert client_address(request) == "10.0.0.2"


def test_behind_one_proxy_the_last_forwarded_address_counts(settings):
    settings.PROXY_HOPS = 1
    # A client may forge the first entry; the proxy appends what it really saw.
    request = RequestFactory().get(
        "/", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.9", REMOTE_ADDR="10.0.0.2"
    )
    assert client_address(request) == "203.0.113.9"
    assert client_address(RequestFactory().get("/", REMOTE_ADDR="10.0.0.2")) == "10.0.0.2"
