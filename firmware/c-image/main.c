/*
 * A C firmware image that links libpusher_ffi.a the way an ESP-IDF, Zephyr or bare-metal
 * project would, for the footprint report: a vector table, a reset handler, and a main that
 * drives the client through the whole sans-IO API over a transport the board would supply
 * (here two stubs). Built twice by scripts/footprint: with -DUSE_PUSHER and without (the
 * empty image it is measured against). No libc, no heap.
 */
#include <stddef.h>
#include <stdint.h>

#ifdef USE_PUSHER
#include "pusher.h"
#endif

extern uint32_t _sidata, _sdata, _edata, _sbss, _ebss, _stack_top;
int main(void);

void reset(void) {
    for (uint32_t *s = &_sidata, *d = &_sdata; d < &_edata;) *d++ = *s++;
    for (uint32_t *d = &_sbss; d < &_ebss;) *d++ = 0;
    main();
    for (;;) {}
}

__attribute__((section(".vector_table"), used)) static const void *vectors[2] = {
    &_stack_top, (const void *)reset};

/* The board's transport and clock (stubs: the image is measured, not run). */
volatile uint32_t ticks;
__attribute__((noinline)) static size_t transport_read(uint8_t *buf, size_t room) {
    if (room) buf[0] = (uint8_t)ticks;
    return ticks & 1u;
}
__attribute__((noinline)) static size_t transport_write(const uint8_t *buf, size_t len) {
    ticks += buf[0];
    return len;
}

#ifdef USE_PUSHER
static _Alignas(8) uint8_t client_memory[2048];
static uint8_t rx[4096], tx[512], hold[512];

int main(void) {
    PusherConfig config;
    PusherClient *c;
    PusherBuffers buffers = {rx, sizeof rx, tx, sizeof tx, NULL, 0};
    if (pusher_client_size() > sizeof client_memory) return 1;
    pusher_config_default(&config, PUSHER_STR("app-key"), PUSHER_STR("ws-eu.pusher.com"));
    config.use_tls = 0; /* the board's TLS stack would wrap the transport */
    if (pusher_client_init(client_memory, sizeof client_memory, &config, buffers, ticks, &c))
        return 1;
    pusher_client_hold_for_rekey(c, hold, sizeof hold);
    pusher_subscribe(c, PUSHER_STR("sensors"));
    pusher_subscribe(c, PUSHER_STR("private-commands"));
    pusher_connect(c, ticks);
    for (;;) {
        PusherAction action;
        PusherEvent ev;
        const uint8_t *out;
        uint8_t *in;
        size_t n;
        uint64_t deadline;
        while (pusher_poll_action(c, &action) == 1) {
            if (action == PUSHER_ACTION_CLOSE) pusher_handle_closed(c, ticks);
            else pusher_handle_connected(c, ticks);
        }
        while (pusher_poll_transmit(c, &out, &n) == 1) pusher_consume_tx(c, transport_write(out, n));
        pusher_rx_buffer(c, &in, &n);
        size_t got = transport_read(in, n);
        if (got) pusher_commit_rx(c, got, ticks);
        if (pusher_poll_timeout(c, &deadline) == 1 && deadline <= ticks)
            pusher_handle_timeout(c, ticks);
        while (pusher_poll_event(c, &ev) == 1) {
            if (ev.kind == PUSHER_EVENT_KIND_AUTH_REQUIRED)
                pusher_authorize_locally(c, ev.channel, PUSHER_STR("app-key"),
                                         PUSHER_STR("app-secret"), (PusherStr){0});
            else if (ev.kind == PUSHER_EVENT_KIND_MESSAGE)
                transport_write((const uint8_t *)ev.data.ptr, ev.data.len);
        }
    }
}
#else
int main(void) {
    uint8_t buf[16];
    for (;;) transport_write(buf, transport_read(buf, sizeof buf));
}
#endif
