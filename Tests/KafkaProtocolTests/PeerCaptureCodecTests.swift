import Foundation
import Testing
import KafkaProtocol

/// Every request and response recorded between real clients (librdkafka, kafka-python) and
/// the Tansu broker (Fixtures/peer-captures, see its README) goes through the generated
/// codec. Requests re-encode to the recorded bytes exactly; responses decode to their end
/// and re-encode to the same value. The peers' known deviations from a canonical encoding
/// are pinned by name, so a new one fails here.
@Suite struct PeerCaptureCodecTests {
    struct Exchange {
        var file: String
        var apiKey: ApiKey
        var version: Int16
        var request: [UInt8]
        var response: [UInt8]?
    }

    static func loadExchanges() throws -> [Exchange] {
        let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Fixtures/peer-captures")
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.path)
            .filter { $0.hasSuffix(".jsonl") }.sorted()
        var out: [Exchange] = []
        for name in names {
            let text = try String(contentsOf: dir.appendingPathComponent(name), encoding: .utf8)
            for line in text.split(separator: "\n") where !line.isEmpty {
                let obj = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
                let key = try #require(obj["api_key"] as? Int)
                let version = try #require(obj["api_version"] as? Int)
                let request = try #require(obj["request"] as? String)
                out.append(Exchange(file: name, apiKey: ApiKey(Int16(key)), version: Int16(version),
                                    request: hex(request), response: (obj["response"] as? String).map(hex)))
            }
        }
        return out
    }

    static func hex(_ s: String) -> [UInt8] {
        let chars = Array(s.utf8)
        func nibble(_ c: UInt8) -> UInt8 { c >= 97 ? c - 87 : (c >= 65 ? c - 55 : c - 48) }
        var out: [UInt8] = []
        out.reserveCapacity(chars.count / 2)
        var i = 0
        while i + 1 < chars.count {
            out.append(nibble(chars[i]) << 4 | nibble(chars[i + 1]))
            i += 2
        }
        return out
    }

    /// Where two encodings part, for a readable failure.
    static func firstDifference(_ a: [UInt8], _ b: [UInt8]) -> String {
        var i = 0
        while i < a.count && i < b.count && a[i] == b[i] { i += 1 }
        return "at byte \(i) (lengths \(a.count) and \(b.count))"
    }

    @Test func capturedRequestsDecodeAndReencodeExactly() throws {
        let exchanges = try Self.loadExchanges()
        #expect(exchanges.count > 100)
        var withTrailingBytes: Set<String> = []
        for ex in exchanges {
            let what = "\(ex.file): \(ex.apiKey.name) v\(ex.version) request"
            do {
                let parsed = try parseRequestHeader(ex.request)
                #expect(parsed.apiKey == ex.apiKey && parsed.apiVersion == ex.version, "\(what)")
                var end = parsed.body
                let body = try decodeRequest(apiKey: parsed.apiKey, version: parsed.apiVersion, from: &end)
                let consumed = Array(ex.request[0 ..< end.offset])
                if !end.isAtEnd { withTrailingBytes.insert("\(ex.apiKey.name) v\(ex.version)") }
                let again = try encodeRequestFrame(body, version: ex.version, correlationId: parsed.correlationId, clientId: parsed.clientId)
                #expect(Array(again.dropFirst(4)) == consumed, "\(what): re-encoded bytes differ \(Self.firstDifference(Array(again.dropFirst(4)), consumed))")
            } catch {
                Issue.record("\(what): \(error)")
            }
        }
        // librdkafka's "all topics" Metadata request (librdkafka issue #5049) is the only one
        // that leaves bytes after the body; brokers ignore them, and so does decodeBody().
        #expect(withTrailingBytes == ["Metadata v12"])
    }

    @Test func capturedResponsesDecodeAndReencodeToTheSameValue() throws {
        var exact = 0
        var shorter: Set<String> = []
        for ex in try Self.loadExchanges() {
            guard let response = ex.response else { continue }
            let what = "\(ex.file): \(ex.apiKey.name) v\(ex.version) response"
            do {
                let type = try #require(responseType(for: ex.apiKey))
                let same = try reencode(type, version: ex.version, frame: response)
                if same.bytes == response {
                    exact += 1
                } else {
                    // Tansu writes known tagged fields even at their default values; a
                    // canonical encoder leaves them out, so ours may only be shorter.
                    #expect(same.bytes.count < response.count, "\(what): \(Self.firstDifference(same.bytes, response))")
                    shorter.insert("\(ex.apiKey.name) v\(ex.version)")
                }
                #expect(same.valueRoundTrips, "\(what): the re-encoded bytes decode to another value")
            } catch {
                Issue.record("\(what): \(error)")
            }
        }
        #expect(exact > 80)
        #expect(shorter == ["ApiVersions v3", "ApiVersions v4", "Fetch v16"])
    }

    /// Decodes a response frame, re-encodes it, and decodes that again.
    private func reencode<R: KafkaResponse>(_ type: R.Type, version: Int16, frame: [UInt8]) throws -> (bytes: [UInt8], valueRoundTrips: Bool) {
        let parsed = try parseResponse(for: R.self, version: version, frame: frame)
        let bytes = Array(try encodeResponseFrame(parsed.response, version: version, correlationId: parsed.correlationId).dropFirst(4))
        let again = try parseResponse(for: R.self, version: version, frame: bytes)
        return (bytes, again.response == parsed.response && again.correlationId == parsed.correlationId)
    }
}
