"""The startup handler of the tracing tests: the SDK's tracer provider, every span sampled, each
finished span appended as a JSON line to the file SPAN_FILE names, for the test to read back.
Set in the arbiter before it forks: each worker writes from its own process."""

import os

from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult


class _ToFile(SpanExporter):
    def export(self, spans) -> SpanExportResult:
        with open(os.environ["SPAN_FILE"], "a") as out:
            for span in spans:
                out.write(span.to_json(indent=None) + "\n")
        return SpanExportResult.SUCCESS


def setup() -> None:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(_ToFile()))
    trace.set_tracer_provider(provider)
