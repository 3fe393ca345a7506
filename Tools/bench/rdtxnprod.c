// Transactional librdkafka producer for Tools/bench-txn.sh: COUNT records of SIZE bytes to
// partition 0, in transactions of PER records (init_transactions once, then begin, produce
// PER, commit), timed from init_transactions to the last commit, as
// `kgo bench produce --transactional-id ID --transaction-records PER` is timed from its
// first begin. Prints a RESULT line in the peers' rdprod format.
// Usage: rdtxnprod BROKERS TOPIC COUNT SIZE PER TRANSACTIONAL_ID [librdkafka-key=value ...]
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

// Reports a failed transactional call and says whether it failed (the error is destroyed).
static int failed(const char *what, rd_kafka_error_t *e) {
    if (e == NULL) return 0;
    fprintf(stderr, "%s: %s%s\n", what, rd_kafka_error_string(e),
            rd_kafka_error_txn_requires_abort(e) ? " (abortable)" : rd_kafka_error_is_fatal(e) ? " (fatal)" : "");
    rd_kafka_error_destroy(e);
    return 1;
}

int main(int argc, char **argv) {
    if (argc < 7) {
        fprintf(stderr, "usage: %s BROKERS TOPIC COUNT SIZE PER TRANSACTIONAL_ID [key=value ...]\n", argv[0]);
        return 2;
    }
    const char *topic = argv[2];
    long count = atol(argv[3]);
    int size = atoi(argv[4]);
    long per = atol(argv[5]);
    if (count <= 0 || size <= 0 || per <= 0) { fprintf(stderr, "COUNT, SIZE and PER must be positive\n"); return 2; }
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (set(conf, "bootstrap.servers", argv[1]) || set(conf, "transactional.id", argv[6]) || set(conf, "acks", "all")
        || set(conf, "queue.buffering.max.messages", "1000000") || set(conf, "queue.buffering.max.kbytes", "1048576")) return 2;
    for (int a = 7; a < argc; a++) {
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
    double start = seconds();
    if (failed("init_transactions", rd_kafka_init_transactions(rk, 30000))) return 1;
    long transactions = 0;
    for (long from = 0; from < count; from += per) {
        long to = from + per < count ? from + per : count;
        if (failed("begin_transaction", rd_kafka_begin_transaction(rk))) return 1;
        for (long i = from; i < to; i++) {
            snprintf(value, (size_t)size, "%ld", i);   // vary the first bytes, as rdprod does
            rd_kafka_resp_err_t e;
            while ((e = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(0), RD_KAFKA_V_VALUE(value, (size_t)size),
                                          RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END)) == RD_KAFKA_RESP_ERR__QUEUE_FULL)
                rd_kafka_poll(rk, 10);
            if (e != RD_KAFKA_RESP_ERR_NO_ERROR) { fprintf(stderr, "produce: %s\n", rd_kafka_err2str(e)); return 1; }
            if ((i & 1023) == 0) rd_kafka_poll(rk, 0);
        }
        // Commit flushes the transaction's records first and serves the delivery callbacks.
        if (failed("commit_transaction", rd_kafka_commit_transaction(rk, 60000))) {
            failed("abort_transaction", rd_kafka_abort_transaction(rk, 60000));
            return 1;
        }
        transactions++;
    }
    double secs = seconds() - start;
    fprintf(stderr, "committed %ld transactions of up to %ld records\n", transactions, per);
    printf("RESULT producer=c-librdkafka-%s-txn count=%ld size=%d delivered=%ld failed=%ld secs=%.3f rec_per_s=%.0f MB_per_s=%.2f\n",
           rd_kafka_version_str(), count, size, ok_count, err_count, secs, ok_count / secs, ok_count * (double)size / secs / 1e6);
    rd_kafka_destroy(rk);
    free(value);
    return err_count ? 1 : 0;
}
