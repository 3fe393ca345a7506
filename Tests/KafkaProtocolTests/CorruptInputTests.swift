import Testing
import KafkaProtocol

/// Decoders on corrupted encodings of every message at every version: each must return a
/// value or a typed error, never trap. (A trap would end the test process.) The real fuzz
/// targets live in Tests/Fuzz; this is the cheap in-process net.
@Suite struct CorruptInputTests {
    @Test func corruptedEncodingsNeverTrap() throws {
        var decodedAnyway = 0
        var rejected = 0
        for type in allGeneratedMessageTypes {
            let counts = try corrupt(type)
            decodedAnyway += counts.0
            rejected += counts.1
        }
        // Both outcomes must occur, or the mutations are not reaching the decoders.
        #expect(decodedAnyway > 0)
        #expect(rejected > 0)
    }

    private func corrupt<M: RandomizableMessage>(_ type: M.Type) throws -> (Int, Int) {
        var ok = 0
        var failed = 0
        for version in M.validVersions {
            var g = SeededGenerator(seed: UInt64(bitPattern: Int64(version)) &+ 0xC0FFEE)
            let bytes = try M.random(version: version, using: &g).encoded(version: version)
            for _ in 0 ..< 12 {
                var b = bytes
                switch g.next() % 3 {
                case 0:
                    b = Array(b.prefix(Int(g.next() % UInt64(b.count + 1))))
                case 1 where !b.isEmpty:
                    b[Int(g.next() % UInt64(b.count))] = UInt8(truncatingIfNeeded: g.next())
                default:
                    b.insert(UInt8(truncatingIfNeeded: g.next()), at: Int(g.next() % UInt64(b.count + 1)))
                }
                do {
                    _ = try M.decode(b, version: version)
                    ok += 1
                } catch {
                    failed += 1
                }
            }
        }
        return (ok, failed)
    }
}
