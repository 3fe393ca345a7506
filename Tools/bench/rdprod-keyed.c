// Keyed librdkafka producer for Tools/bench-produce.sh: the peers' rdprod writes only
// partition 0, so the 12-partition keyed case needs its own driver. Keys are "key-<i % 1000>"
// as in `kgo bench produce --partitions P`; partitioner=murmur2_random makes librdkafka hash
// them as the Java client (and kgo) do, so both clients spread the same records the same way.
// Usage: rdprod-keyed BROKERS TOPIC COUNT SIZE [librdkafka-key=value ...]
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <librdkafka/rdkafka.h>
#include "rdbench.h"

static long ok_count = 0, err_count = 0;

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
    (void)rk; (void)opaque;
    if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) { ok_count++; return; }
    if (err_count++ < 3) fprintf(stderr, "delivery failed: %s\n", rd_kafka_err2str(m->err));
}

int main(int argc, char **argv) {
    if (argc < 5) { fprintf(stderr, "usage: %s BROKERS TOPIC COUNT SIZE [key=value ...]\n", argv[0]); return 2; }
    long count = atol(argv[3]);
    int size = atoi(argv[4]);
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (set(conf, "bootstrap.servers", argv[1]) || set(conf, "acks", "all") || set(conf, "partitioner", "murmur2_random")
        || set(conf, "queue.buffering.max.messages", "1000000") || set(conf, "queue.buffering.max.kbytes", "1048576")) return 2;
    for (int a = 5; a < argc; a++) {
        char *eq = strchr(argv[a], '=');
        if (eq == NULL) { fprintf(stderr, "expected key=value: %s\n", argv[a]); return 2; }
        *eq = '\0';
        if (set(conf, argv[a], eq + 1)) return 2;
    }
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    char why[512];
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, why, sizeof why);
    if (rk == NULL) { fprintf(stderr, "%s\n", why); return 1; }
    char *value = malloc((size_t)size);
    for (int i = 0; i < size; i++) value[i] = (char)('a' + (i * 7 + i / 13) % 26);
    char key[32];
    double start = seconds();
    for (long i = 0; i < count; i++) {
        snprintf(value, (size_t)size, "%ld", i);
        int klen = snprintf(key, sizeof key, "key-%ld", i % 1000);
        rd_kafka_resp_err_t e;
        while ((e = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(argv[2]), RD_KAFKA_V_KEY(key, (size_t)klen),
                                      RD_KAFKA_V_VALUE(value, (size_t)size), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                      RD_KAFKA_V_END)) == RD_KAFKA_RESP_ERR__QUEUE_FULL)
            rd_kafka_poll(rk, 10);
        if (e != RD_KAFKA_RESP_ERR_NO_ERROR) { fprintf(stderr, "produce: %s\n", rd_kafka_err2str(e)); return 1; }
        if ((i % 1024) == 0) rd_kafka_poll(rk, 0);
    }
    rd_kafka_flush(rk, 120000);
    double secs = seconds() - start;
    printf("RESULT producer=c-librdkafka-%s-keyed count=%ld size=%d delivered=%ld failed=%ld secs=%.3f rec_per_s=%.0f MB_per_s=%.2f\n",
           rd_kafka_version_str(), count, size, ok_count, err_count, secs, ok_count / secs, ok_count * (double)size / secs / 1e6);
    rd_kafka_destroy(rk);
    free(value);
    return err_count ? 1 : 0;
}
