import KafkaCrypto

/// DescribeUserScramCredentials and AlterUserScramCredentials (KIP-554) over ScramStore,
/// with Kafka's per-user errors: RESOURCE_NOT_FOUND, DUPLICATE_RESOURCE,
/// UNACCEPTABLE_CREDENTIAL, UNSUPPORTED_SASL_MECHANISM.
extension FakeCluster {
    static let maxScramIterations = 16384

    func handleDescribeUserScramCredentials(_ r: DescribeUserScramCredentialsRequest, _ ctx: RequestContext) -> HandlerResult {
        var resp = DescribeUserScramCredentialsResponse()
        resp.errorMessage = nil
        // KIP-554: DESCRIBE on the cluster to describe, ALTER to alter.
        if let e = clusterRefusal(ctx, .describe) {
            resp.errorCode = e.code
            resp.errorMessage = "Authorization failed."
            return .respond(resp)
        }
        let all = scramCredentials
        func result(_ user: String) -> DescribeUserScramCredentialsResponse.DescribeUserScramCredentialsResult {
            var res = DescribeUserScramCredentialsResponse.DescribeUserScramCredentialsResult()
            res.user = user
            res.errorMessage = nil
            res.credentialInfos = all.filter { $0.key.user == user }.map { c in
                var i = DescribeUserScramCredentialsResponse.CredentialInfo()
                i.mechanism = ScramStore.wire(c.key.mechanism)
                i.iterations = Int32(c.iterations)
                return i
            }
            if res.credentialInfos.isEmpty {
                res.errorCode = KafkaErrorCode.resourceNotFound.code
                res.errorMessage = "Attempt to describe a user credential that does not exist"
            }
            return res
        }
        let asked = r.users?.map(\.name) ?? []
        if asked.isEmpty {
            var seen: [String] = []
            for c in all where seen.last != c.key.user { seen.append(c.key.user) }
            resp.results = seen.map(result)
            return .respond(resp)
        }
        for (i, user) in asked.enumerated() {
            if asked[..<i].contains(user) { continue }
            if asked[(i + 1)...].contains(user) {
                var res = DescribeUserScramCredentialsResponse.DescribeUserScramCredentialsResult()
                res.user = user
                res.errorCode = KafkaErrorCode.duplicateResource.code
                res.errorMessage = "Cannot describe SCRAM credentials for the same user twice in a single request"
                resp.results.append(res)
            } else {
                resp.results.append(result(user))
            }
        }
        return .respond(resp)
    }

    mutating func handleAlterUserScramCredentials(_ r: AlterUserScramCredentialsRequest, _ ctx: RequestContext) -> HandlerResult {
        var resp = AlterUserScramCredentialsResponse()
        // (user, wire mechanism, the upsertion or nil for a deletion), in request order.
        let items: [(user: String, mechanism: Int8, upsert: AlterUserScramCredentialsRequest.ScramCredentialUpsertion?)] =
            r.deletions.map { ($0.name, $0.mechanism, nil) } + r.upsertions.map { ($0.name, $0.mechanism, $0) }
        var users: [String] = []
        for item in items where !users.contains(item.user) { users.append(item.user) }
        let current = scramCredentials
        let refused = clusterRefusal(ctx, .alter)
        for user in users {
            let mine = items.filter { $0.user == user }
            var res = AlterUserScramCredentialsResponse.AlterUserScramCredentialsResult()
            res.user = user
            res.errorMessage = nil
            func refuse(_ code: KafkaErrorCode, _ why: String) {
                res.errorCode = code.code
                res.errorMessage = why
            }
            var changes: [(ScramStore.Key, ScramStore.Entry)] = []
            // Checked first, as Kafka does: one credential named twice refuses the user whatever else is wrong.
            if let refused {
                refuse(refused, "Authorization failed.")
            } else if Set(mine.map(\.mechanism)).count != mine.count {
                refuse(.duplicateResource, "A user credential cannot be altered twice in the same request")
            }
            for item in mine where res.errorCode == 0 {
                guard !user.isEmpty else { refuse(.unacceptableCredential, "Username must not be empty"); break }
                guard let m = ScramStore.mechanism(item.mechanism) else {
                    refuse(.unsupportedSaslMechanism, "Unknown SCRAM mechanism"); break
                }
                let key = ScramStore.Key(user: user, mechanism: m)
                if let u = item.upsert {
                    guard Int(u.iterations) >= Self.scramIterations else {
                        refuse(.unacceptableCredential, "Too few iterations"); break
                    }
                    guard Int(u.iterations) <= Self.maxScramIterations else {
                        refuse(.unacceptableCredential, "Too many iterations"); break
                    }
                    guard !u.salt.isEmpty, !u.saltedPassword.isEmpty else { refuse(.unacceptableCredential, "Empty salt or salted password"); break }
                    let digest: Digest = m == .scramSha256 ? .sha256 : .sha512
                    changes.append((key, .stored(ScramStore.Credential(saltedPassword: u.saltedPassword, salt: u.salt,
                                                                       iterations: Int(u.iterations), digest: digest))))
                } else {
                    guard current.contains(where: { $0.key == key }) else {
                        refuse(.resourceNotFound, "Attempt to delete a user credential that does not exist"); break
                    }
                    changes.append((key, .deleted))
                }
            }
            // A user's changes apply together or not at all.
            if res.errorCode == 0 { for (k, e) in changes { state.scramUsers.entries[k] = e } }
            resp.results.append(res)
        }
        return .respond(resp)
    }
}
