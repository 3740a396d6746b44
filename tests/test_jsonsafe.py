"""The JSON depth limit: brackets inside strings do not count, and the scan stays linear."""

from __future__ import annotations

import time

import pytest

from consult119.jsonsafe import MAX_JSON_DEPTH, JSONTooDeep, loads, too_deep

N = MAX_JSON_DEPTH


@pytest.mark.parametrize(
    ("text", "deep"),
    [
        ("[" * 20000, True),
        ('{"a":' * 20000, True),
        ("[" * (N + 1), True),
        ("[" * N + "]" * N, False),
        ('["' + "[" * 100 + '"]', False),  # brackets in a string
        ('["\\"' + "[" * 100 + '"]', False),  # after an escaped quote, still in the string
        ('["x\\\\"' + ", [" * (N + 1) + "]", True),  # an escaped backslash ends the string
        ('"' + "[" * 100, False),  # an unterminated string runs to the end
    ],
)
def test_depth_is_counted_outside_strings(text, deep):
    assert too_deep(text) is deep
    assert too_deep(text.encode()) is deep


def test_loads_refuses_deep_documents_as_a_value_error():
    with pytest.raises(JSONTooDeep):
        loads(b"[" * 5000)
    with pytest.raises(ValueError):
        loads("[" * 5000)
    assert loads('{"a": [1, {"b": "]]]"}]}') == {"a": [1, {"b": "]]]"}]}


@pytest.mark.parametrize(
    "text",
    ['\\"' * 32000 + "\\", '"' + '\\"' * 32000, '"\\' * 32000, "[" + "1," * 32000 + "1]"],
)
def test_the_scan_is_linear_on_hostile_input(text):
    started = time.perf_counter()
    too_deep(text.encode())
    assert time.perf_counter() - started < 0.5
