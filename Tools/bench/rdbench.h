// What the librdkafka benchmark peers in Tools/bench share: a monotonic clock in seconds and
// a configuration setter that reports what librdkafka refused.
#ifndef KGO_RDBENCH_H
#define KGO_RDBENCH_H
#include <stdio.h>
#include <time.h>
#include <librdkafka/rdkafka.h>

static inline double seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static inline int set(rd_kafka_conf_t *c, const char *k, const char *v) {
    char why[256];
    if (rd_kafka_conf_set(c, k, v, why, sizeof why) == RD_KAFKA_CONF_OK) return 0;
    fprintf(stderr, "%s=%s: %s\n", k, v, why);
    return -1;
}
#endif
