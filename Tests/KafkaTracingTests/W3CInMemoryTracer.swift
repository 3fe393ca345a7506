import InMemoryTracing
import NIOConcurrencyHelpers
import Tracing

/// The package's InMemoryTracer, propagating as W3C Trace Context does (`traceparent`,
/// `tracestate`), as an OpenTelemetry tracer would: InMemoryTracer's own fields are not
/// W3C's. Trace and span ids are counters in hex (deterministic).
struct W3CInMemoryTracer: Tracer {
    typealias Span = InMemorySpan
    let inner = InMemoryTracer(idGenerator: .init(nextTraceID: Self.counter(digits: 32), nextSpanID: Self.counter(digits: 16)))

    static func counter(digits: Int) -> @Sendable () -> String {
        let n = LockedCounter()
        return {
            let hex = String(n.next(), radix: 16)
            return String(repeating: "0", count: digits - hex.count) + hex
        }
    }

    func startSpan<Instant: TracerInstant>(_ operationName: String, context: @autoclosure () -> ServiceContext, ofKind kind: SpanKind,
                                           at instant: @autoclosure () -> Instant, function: String, file fileID: String,
                                           line: UInt) -> InMemorySpan {
        inner.startSpan(operationName, context: context(), ofKind: kind, at: instant(), function: function, file: fileID, line: line)
    }

    func forceFlush() { inner.forceFlush() }

    func inject<Carrier, Inject: Injector>(_ context: ServiceContext, into carrier: inout Carrier, using injector: Inject)
        where Inject.Carrier == Carrier {
        guard let span = context.inMemorySpanContext else { return }
        injector.inject("00-\(span.traceID)-\(span.spanID)-01", forKey: "traceparent", into: &carrier)
        if let state = context.traceState { injector.inject(state, forKey: "tracestate", into: &carrier) }
    }

    func extract<Carrier, Extract: Extractor>(_ carrier: Carrier, into context: inout ServiceContext, using extractor: Extract)
        where Extract.Carrier == Carrier {
        guard let parent = extractor.extract(key: "traceparent", from: carrier) else { return }
        let parts = parent.split(separator: "-")
        guard parts.count == 4, parts[0] == "00", parts[1].count == 32, parts[2].count == 16 else { return }
        context.inMemorySpanContext = InMemorySpanContext(traceID: String(parts[1]), spanID: String(parts[2]), parentSpanID: nil)
        if let state = extractor.extract(key: "tracestate", from: carrier) { context.traceState = state }
    }
}

/// W3C `tracestate`: vendor data carried along with the trace.
private enum TraceStateKey: ServiceContextKey { typealias Value = String }

extension ServiceContext {
    var traceState: String? {
        get { self[TraceStateKey.self] }
        set { self[TraceStateKey.self] = newValue }
    }
}

final class LockedCounter: Sendable {
    private let value = NIOLockedValueBox<UInt64>(0)
    func next() -> UInt64 { value.withLockedValue { $0 += 1; return $0 } }
}
