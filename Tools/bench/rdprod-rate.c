// Paced librdkafka producer for Tools/bench-latency.sh: COUNT records of SIZE bytes to
// partition 0 at RATE records/s (topped up every millisecond), each message's opaque its
// index, and the produce-to-ack latency of each taken in the delivery callback (served by
// rd_kafka_poll, which the pacing loop blocks in between top-ups), the first second's
// records left out. Prints the
// same RESULT line shape as `kgo bench produce --rate`.
// Usage: rdprod-rate BROKERS TOPIC COUNT SIZE RATE [librdkafka-key=value ...]
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <librdkafka/rdkafka.h>
#include "rdbench.h"

static long ok_count = 0, err_count = 0, measured = 0, warm_up = 0;
static long long *sent_ns, *latency_ns;

static long long now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
    (void)rk; (void)opaque;
    long i = (long)(size_t)m->_private;
    if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        ok_count++;
        if (i >= warm_up) latency_ns[measured++] = now_ns() - sent_ns[i];
        return;
    }
    if (err_count++ < 3) fprintf(stderr, "delivery failed: %s\n", rd_kafka_err2str(m->err));
}

static int cmp(const void *a, const void *b) {
    long long x = *(const long long *)a, y = *(const long long *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
    if (argc < 6) { fprintf(stderr, "usage: %s BROKERS TOPIC COUNT SIZE RATE [key=value ...]\n", argv[0]); return 2; }
    long count = atol(argv[3]);
    int size = atoi(argv[4]);
    double rate = atof(argv[5]);
    if (count <= 0 || size <= 0 || rate <= 0) { fprintf(stderr, "COUNT, SIZE and RATE must be positive\n"); return 2; }
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (set(conf, "bootstrap.servers", argv[1]) || set(conf, "acks", "all")) return 2;
    for (int a = 6; a < argc; a++) {
        char *eq = strchr(argv[a], '=');
        if (eq == NULL) { fprintf(stderr, "expected key=value: %s\n", argv[a]); return 2; }
        *eq = '\0';
        if (set(conf, argv[a], eq + 1)) return 2;
    }
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    char why[512];
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, why, sizeof why);
    if (rk == NULL) { fprintf(stderr, "%s\n", why); return 1; }
    // The first second's records are not counted: steady state, not the start-up.
    warm_up = (long)rate < count / 2 ? (long)rate : count / 2;
    sent_ns = calloc((size_t)count, sizeof *sent_ns);
    latency_ns = calloc((size_t)count, sizeof *latency_ns);
    char *value = malloc((size_t)size);
    for (int i = 0; i < size; i++) value[i] = (char)('a' + (i * 7 + i / 13) % 26);
    // Connected and metadata known before the clock starts, as kgo's bench does.
    const struct rd_kafka_metadata *md;
    rd_kafka_topic_t *t = rd_kafka_topic_new(rk, argv[2], NULL);
    if (rd_kafka_metadata(rk, 0, t, &md, 10000) == RD_KAFKA_RESP_ERR_NO_ERROR) rd_kafka_metadata_destroy(md);
    rd_kafka_topic_destroy(t);
    long long start = now_ns();
    long i = 0;
    while (i < count) {
        long due = (long)((double)(now_ns() - start) * rate / 1e9) + 1;
        if (due > count) due = count;
        for (; i < due; i++) {
            snprintf(value, (size_t)size, "%ld", i);
            sent_ns[i] = now_ns();
            rd_kafka_resp_err_t e;
            while ((e = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(argv[2]), RD_KAFKA_V_PARTITION(0),
                                          RD_KAFKA_V_VALUE(value, (size_t)size), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                          RD_KAFKA_V_OPAQUE((void *)(size_t)i), RD_KAFKA_V_END)) == RD_KAFKA_RESP_ERR__QUEUE_FULL)
                rd_kafka_poll(rk, 1);
            if (e != RD_KAFKA_RESP_ERR_NO_ERROR) { fprintf(stderr, "produce: %s\n", rd_kafka_err2str(e)); return 1; }
        }
        // Waits up to 1 ms, serving delivery callbacks the moment they come (not after a nap).
        rd_kafka_poll(rk, 1);
    }
    rd_kafka_flush(rk, 60000);
    double secs = (double)(now_ns() - start) / 1e9;
    qsort(latency_ns, (size_t)measured, sizeof *latency_ns, cmp);
    double p50 = measured ? latency_ns[measured / 2] / 1e6 : 0, p99 = measured ? latency_ns[(measured * 99) / 100] / 1e6 : 0;
    double max = measured ? latency_ns[measured - 1] / 1e6 : 0;
    printf("RESULT producer=c-librdkafka-%s count=%ld size=%d delivered=%ld failed=%ld secs=%.3f rec_per_s=%.0f "
           "p50_ms=%.2f p99_ms=%.2f max_ms=%.2f\n",
           rd_kafka_version_str(), count, size, ok_count, err_count, secs, (double)ok_count / secs, p50, p99, max);
    rd_kafka_destroy(rk);
    return err_count ? 1 : 0;
}
