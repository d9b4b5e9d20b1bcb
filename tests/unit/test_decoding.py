"""AMQP's float and double field values, as other clients write them, decoded as floats."""

import math
import struct

import pika
import pytest
from raw_properties import RawProperties, Single

from amqpdispatcher.transport.pika_internals import PIKA_DECODE_VALUE


def test_pika_itself_still_truncates_doubles():
    """The day pika decodes them as floats, this fails: decode_floats then does nothing, and
    can go."""
    assert PIKA_DECODE_VALUE(b"d" + struct.pack(">d", 3.14159), 0) == (3, 9)
    assert PIKA_DECODE_VALUE(b"f" + struct.pack(">f", 0.5), 0) == (0, 5)


def decoded(headers: dict) -> dict:
    properties = pika.BasicProperties()
    properties.decode(b"".join(RawProperties(headers).encode()))
    return properties.headers


def test_floats_and_doubles_are_decoded_as_floats_at_any_depth():
    headers = {
        "pi": 3.14159,
        "half": Single(0.5),
        "negative": -2.75,
        "list": [0.25, Single(1.5), "text"],
        "table": {"deeper": {"ratio": 0.125}},
    }
    assert decoded(headers) == headers


def test_the_infinities_and_nan_are_decoded_too():
    values = decoded({"inf": math.inf, "minus": -math.inf, "nan": math.nan})
    assert values["inf"] == math.inf and values["minus"] == -math.inf
    assert math.isnan(values["nan"])


@pytest.mark.parametrize("value", [1e19, -1e300])
def test_doubles_beyond_any_integer_stay_floats(value):
    assert decoded({"big": value}) == {"big": value}
