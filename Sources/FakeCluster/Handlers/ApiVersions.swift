/// ApiVersions: the emulated release's table, capped by what the fake implements, and the
/// cluster's feature levels (State/Metadata/FeatureLevels.swift).
extension FakeCluster {
    /// The finalized `transaction.version` (KIP-890 part 2): from the config at start, then
    /// as UpdateFeatures sets it.
    var transactionVersion: Int16 { state.features.level("transaction.version") }

    /// The ApiVersions answer of a broker of the cluster's configured release.
    func apiVersionsResponse() -> ApiVersionsResponse { apiVersionsResponse(release: config.release) }

    /// What `broker` answers: its own release's table (see `upgradeBroker`).
    func apiVersionsResponse(broker: Int32) -> ApiVersionsResponse { apiVersionsResponse(release: release(of: broker)) }

    func apiVersionsResponse(release: KafkaRelease) -> ApiVersionsResponse {
        var r = ApiVersionsResponse()
        for key in release.apiKeys {
            guard let v = servedVersions(key, release: release) else { continue }
            var a = ApiVersionsResponse.ApiVersion()
            a.apiKey = key.rawValue
            a.minVersion = v.lowerBound
            a.maxVersion = v.upperBound
            r.apiKeys.append(a)
        }
        // Tagged fields of v3+ (ignorable: an older version's answer drops them).
        r.supportedFeatures = state.features.supported.map { f in
            var k = ApiVersionsResponse.SupportedFeatureKey()
            k.name = f.name
            k.minVersion = f.minVersion
            k.maxVersion = f.maxVersion
            return k
        }
        r.finalizedFeatures = state.features.finalized.map { f in
            var k = ApiVersionsResponse.FinalizedFeatureKey()
            k.name = f.name
            k.minVersionLevel = f.level
            k.maxVersionLevel = f.level
            return k
        }
        r.finalizedFeaturesEpoch = state.features.epoch
        return r
    }

    func handleApiVersions(_ r: ApiVersionsRequest, _ ctx: RequestContext) -> HandlerResult {
        var resp = apiVersionsResponse(broker: ctx.broker)
        // Before v4 a supported range starting at 0 is left out: older clients refuse it.
        if ctx.version < 4 { resp.supportedFeatures.removeAll { $0.minVersion == 0 } }
        return .respond(resp)
    }
}
