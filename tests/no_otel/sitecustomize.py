"""On PYTHONPATH, makes OpenTelemetry impossible to import, as if the otel extra were not
installed."""

import sys

sys.modules["opentelemetry"] = None
