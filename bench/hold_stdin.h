/* The control line of the memory benchmark's clients (bench/h2_hold.c,
 * bench/grpc_hold.c): bench/streams_rss.sh writes a line to their stdin
 * to go on, and closes it to end them. */
#ifndef STP_BENCH_HOLD_STDIN_H
#define STP_BENCH_HOLD_STDIN_H

/* Reads what stdin has, without waiting: a line sets *go; its end (or an
 * error) returns 1, anything else 0. */
int hold_read_stdin(int *go);

#endif /* STP_BENCH_HOLD_STDIN_H */
