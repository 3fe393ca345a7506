extension Record {
    /// A record built from its parts rather than decoded from a fetch: for users' tests of
    /// code that handles consumed records. The key, value and headers are laid out in one
    /// buffer the way a decoded record's are, so every accessor behaves the same.
    public init(offset: Int64, timestamp: Int64, key: [UInt8]?, value: [UInt8]?, headers: [RecordHeader] = [],
                attributes: Int8 = 0) {
        var buffer: [UInt8] = []
        buffer.reserveCapacity((key?.count ?? 0) + (value?.count ?? 0) + headers.count * 8)
        let keyStart = buffer.count
        if let key { buffer += key }
        let valueStart = buffer.count
        if let value { buffer += value }
        let headersStart = buffer.count
        for h in headers {
            RecordBatchEncoder.appendVarint(Int64(h.key.utf8.count), to: &buffer)
            buffer += h.key.utf8
            if let v = h.value {
                RecordBatchEncoder.appendVarint(Int64(v.count), to: &buffer)
                buffer += v
            } else {
                RecordBatchEncoder.appendVarint(-1, to: &buffer)
            }
        }
        self.init(offset: offset, timestamp: timestamp, attributes: attributes, buffer: buffer,
                  keyStart: keyStart, keyLength: key?.count ?? -1, valueStart: valueStart, valueLength: value?.count ?? -1,
                  headersRange: headersStart ..< buffer.count, headerCount: headers.count)
    }
}
