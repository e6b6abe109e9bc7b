/* Names of the gateway's own threads, as ps -L, top -H, perf and
 * /proc/<pid>/task/<tid>/comm show them (Paho names its own two:
 * MQTTAsync_rcv and MQTTAsync_send; libmicrohttpd's is MHD-listen). */
#ifndef HALLGW_THREADS_H
#define HALLGW_THREADS_H

/* Names the calling thread; Linux keeps at most 15 characters. Failure is
 * harmless and ignored. */
void threads_name_self(const char *name);

#endif
