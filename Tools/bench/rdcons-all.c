// Every-partition librdkafka consumer for `Tools/bench-consume.sh --plot`: the peers' rdcons
// reads partition 0 only, so the partition-count sweep needs a peer that, like
// `kgo bench consume --all`, reads every partition of the topic from the beginning without a
// group. The clock starts before the metadata request, as kgo's starts before it learns the
// partitions, so both pay for finding them.
// Usage: rdcons-all BROKERS TOPIC COUNT [librdkafka-key=value ...]
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <librdkafka/rdkafka.h>
#include "rdbench.h"

int main(int argc, char **argv) {
    if (argc < 4) { fprintf(stderr, "usage: %s BROKERS TOPIC COUNT [key=value ...]\n", argv[0]); return 2; }
    long count = atol(argv[3]);
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    // A group id is required by the consumer API even though nothing joins or commits.
    if (set(conf, "bootstrap.servers", argv[1]) || set(conf, "group.id", "rdcons-all-bench")
        || set(conf, "enable.auto.commit", "false")) return 2;
    for (int a = 4; a < argc; a++) {
        char *eq = strchr(argv[a], '=');
        if (eq == NULL) { fprintf(stderr, "expected key=value: %s\n", argv[a]); return 2; }
        *eq = '\0';
        if (set(conf, argv[a], eq + 1)) return 2;
    }
    char why[512];
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, why, sizeof why);
    if (rk == NULL) { fprintf(stderr, "%s\n", why); return 1; }
    double start = seconds();
    rd_kafka_topic_t *t = rd_kafka_topic_new(rk, argv[2], NULL);
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_resp_err_t e = rd_kafka_metadata(rk, 0, t, &md, 10000);
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR || md->topic_cnt != 1 || md->topics[0].err) {
        fprintf(stderr, "metadata for %s: %s\n", argv[2], rd_kafka_err2str(e ? e : md->topics[0].err));
        return 1;
    }
    int partitions = md->topics[0].partition_cnt;
    rd_kafka_topic_partition_list_t *tp = rd_kafka_topic_partition_list_new(partitions);
    for (int p = 0; p < partitions; p++)
        rd_kafka_topic_partition_list_add(tp, argv[2], md->topics[0].partitions[p].id)->offset = RD_KAFKA_OFFSET_BEGINNING;
    rd_kafka_metadata_destroy(md);
    rd_kafka_topic_destroy(t);
    rd_kafka_assign(rk, tp);
    long n = 0, bytes = 0;
    double first = 0, deadline = start + 300;
    while (n < count && seconds() < deadline) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
        if (m == NULL) continue;
        if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
            if (n == 0) first = seconds();
            n++;
            bytes += (long)m->len;
        } else if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            fprintf(stderr, "consume: %s\n", rd_kafka_message_errstr(m));
        }
        rd_kafka_message_destroy(m);
    }
    double secs = seconds() - start;
    printf("RESULT consumer=c-librdkafka-%s-all partitions=%d count=%ld bytes=%ld secs=%.3f first_msg_after=%.3f rec_per_s=%.0f MB_per_s=%.2f\n",
           rd_kafka_version_str(), partitions, n, bytes, secs, n ? first - start : 0.0, n / secs, bytes / secs / 1e6);
    rd_kafka_topic_partition_list_destroy(tp);
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    return n < count ? 1 : 0;
}
