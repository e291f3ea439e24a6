import hashlib
import hmac

from django.conf import settings


def client_address(request) -> str:
    """The address of the person at the other end, for throttles.

    Behind PROXY_HOPS trusted reverse proxies, each appends the address it saw to
    X-Forwarded-For, so the client is the entry PROXY_HOPS from the end; anything a client put
    before that is not trusted.
    """
    hops = settings.PROXY_HOPS
    if hops > 0:
        forwarded = [
            part.strip()
            for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
            if part.strip()
        ]
        if len(forwarded) >= hops:
            return forwarded[-hops]
    return request.META.get("REMOTE_ADDR", "")


def address_hash(address: str) -> str:
    """A keyed hash of a client address: usable for limits, useless for finding the person."""
    return hmac.new(settings.SECRET_KEY.encode(), address.encode(), hashlib.sha256).hexdigest()
