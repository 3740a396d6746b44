"""Who may read ``GET /metrics``: the allow list as an operator writes it."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from consult119.config import Settings
from consult119.metrics import address_allowed, parse_networks


def test_allow_list_of_addresses_and_blocks():
    allow = parse_networks(" 127.0.0.1, 10.0.0.0/8 ,fd00::/8,")
    assert address_allowed("127.0.0.1", allow)
    assert address_allowed("10.20.30.40", allow)
    assert address_allowed("fd12::1", allow)
    assert address_allowed("::ffff:127.0.0.1", allow)  # IPv4 over a dual-stack socket
    assert not address_allowed("127.0.0.2", allow)
    assert not address_allowed("192.168.1.1", allow)
    assert not address_allowed("testclient", allow)  # not an address at all
    assert not address_allowed(None, allow)
    assert not address_allowed("127.0.0.1", parse_networks(""))  # empty: token only


def test_a_bad_entry_stops_the_start():
    with pytest.raises(ValidationError, match="not an address or CIDR block: '10.0.0.0/33'"):
        Settings(metrics_allow="127.0.0.1,10.0.0.0/33")
    assert Settings(metrics_allow="").metrics_allow == ""
