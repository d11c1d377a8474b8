/*
 * A Pusher Channels client in C over POSIX sockets (plain ws://), driving the sans-IO core
 * through pusher.h: it connects, subscribes the channels it is given (public ones as they
 * are, private and encrypted ones signed on the device with the app secret and master key),
 * and prints one line per event. Reconnects follow the core's policy.
 *
 *   client HOST PORT KEY SECRET CHANNEL... [--count N] [--timeout-ms MS] [--master-key B64]
 *
 * Exits 0 after N channel events (--count; default: run until --timeout-ms), 1 on a fatal
 * error or when the time runs out, 2 on bad arguments. Every failure is printed with its
 * cause. No malloc: the client lives in static memory.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "pusher.h"

/* Memory the client works in: the handle, the receive, transmit and re-key buffers. */
static _Alignas(16) unsigned char client_memory[16384];
static uint8_t rx[16384], tx[2048], hold[2048];

static struct {
    const char *host, *port, *key, *secret;
    char host_header[300];
    const char *channels[PUSHER_MAX_CHANNELS];
    int n_channels;
    long count, timeout_ms;
    uint8_t master_key[32];
    int has_master_key;
} opt = {.count = -1, .timeout_ms = 60000};

static uint64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static uint64_t seed(void) {
    uint64_t s = now_ms() ^ ((uint64_t)getpid() << 32);
    FILE *f = fopen("/dev/urandom", "rb");
    if (f) {
        if (fread(&s, sizeof s, 1, f) != 1) s ^= 0x9e3779b97f4a7c15u;
        fclose(f);
    }
    return s;
}

static PusherStr str(const char *s) { return pusher_str_from_c(s); }

/* Prints a failed call with its cause and returns whether it failed. */
static int failed(const char *what, int32_t r) {
    if (r < 0) fprintf(stderr, "%s: %s (%d)\n", what, pusher_strerror(r), (int)r);
    return r < 0;
}

static int dial(void) {
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res, *ai;
    int err = getaddrinfo(opt.host, opt.port, &hints, &res);
    if (err) {
        fprintf(stderr, "resolve %s: %s\n", opt.host, gai_strerror(err));
        return -1;
    }
    int fd = -1;
    for (ai = res; ai; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
        if (fd < 0) continue;
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) break;
        fprintf(stderr, "connect %s:%s: %s\n", opt.host, opt.port, strerror(errno));
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    return fd;
}

static const char *state_name(PusherState s) {
    switch (s) {
    case PUSHER_STATE_INITIALIZED: return "initialized";
    case PUSHER_STATE_CONNECTING: return "connecting";
    case PUSHER_STATE_CONNECTED: return "connected";
    case PUSHER_STATE_UNAVAILABLE: return "unavailable";
    case PUSHER_STATE_DISCONNECTED: return "disconnected";
    case PUSHER_STATE_FAILED: return "failed";
    }
    return "?";
}

/* Signs a protected channel on the device and answers the client. */
static void authorize(PusherClient *c, const PusherEvent *ev) {
    char out[256];
    size_t len = 0;
    PusherStr auth = {0}, secret = {0};
    int32_t r = pusher_sign_channel(str(opt.key), str(opt.secret),
                                    opt.has_master_key ? opt.master_key : NULL, ev->socket_id,
                                    ev->channel, (PusherStr){0}, (uint8_t *)out, sizeof out, &len,
                                    &auth, &secret);
    if (r == 0 && secret.ptr)
        r = pusher_provide_encrypted_auth(c, ev->channel, ev->socket_id, auth, secret);
    else if (r == 0)
        r = pusher_provide_auth(c, ev->channel, ev->socket_id, auth, (PusherStr){0});
    if (failed("authorize", r))
        failed("auth_failed", pusher_auth_failed(c, ev->channel, ev->socket_id, -1));
}

/* Handles every pending event; returns 1 when the run is complete, -1 on a fatal state. */
static int handle_events(PusherClient *c, long *events) {
    PusherEvent ev;
    int32_t r;
    while ((r = pusher_poll_event(c, &ev)) == 1) {
        switch (ev.kind) {
        case PUSHER_EVENT_KIND_STATE_CHANGED:
            printf("state %s\n", state_name(ev.current));
            if (ev.current == PUSHER_STATE_FAILED || ev.current == PUSHER_STATE_DISCONNECTED)
                return -1;
            break;
        case PUSHER_EVENT_KIND_DISCONNECTED:
            printf("disconnected: %.*s (code %d, retry in %lld ms)\n", (int)ev.reason.len,
                   ev.reason.ptr, (int)ev.code, (long long)ev.retry_in_ms);
            break;
        case PUSHER_EVENT_KIND_AUTH_REQUIRED:
            authorize(c, &ev);
            break;
        case PUSHER_EVENT_KIND_SUBSCRIBED:
            printf("subscribed %.*s\n", (int)ev.channel.len, ev.channel.ptr);
            break;
        case PUSHER_EVENT_KIND_SUBSCRIPTION_ERROR:
            printf("subscription error %.*s (status %d)\n", (int)ev.channel.len, ev.channel.ptr,
                   (int)ev.code);
            break;
        case PUSHER_EVENT_KIND_ERROR:
            printf("server error %d: %.*s\n", (int)ev.code, (int)ev.data.len, ev.data.ptr);
            break;
        case PUSHER_EVENT_KIND_MALFORMED:
            printf("malformed message: %.*s\n", (int)ev.reason.len, ev.reason.ptr);
            break;
        case PUSHER_EVENT_KIND_DECRYPTION_FAILED:
            printf("undecryptable %.*s: %.*s\n", (int)ev.channel.len, ev.channel.ptr,
                   (int)ev.reason.len, ev.reason.ptr);
            break;
        case PUSHER_EVENT_KIND_MESSAGE:
            printf("event %.*s %.*s %.*s\n", (int)ev.channel.len, ev.channel.ptr,
                   (int)ev.name.len, ev.name.ptr, (int)ev.data.len, ev.data.ptr);
#ifdef PLANT_OUT_OF_BOUNDS
            /* The suite's check that the sanitizers are on: an overflow they must report. */
            {
                char copy[4];
                memcpy(copy, ev.data.ptr, ev.data.len);
                printf("planted %c\n", copy[0]);
            }
#endif
            if (ev.channel.ptr && ++*events == opt.count) return 1;
            break;
        default:
            break;
        }
    }
    fflush(stdout);
    return failed("poll_event", r) ? -1 : 0;
}

