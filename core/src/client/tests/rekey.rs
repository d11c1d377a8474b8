//! Encrypted channels whose key rotates: a failed decryption re-authorizes once, held events
//! open with the new secret, and every event that still does not open is reported.

use super::*;

const CMD: &str = "private-encrypted-cmd";

/// Base64 of 32 bytes of `b`.
fn b64(b: u8) -> String {
    let out: [u8; 44] = crate::base64::encode(&[b; 32]);
    core::str::from_utf8(&out).unwrap().to_string()
}

/// An event on `channel` sealed with the key of 32 bytes of `key`.
fn sealed(channel: &str, event: &str, key: u8, plain: &str) -> String {
    let (mut scratch, mut out) = ([0u8; 256], [0u8; 512]);
    let data = crate::encrypted::encrypt(&[key; 32], &[9; 24], plain, &mut scratch, &mut out)
        .unwrap()
        .replace('"', "\\\"");
    format!(r#"{{"event":"{event}","channel":"{channel}","data":"{data}"}}"#)
}

fn message(event: &str, plain: &str) -> String {
    format!(
        r#"message {event} Some("{CMD}") Some("{}") None"#,
        plain.replace('"', "\\\"")
    )
}

/// Subscribed to `CMD` with key 1 on socket `1.2`, with `hold` bytes of hold.
fn rig(hold: usize) -> Rig {
    let mut r = Rig::new();
    r.c.hold_for_rekey(leak(hold));
    r.c.subscribe(CMD).unwrap();
    r.c.subscribe("news").unwrap();
    r.connected("1.2");
    assert!(r.take().contains(&format!("auth {CMD} 1.2")));
    r.c.provide_encrypted_auth(CMD, "1.2", "k:s", &b64(1))
        .unwrap();
    r.s.text(&format!(
        r#"{{"event":"pusher_internal:subscription_succeeded","channel":"{CMD}"}}"#
    ));
    r.s.text(r#"{"event":"pusher_internal:subscription_succeeded","channel":"news"}"#);
    r.pump();
    r.take();
    r.s.take_got();
    r
}

#[test]
fn a_rotated_key_is_fetched_once_and_held_events_open_with_it_in_order() {
    let mut r = rig(512);
    r.s.text(&sealed(CMD, "open", 2, r#"{"door":1}"#));
    r.s.text(&sealed(CMD, "open", 2, r#"{"door":2}"#));
    r.s.text(r#"{"event":"weather","channel":"news","data":"sun"}"#);
    r.pump();
    // One auth request; the channel's events wait, others' do not.
    assert_eq!(
        r.take(),
        [
            format!("auth {CMD} 1.2"),
            r#"message weather Some("news") Some("sun") None"#.to_string(),
        ]
    );
    assert_eq!(r.c.channel_state(CMD), Some(ChannelState::Subscribed));
    // Drivers that poll for the request (pusher-embassy) see it too, until answered.
    let asked = r.c.auth_request().unwrap();
    assert_eq!((asked.channel(), asked.socket_id()), (Some(CMD), "1.2"));
    r.c.provide_encrypted_auth(CMD, "1.2", "k:s", &b64(2))
        .unwrap();
    assert_eq!(r.c.auth_request(), None);
    r.pump();
    assert_eq!(
        r.take(),
        [
            message("open", r#"{"door":1}"#),
            message("open", r#"{"door":2}"#)
        ]
    );
    // Re-keying sends nothing: the subscription stands.
    assert_eq!(r.s.take_got(), Vec::<String>::new());
    r.s.text(&sealed(CMD, "open", 2, r#"{"door":3}"#));
    r.pump();
    assert_eq!(r.take(), [message("open", r#"{"door":3}"#)]);
}

#[test]
fn a_refused_rekey_reports_the_held_events_and_is_not_asked_again_until_one_opens() {
    let mut r = rig(512);
    r.s.text(&sealed(CMD, "open", 3, "{}"));
    r.pump();
    assert_eq!(r.take(), [format!("auth {CMD} 1.2")]);
    r.c.auth_failed(CMD, "1.2", Some(403)).unwrap();
    r.pump();
    assert_eq!(r.take(), [format!("undecryptable {CMD} Forged")]);
    assert_eq!(r.c.channel_state(CMD), Some(ChannelState::Subscribed));
    // Spent: garbage is reported at once and asks no one.
    r.s.text(&sealed(CMD, "open", 3, "{}"));
    r.pump();
    assert_eq!(r.take(), [format!("undecryptable {CMD} Forged")]);
    // An event that opens trusts the secret again; the next failure asks again.
    r.s.text(&sealed(CMD, "open", 1, "{}"));
    r.s.text(&sealed(CMD, "open", 4, "{}"));
    r.pump();
    assert_eq!(r.take(), [message("open", "{}"), format!("auth {CMD} 1.2")]);
    // The new secret does not open it either: reported.
    r.c.provide_encrypted_auth(CMD, "1.2", "k:s", &b64(5))
        .unwrap();
    r.pump();
    assert_eq!(r.take(), [format!("undecryptable {CMD} Forged")]);
}

#[test]
fn without_a_hold_the_failure_is_reported_at_once_and_later_events_use_the_new_key() {
    let mut r = rig(0);
    r.s.text(&sealed(CMD, "open", 2, r#"{"door":1}"#));
    r.pump();
    assert_eq!(
        r.take(),
        [
            format!("undecryptable {CMD} Forged"),
            format!("auth {CMD} 1.2")
        ]
    );
    r.c.provide_encrypted_auth(CMD, "1.2", "k:s", &b64(2))
        .unwrap();
    r.s.text(&sealed(CMD, "open", 2, r#"{"door":2}"#));
    r.pump();
    assert_eq!(r.take(), [message("open", r#"{"door":2}"#)]);
}

#[test]
fn a_full_hold_reports_what_does_not_fit_and_keeps_what_does() {
    // Room for one event of this size (4 + 21 + 4 + 24 + 16 + 10 bytes).
    let mut r = rig(100);
    r.s.text(&sealed(CMD, "open", 2, r#"{"door":1}"#));
    r.s.text(&sealed(CMD, "open", 2, r#"{"door":2}"#));
    r.pump();
    assert_eq!(
        r.take(),
        [
            format!("auth {CMD} 1.2"),
            format!("undecryptable {CMD} Forged")
        ]
    );
    r.c.provide_encrypted_auth(CMD, "1.2", "k:s", &b64(2))
        .unwrap();
    r.pump();
    assert_eq!(r.take(), [message("open", r#"{"door":1}"#)]);
}

#[test]
fn held_events_are_reported_when_the_connection_drops_and_forgotten_on_unsubscribe() {
    let mut r = rig(512);
    r.s.text(&sealed(CMD, "open", 2, "{}"));
    r.pump();
    assert_eq!(r.take(), [format!("auth {CMD} 1.2")]);
    r.closed();
    let got = r.take();
    assert!(
        got.contains(&format!("undecryptable {CMD} Forged")),
        "{got:?}"
    );
    // A late answer to the old connection's request is refused.
    assert!(
        r.c.provide_encrypted_auth(CMD, "1.2", "k:s", &b64(2))
            .is_err()
    );

    let mut r = rig(512);
    r.s.text(&sealed(CMD, "open", 2, "{}"));
    r.pump();
    r.take();
    r.c.unsubscribe(CMD).unwrap();
    r.pump();
    assert_eq!(r.take(), Vec::<String>::new());
}

#[test]
fn malformed_encrypted_data_is_reported_without_asking_for_a_key() {
    let mut r = rig(512);
    r.s.text(&format!(
        r#"{{"event":"open","channel":"{CMD}","data":"{{\"nonce\":\"AAAA\",\"ciphertext\":\"AAAA\"}}"}}"#
    ));
    r.s.text(&format!(
        r#"{{"event":"open","channel":"{CMD}","data":"plain"}}"#
    ));
    r.pump();
    assert_eq!(
        r.take(),
        [
            format!("undecryptable {CMD} BadNonce"),
            format!("undecryptable {CMD} NotEncrypted"),
        ]
    );
}
