"""plato_eas.kube.quantity: Kubernetes resource quantities, parsed and formatted."""

import pytest

from plato_eas.errors import ConfigError
from plato_eas.kube import format_cpu, format_memory, parse_quantity


@pytest.mark.parametrize("text, value", [
    ("500m", 0.5), ("2", 2.0), ("1.5", 1.5), ("4Gi", 4 * 2**30), ("16384Ki", 16 * 2**20),
    ("1e3", 1000.0), ("1k", 1000.0), ("250M", 250e6), (3, 3.0),
])
def test_parse_quantity(text, value):
    assert parse_quantity(text) == pytest.approx(value)


@pytest.mark.parametrize("text", ["", "abc", "1Zi", "1.2.3", "--1", True])
def test_parse_quantity_rejects(text):
    with pytest.raises(ConfigError):
        parse_quantity(text)


def test_format_canonical():
    assert format_cpu(2) == "2"
    assert format_cpu(0.5) == "500m"
    assert format_cpu(1.25) == "1250m"
    assert format_memory(2) == "2Gi"
    assert format_memory(1.5) == "1536Mi"
    assert format_memory(0.0001) == "1Mi"