/* Writes everything queued; returns 0, or -1 when the socket failed. */
static int flush_tx(PusherClient *c, int fd) {
    const uint8_t *p;
    size_t n;
    while (pusher_poll_transmit(c, &p, &n) == 1) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w <= 0) {
            fprintf(stderr, "send: %s\n", w < 0 ? strerror(errno) : "closed");
            return -1;
        }
        if (failed("consume_tx", pusher_consume_tx(c, (size_t)w))) return -1;
    }
    return 0;
}

static int usage(void) {
    fprintf(stderr, "usage: client HOST PORT KEY SECRET CHANNEL... [--count N] "
                    "[--timeout-ms MS] [--master-key BASE64]\n");
    return 2;
}

int main(int argc, char **argv) {
    if (argc < 6) return usage();
    opt.host = argv[1], opt.port = argv[2], opt.key = argv[3], opt.secret = argv[4];
    for (int i = 5; i < argc; i++) {
        if (!strcmp(argv[i], "--count") && i + 1 < argc) opt.count = atol(argv[++i]);
        else if (!strcmp(argv[i], "--timeout-ms") && i + 1 < argc) opt.timeout_ms = atol(argv[++i]);
        else if (!strcmp(argv[i], "--master-key") && i + 1 < argc) {
            if (failed("--master-key", pusher_decode_master_key(str(argv[++i]), opt.master_key)))
                return 2;
            opt.has_master_key = 1;
        } else if (opt.n_channels < PUSHER_MAX_CHANNELS) opt.channels[opt.n_channels++] = argv[i];
        else return usage();
    }
    snprintf(opt.host_header, sizeof opt.host_header, "%s:%s", opt.host, opt.port);

    if (pusher_client_size() > sizeof client_memory) {
        fprintf(stderr, "client needs %zu bytes\n", pusher_client_size());
        return 1;
    }
    PusherConfig config;
    if (failed("config", pusher_config_default(&config, str(opt.key), str(opt.host_header))))
        return 2;
    config.use_tls = false;
    config.max_message = sizeof rx;
    PusherBuffers buffers = {rx, sizeof rx, tx, sizeof tx, NULL, 0};
    PusherClient *c;
    if (failed("init", pusher_client_init(client_memory, sizeof client_memory, &config, buffers,
                                          seed(), &c)))
        return 1;
    if (failed("hold", pusher_client_hold_for_rekey(c, hold, sizeof hold))) return 1;
    for (int i = 0; i < opt.n_channels; i++)
        if (failed(opt.channels[i], pusher_subscribe(c, str(opt.channels[i])))) return 2;

    int fd = -1;
    long events = 0;
    uint64_t start = now_ms();
    pusher_connect(c, start);
    for (;;) {
        PusherAction action;
        while (pusher_poll_action(c, &action) == 1) {
            if (action == PUSHER_ACTION_OPEN_PLAIN) {
                fd = dial();
                if (fd < 0) pusher_handle_closed(c, now_ms());
                else pusher_handle_connected(c, now_ms());
            } else if (action == PUSHER_ACTION_OPEN_TLS) {
                fprintf(stderr, "the server asks for TLS, which this example does not do\n");
                return 1;
            } else {
                if (fd >= 0) flush_tx(c, fd), close(fd), fd = -1;
                pusher_handle_closed(c, now_ms());
            }
        }
        if (fd >= 0 && flush_tx(c, fd) < 0) close(fd), fd = -1, pusher_handle_closed(c, now_ms());

        int done = handle_events(c, &events);
        if (done) {
            if (fd >= 0) close(fd);
            return done > 0 ? 0 : 1;
        }
        uint64_t now = now_ms(), deadline = 0;
        if (now - start > (uint64_t)opt.timeout_ms) {
            fprintf(stderr, "timed out after %ld ms with %ld events\n", opt.timeout_ms, events);
            return 1;
        }
        int wait = 1000;
        if (pusher_poll_timeout(c, &deadline) == 1)
            wait = deadline <= now ? 0 : (deadline - now < 1000 ? (int)(deadline - now) : 1000);
        if (fd >= 0) {
            struct pollfd p = {.fd = fd, .events = POLLIN};
            if (poll(&p, 1, wait) > 0) {
                uint8_t *buf;
                size_t room;
                pusher_rx_buffer(c, &buf, &room);
                if (room > 0) {
                    ssize_t n = recv(fd, buf, room, 0);
                    if (n > 0) pusher_commit_rx(c, (size_t)n, now_ms());
                    else {
                        printf("transport closed: %s\n", n < 0 ? strerror(errno) : "by peer");
                        close(fd), fd = -1;
                        pusher_handle_closed(c, now_ms());
                    }
                }
            }
        } else if (wait > 0) {
            struct timespec ts = {wait / 1000, (long)(wait % 1000) * 1000000L};
            nanosleep(&ts, NULL);
        }
        if (pusher_poll_timeout(c, &deadline) == 1 && deadline <= now_ms())
            pusher_handle_timeout(c, now_ms());
    }
}
