/// KIP-219 quota throttling, armed by tests: a broker answers with throttle_time_ms set and
/// then mutes the connection that carried the answer (reads nothing more from it) for that
/// long, as Kafka does to a client over its quota. A well-behaved client sends nothing to
/// that broker until the throttle lifts; `throttledResponse` lets a test find out what the
/// client was told and when.
struct ThrottleTable: Sendable {
    struct Rule: Sendable, Equatable {
        /// nil: every broker.
        var broker: Int32?
        /// nil: every API.
        var apiKey: ApiKey?
        var milliseconds: Int32
        /// Responses left to throttle (nil: until `until`).
        var remaining: Int?
        var until: Instant?
    }

    var rules: [Rule] = []

    /// The throttle for a response of `key` from `broker` at `now`, consuming one count.
    mutating func take(_ key: ApiKey, broker: Int32, now: Instant) -> Int32? {
        rules.removeAll { r in r.until.map { now >= $0 } ?? false }
        guard let i = rules.firstIndex(where: { ($0.broker == nil || $0.broker == broker) && ($0.apiKey == nil || $0.apiKey == key) }) else { return nil }
        let ms = rules[i].milliseconds
        if let left = rules[i].remaining {
            if left <= 1 { rules.remove(at: i) } else { rules[i].remaining = left - 1 }
        }
        return ms
    }
}

/// A response the cluster sent with a throttle.
public struct ThrottledResponseKey: Hashable, Sendable {
    public var connection: FakeConnectionID
    public var correlationId: Int32
}

extension FakeCluster {
    /// The next `count` responses of `apiKey` (nil: any API) from `broker` (nil: any) carry
    /// throttle_time_ms = `milliseconds`, and each mutes its connection for that long.
    public mutating func throttle(broker: Int32?, apiKey: ApiKey? = nil, milliseconds: Int32, count: Int) {
        guard count > 0, milliseconds > 0 else { return }
        throttles.rules.append(.init(broker: broker, apiKey: apiKey, milliseconds: milliseconds, remaining: count, until: nil))
    }

    /// Every response of `apiKey` (nil: any API) from `broker` until `until` is throttled.
    public mutating func throttle(broker: Int32?, apiKey: ApiKey? = nil, milliseconds: Int32, until: Instant) {
        guard milliseconds > 0 else { return }
        throttles.rules.append(.init(broker: broker, apiKey: apiKey, milliseconds: milliseconds, remaining: nil, until: until))
    }

    /// The throttle_time_ms the cluster put in its response to `correlationId` on
    /// `connection`, if it throttled that response.
    public func throttledResponse(_ connection: FakeConnectionID, correlationId: Int32) -> Int32? {
        throttledResponses[ThrottledResponseKey(connection: connection, correlationId: correlationId)]
    }

    /// Sets throttle_time_ms on a response armed for it and mutes the connection. Only APIs
    /// and versions whose response carries the field (the generated `carriesThrottle`) are
    /// throttled (a client could not know otherwise); held answers (acks=all produce,
    /// min-bytes fetch) are not.
    mutating func applyThrottle(_ response: any KafkaResponse, _ ctx: RequestContext) -> any KafkaResponse {
        guard type(of: response).carriesThrottle(version: ctx.version),
              let ms = throttles.take(ctx.apiKey, broker: ctx.broker, now: ctx.now) else { return response }
        var throttled = response
        guard throttled.setThrottleMilliseconds(ms) else { return response }
        let end = ctx.now.adding(milliseconds: Int64(ms))
        let muted = connections[ctx.connection]?.mutedUntil ?? end
        connections[ctx.connection]?.mutedUntil = max(muted, end)
        throttledResponses[ThrottledResponseKey(connection: ctx.connection, correlationId: ctx.correlationId)] = ms
        return throttled
    }

    /// Muted connections whose throttle has passed read what arrived meanwhile.
    mutating func unmuteExpired(now: Instant, into out: inout [FakeOutput]) {
        for id in connections.keys.sorted() {
            guard let i = connections.index(forKey: id), let until = connections.values[i].mutedUntil, now >= until else { continue }
            connections.values[i].mutedUntil = nil
            processFrames(id, now: now, into: &out)
        }
    }

    /// The earliest instant a muted connection unmutes.
    var nextUnmute: Instant? {
        var d: Instant?
        // By position: `for c in connections.values` copies each whole connection.
        for i in connections.values.indices { if let u = connections.values[i].mutedUntil { d = d.map { min($0, u) } ?? u } }
        return d
    }
}
