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
        return r
    }

    func handleApiVersions(_ r: ApiVersionsRequest, _ ctx: RequestContext) -> HandlerResult {
        .respond(apiVersionsResponse())
    }
}
