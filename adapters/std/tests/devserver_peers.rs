//! Third-party peers against our dev server (in `./scripts/test interop`, where a missing
//! peer fails the run): pusher-js, pysher and the official npm and PyPI libraries, the same
//! scenarios `tests/soketi.rs` runs against soketi.

mod common;

use common::scenarios::{self, Peer};
use common::*;

#[test]
fn pusher_js_on_public_private_and_presence_channels() {
    for compat in COMPATS {
        let server = Dev::start(compat);
        scenarios::third_party_client_receives_official_triggers(&server, Peer::PusherJs);
    }
}

#[test]
fn pysher_on_public_private_and_presence_channels() {
    for compat in COMPATS {
        let server = Dev::start(compat);
        scenarios::third_party_client_receives_official_triggers(&server, Peer::Pysher);
    }
}

#[test]
fn official_libraries_trigger() {
    scenarios::official_libraries_trigger(&Dev::start(pusher_dev_server::Compat::Pusher));
}

#[test]
fn official_libraries_query_and_batch() {
    for compat in COMPATS {
        scenarios::official_libraries_query_and_batch(&Dev::start(compat));
    }
}

#[test]
fn pusher_js_receives_our_trigger() {
    for compat in COMPATS {
        scenarios::pusher_js_receives_our_trigger(&Dev::start(compat));
    }
}

#[test]
fn typed_payloads_with_third_parties() {
    for compat in COMPATS {
        scenarios::typed_payloads_with_third_parties(&Dev::start(compat));
    }
}
