/// UpdateFeatures (KIP-584) over the cluster's FeatureLevels. Any broker answers (KRaft
/// brokers forward it to the controller, as ElectLeaders). A request applies whole or not
/// at all: each refused feature carries its own error (INVALID_UPDATE_VERSION for a level
/// outside the supported range, an unknown feature, or a downgrade not asked for as one),
/// and the others FEATURE_UPDATE_FAILED; applied, the finalized epoch goes up by one.
extension FakeCluster {
    mutating func handleUpdateFeatures(_ r: UpdateFeaturesRequest, _ ctx: RequestContext) -> HandlerResult {
        var resp = UpdateFeaturesResponse()
        resp.errorMessage = nil
        if let e = clusterRefusal(ctx, .alter) {
            resp.errorCode = e.code
            resp.errorMessage = "Authorization failed."
            resp.results = r.featureUpdates.map {
                var res = UpdateFeaturesResponse.UpdatableFeatureResult()
                res.feature = $0.feature
                res.errorCode = e.code
                res.errorMessage = "Authorization failed."
                return res
            }
            return .respond(resp)
        }
        var names: [String] = []
        var refusals: [String: String] = [:]
        var levels: [(name: String, level: Int16)] = []
        for u in r.featureUpdates {
            if names.contains(u.feature) {
                refusals[u.feature] = "Feature \(u.feature) named more than once"
                continue
            }
            names.append(u.feature)
            // v0 has only AllowDowngrade; v1 replaced it with UpgradeType.
            let kind: FeatureLevels.Kind? = ctx.version == 0 ? (u.allowDowngrade ? .safeDowngrade : .upgrade) : FeatureLevels.Kind(rawValue: u.upgradeType)
            if u.feature.isEmpty {
                refusals[u.feature] = "Invalid empty feature name"
            } else if let why = state.features.problem(u.feature, level: u.maxVersionLevel, kind: kind) {
                refusals[u.feature] = why
            } else {
                levels.append((u.feature, max(0, u.maxVersionLevel)))
            }
        }
        let failed = names.first { refusals[$0] != nil }
        if failed == nil && !r.validateOnly && !levels.isEmpty { state.features.apply(levels) }
        resp.results = names.map { name in
            var res = UpdateFeaturesResponse.UpdatableFeatureResult()
            res.feature = name
            res.errorMessage = nil
            if let why = refusals[name] {
                res.errorCode = KafkaErrorCode.invalidUpdateVersion.code
                res.errorMessage = why
            } else if let failed {
                res.errorCode = KafkaErrorCode.featureUpdateFailed.code
                res.errorMessage = "Not applied: the update of \(failed) in the same request was refused"
            }
            return res
        }
        return .respond(resp)
    }
}
