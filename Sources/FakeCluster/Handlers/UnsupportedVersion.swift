/// Requests for an API this cluster does not serve, or at a version it does not serve: the
/// answer is that API's response at the requested version carrying UNSUPPORTED_VERSION (35),
/// at request level where the schema has a place for it, else on every partition the
/// request named (Produce, Fetch, batched FindCoordinator), else an empty body. Only a
/// request whose schema the codec does not know (an unknown key, or a version newer than
/// the codec's) cannot be answered in its own shape and closes the connection, as does
/// ApiVersions sent to an emulated 0.8/0.9 broker (those releases closed on it).
extension FakeCluster {
    static let unsupportedVersionCode: Int16 = 35

    mutating func answerUnsupported(_ id: FakeConnectionID, _ frame: [UInt8], key: ApiKey, version: Int16,
                                    broker: Int32, now: Instant, into out: inout [FakeOutput]) {
        let served = servedVersions(key, broker: broker).map { "v\($0.lowerBound)-\($0.upperBound)" } ?? "not at all"
        if key == .apiVersions, !release(of: broker).hasApiVersions {
            return close(id, "ApiVersions does not exist in Kafka \(release(of: broker))", into: &out)
        }
        guard let type = requestType(for: key), type.validVersions.contains(version) else {
            return close(id, "\(key.name) v\(version) has no schema here to answer in (served: \(served))", into: &out)
        }
        let parsed: ParsedRequestHeader
        let request: any KafkaRequest
        do {
            parsed = try parseRequestHeader(frame)
            request = try parsed.decodeBody()
        } catch {
            return close(id, "malformed \(key.name) v\(version) request: \(error)", into: &out)
        }
        let ctx = RequestContext(connection: id, broker: broker, apiKey: key, version: version,
                                 correlationId: parsed.header.correlationId, clientId: parsed.clientId ?? "", now: now)
        // An unauthenticated client on a SASL listener is closed on, whatever it sent.
        if let reason = saslGate(ctx) { return close(id, reason, into: &out) }
        record(ctx, .request(request))
        switch unsupportedVersionResponse(request, ctx) {
        case .respond(let r):
            record(ctx, .response(r))
            enqueue(id, encodeFrame(r, version: version, correlationId: ctx.correlationId))
        default:
            break // Produce with acks=0 expects no answer
        }
    }

    func unsupportedVersionResponse(_ request: any KafkaRequest, _ ctx: RequestContext) -> HandlerResult {
        var result = errorResponse(request, code: Self.unsupportedVersionCode, ctx) ?? .respond(emptyResponse(to: request))
        // Only where this version has the field: the codec refuses a value it cannot carry.
        if case .respond(let r) = result, type(of: r).carriesTopLevelErrorCode(version: ctx.version) {
            var withCode = r
            if withCode.setTopLevelErrorCode(KafkaErrorCode(Self.unsupportedVersionCode)) { result = .respond(withCode) }
        }
        return result
    }

    private func emptyResponse<R: KafkaRequest>(to request: R) -> any KafkaResponse { R.Response() }
}
