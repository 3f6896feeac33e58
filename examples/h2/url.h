/* The example client's URL and connection: http://HOST[:PORT][/PATH] and
 * a blocking TCP connection with timeouts. */
#ifndef STP_EXAMPLES_H2_URL_H
#define STP_EXAMPLES_H2_URL_H

#include <stddef.h>

/* Splits url into its parts: host and port NUL-terminated in buf (cap
 * bytes), authority (`host:port` as written) likewise, path pointing into
 * url ("/" when it has none). An IPv6 host is written [::1]. Returns 0, or
 * -1 when url does not start with http:// or does not fit. */
int url_parse(const char *url, char *buf, size_t cap, const char **host,
              const char **port, const char **authority, const char **path);

/* A connected TCP socket to host:port (any address family), whose
 * connect, send and recv each give up after `seconds`. Returns it, or -1
 * with the reason printed to stderr. */
int url_connect(const char *host, const char *port, int seconds);

#endif /* STP_EXAMPLES_H2_URL_H */
