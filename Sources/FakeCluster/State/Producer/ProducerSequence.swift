/// Kafka producer sequences are non-negative Int32 values that wrap from Int32.max to 0.
enum ProducerSequence {
    static func add(_ seq: Int32, _ delta: Int32) -> Int32 {
        let sum = Int64(seq) + Int64(delta)
        return sum > Int64(Int32.max) ? Int32(sum - Int64(Int32.max) - 1) : Int32(sum)
    }
    static func next(_ seq: Int32) -> Int32 { add(seq, 1) }
}
