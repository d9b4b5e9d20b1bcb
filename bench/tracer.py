"""The startup handler of the tracing_on scenario: the SDK's tracer provider, every span
sampled (ALWAYS_ON), each ended span handed at once to an in-memory exporter, emptied every
EMPTIED_EVERY spans so that it does not grow with the run."""

from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import ALWAYS_ON

EMPTIED_EVERY = 10_000


class _Emptied(InMemorySpanExporter):
    def __init__(self) -> None:
        super().__init__()
        self._kept = 0

    def export(self, spans):
        result = super().export(spans)
        self._kept += len(spans)
        if self._kept >= EMPTIED_EVERY:
            self.clear()
            self._kept = 0
        return result


def setup() -> None:
    provider = TracerProvider(sampler=ALWAYS_ON)
    provider.add_span_processor(SimpleSpanProcessor(_Emptied()))
    trace.set_tracer_provider(provider)
