/* The baggage scanner's ways compared on one input (scan_agree.c). */
#ifndef STP_TESTS_SCAN_AGREE_H
#define STP_TESTS_SCAN_AGREE_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* 1 when the scanner's paths (one byte or 16 bytes at a time, over the
 * input or over a padded copy) find the same members (the same slices)
 * and skip the same number of malformed ones; *members is how many. 0
 * when they differ; -1 when this CPU or build has only one path. */
int stp_test_scans_agree(const char *in, size_t len, size_t *members);

#ifdef __cplusplus
}
#endif

#endif
