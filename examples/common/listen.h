/* What the example servers share before serving: a listening socket on
 * 127.0.0.1 and the signals that stop them. */
#ifndef STP_EXAMPLES_COMMON_LISTEN_H
#define STP_EXAMPLES_COMMON_LISTEN_H

/* A TCP socket listening on 127.0.0.1:port (0: a free port the kernel
 * picks), with SO_REUSEADDR and `backlog`; *bound_port is the port it got.
 * Returns the socket, or -1 (after perror) on failure. */
int listen_loopback(int port, int backlog, int *bound_port);

/* SIGTERM and SIGINT go to handler (an async-signal-safe one); SIGPIPE is
 * ignored, so that a peer gone away is a write error, not an exit. */
void catch_stop_signals(void (*handler)(int));

#endif /* STP_EXAMPLES_COMMON_LISTEN_H */
