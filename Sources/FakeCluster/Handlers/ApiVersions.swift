/// ApiVersions: the emulated release's table, capped by what the fake implements.
extension FakeCluster {
    func apiVersionsResponse() -> ApiVersionsResponse {
        var r = ApiVersionsResponse()
        for key in config.release.apiKeys {
            guard let v = servedVersions(key) else { continue }
            var a = ApiVersionsResponse.ApiVersion()
            a.apiKey = key.rawValue
            a.minVersion = v.lowerBound
            a.maxVersion = v.upperBound
            r.apiKeys.append(a)
        }
        if config.transactionVersion > 0 {
            // Tagged fields of v3+ (ignorable: an older version's answer drops them).
            var supported = ApiVersionsResponse.SupportedFeatureKey()
            supported.name = "transaction.version"
            supported.minVersion = 0
            supported.maxVersion = 2
            r.supportedFeatures = [supported]
            var finalized = ApiVersionsResponse.FinalizedFeatureKey()
            finalized.name = "transaction.version"
            finalized.minVersionLevel = config.transactionVersion
            finalized.maxVersionLevel = config.transactionVersion
            r.finalizedFeatures = [finalized]
            r.finalizedFeaturesEpoch = 1
        }
        return r
    }

    func handleApiVersions(_ r: ApiVersionsRequest, _ ctx: RequestContext) -> HandlerResult {
        .respond(apiVersionsResponse())
    }
}
