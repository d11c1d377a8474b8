//! The hub's rules, driven without sockets: frames are read back from the outboxes.

use super::*;
use crate::outbox::{Inbox, Out, outbox};
use pusher_core::auth::Credentials;
use pusher_core::name::{ChannelName, EventName, SocketId};
use serde_json::Value;

const KEY: &str = "app-key";
const SECRET: &str = "app-secret";

struct Rig {
    hub: Hub,
    hooks: mpsc::UnboundedReceiver<HookEvent>,
}

struct Client {
    id: ConnId,
    socket_id: String,
    inbox: Inbox,
}

fn rig(cfg: Config) -> Rig {
    let (tx, hooks) = mpsc::unbounded_channel();
    Rig {
        hub: Hub::new(Arc::new(cfg.credentials("1", KEY, SECRET)), None, Some(tx)),
        hooks,
    }
}

impl Rig {
    fn connect(&mut self) -> Client {
        let (out, inbox) = outbox(1 << 20);
        let (id, socket_id) = self.hub.connect(out).unwrap();
        Client {
            id,
            socket_id,
            inbox,
        }
    }

    fn subscribe(&mut self, c: &Client, channel: &str, user: Option<&str>) {
        let name = ChannelName::new(channel).unwrap();
        let data = user.map(|u| format!(r#"{{"user_id":"{u}","user_info":{{"n":"{u}"}}}}"#));
        let auth = name
            .kind()
            .needs_auth()
            .then(|| sign(c, channel, data.as_deref()));
        self.hub
            .subscribe(c.id, name, auth.as_deref(), data.as_deref());
    }

    fn hooks(&mut self) -> Vec<String> {
        let mut all = Vec::new();
        while let Ok(h) = self.hooks.try_recv() {
            all.push(h.to_json().to_string());
        }
        all
    }
}

fn sign(c: &Client, channel: &str, data: Option<&str>) -> String {
    let creds = Credentials::new(KEY, SECRET);
    let sig = creds.channel_signature(
        SocketId::new(&c.socket_id).unwrap(),
        ChannelName::new(channel).unwrap(),
        data,
    );
    format!(
        "{KEY}:{}",
        String::from_utf8(sig.to_hex().to_vec()).unwrap()
    )
}

/// The messages queued for a client, as JSON (close frames as `{"close":code}`).
fn received(c: &mut Client) -> Vec<Value> {
    c.inbox
        .drain()
        .into_iter()
        .map(|out| match out {
            Out::Frame(f) => {
                let start = if f[1] & 0x7f == 126 { 4 } else { 2 };
                serde_json::from_slice(&f[start..]).unwrap()
            }
            Out::Close(f) => serde_json::json!({"close": u16::from_be_bytes([f[2], f[3]])}),
        })
        .collect()
}

fn events(c: &mut Client) -> Vec<String> {
    received(c)
        .iter()
        .map(|v| v["event"].as_str().unwrap_or("close").to_owned())
        .collect()
}

#[test]
fn presence_counts_users_not_sockets() {
    let mut r = rig(Config::default());
    let (mut a1, mut a2, mut b) = (r.connect(), r.connect(), r.connect());
    r.subscribe(&a1, "presence-room", Some("alice"));
    let first = received(&mut a1);
    let data: Value = serde_json::from_str(first[0]["data"].as_str().unwrap()).unwrap();
    assert_eq!(data["presence"]["count"], 1);
    assert_eq!(data["presence"]["hash"]["alice"]["n"], "alice");

    r.subscribe(&b, "presence-room", Some("bob"));
    r.subscribe(&a2, "presence-room", Some("alice"));
    assert_eq!(events(&mut a1), ["pusher_internal:member_added"]);
    let b_saw = received(&mut b);
    let data: Value = serde_json::from_str(b_saw[0]["data"].as_str().unwrap()).unwrap();
    assert_eq!(data["presence"]["count"], 2);
    assert_eq!(
        b_saw.len(),
        1,
        "alice's second socket is not a new member: {b_saw:?}"
    );
    let _ = received(&mut a2);

    r.hub.disconnect(a1.id);
    assert!(events(&mut b).is_empty(), "alice is still there on a2");
    r.hub.unsubscribe(a2.id, "presence-room");
    let gone = received(&mut b);
    assert_eq!(gone[0]["event"], "pusher_internal:member_removed");
    assert_eq!(r.hub.members("presence-room"), ["bob"]);
    let hooks = r.hooks();
    assert_eq!(
        hooks.iter().filter(|h| h.contains("member_added")).count(),
        2,
        "{hooks:?}"
    );
    assert!(
        hooks
            .iter()
            .any(|h| h.contains("member_removed") && h.contains("alice"))
    );
}

#[test]
fn soketi_mode_leaves_bare_members_out_of_the_hash() {
    let mut r = rig(Config::default().compat(Compat::Soketi));
    let mut c = r.connect();
    let name = ChannelName::new("presence-x").unwrap();
    let data = r#"{"user_id":"u"}"#;
    let auth = sign(&c, "presence-x", Some(data));
    r.hub.subscribe(c.id, name, Some(&auth), Some(data));
    let got = received(&mut c);
    let inner: Value = serde_json::from_str(got[0]["data"].as_str().unwrap()).unwrap();
    assert_eq!(inner["presence"]["ids"], serde_json::json!(["u"]));
    assert_eq!(inner["presence"]["hash"], serde_json::json!({}));
}

#[test]
fn a_bad_signature_is_answered_as_pusher_does_and_subscribes_nothing() {
    let mut r = rig(Config::default());
    let mut c = r.connect();
    let name = ChannelName::new("private-x").unwrap();
    r.hub.subscribe(c.id, name, Some("app-key:00ff"), None);
    let got = received(&mut c);
    assert_eq!(got[0]["event"], "pusher:error");
    assert!(got[0]["data"]["code"].is_null());
    let message = got[0]["data"]["message"].as_str().unwrap();
    assert!(
        message.starts_with("Invalid signature: Expected HMAC SHA256 hex digest of "),
        "{message}"
    );
    r.hub.subscribe(c.id, name, Some("other-key:00"), None);
    let got = received(&mut c);
    assert!(
        got[0]["data"]["message"]
            .as_str()
            .unwrap()
            .contains("other-key")
    );
    assert_eq!(r.hub.channel_info("private-x").subscription_count, 0);
    assert!(r.hooks().is_empty());
}

#[test]
fn client_events_follow_pushers_rules() {
    let mut r = rig(Config::default());
    let (mut a, mut b) = (r.connect(), r.connect());
    for c in [&a, &b] {
        r.subscribe(
            c,
            "presence-chat",
            Some(if c.id == a.id { "alice" } else { "bob" }),
        );
        r.subscribe(c, "news", None);
    }
    let _ = (received(&mut a), received(&mut b));
    let ev = EventName::new("client-typing").unwrap();
    let chat = ChannelName::new("presence-chat").unwrap();
    r.hub.client_event(a.id, ev, chat, Some(r#"{"t":1}"#));
    assert!(received(&mut a).is_empty(), "never echoed to the sender");
    let got = received(&mut b);
    assert_eq!(got[0]["user_id"], "alice");
    assert_eq!(got[0]["data"], r#"{"t":1}"#);

    r.hub
        .client_event(a.id, ev, ChannelName::new("news").unwrap(), Some("{}"));
    assert_eq!(events(&mut a), ["pusher:error"]);
    r.hub.client_event(
        a.id,
        ev,
        ChannelName::new("private-elsewhere").unwrap(),
        Some("{}"),
    );
    assert!(
        received(&mut a)[0]["data"]["message"]
            .as_str()
            .unwrap()
            .contains("not subscribed")
    );

    // Ten per second; the eleventh is refused with 4301. One went out above.
    for _ in 0..10 {
        r.hub.client_event(a.id, ev, chat, Some("{}"));
    }
    let refused = received(&mut a);
    assert_eq!(refused.len(), 1, "{refused:?}");
    assert_eq!(refused[0]["data"]["code"], 4301);
    assert_eq!(received(&mut b).len(), 9);

    let mut off = rig(Config {
        client_events: false,
        ..Config::default()
    });
    let mut c = off.connect();
    off.subscribe(&c, "private-x", None);
    let _ = received(&mut c);
    off.hub
        .client_event(c.id, ev, ChannelName::new("private-x").unwrap(), Some("{}"));
    assert_eq!(received(&mut c)[0]["data"]["code"], 4301);
}

#[test]
fn client_events_on_encrypted_channels_are_refused_and_not_relayed() {
    let mut r = rig(Config::default());
    let (mut a, mut b) = (r.connect(), r.connect());
    for c in [&a, &b] {
        r.subscribe(c, "private-encrypted-cmd", None);
    }
    let _ = (received(&mut a), received(&mut b));
    let ev = EventName::new("client-open").unwrap();
    let cmd = ChannelName::new("private-encrypted-cmd").unwrap();
    r.hub
        .client_event(a.id, ev, cmd, Some(r#"{"nonce":"x","ciphertext":"y"}"#));
    let refused = received(&mut a);
    assert_eq!(refused[0]["event"], "pusher:error", "{refused:?}");
    assert!(
        refused[0]["data"]["message"]
            .as_str()
            .unwrap()
            .contains("private-encrypted-cmd")
    );
    assert!(received(&mut b).is_empty(), "never relayed");
}

#[test]
fn user_channels_need_the_sign_in_and_watchers_hear_of_it() {
    let mut r = rig(Config::default());
    let (mut alice, mut watcher) = (r.connect(), r.connect());
    r.hub.subscribe(
        alice.id,
        ChannelName::new("#server-to-user-alice").unwrap(),
        Some(""),
        None,
    );
    assert_eq!(events(&mut alice), ["pusher:error"]);

    let sign_in = |r: &mut Rig, c: &Client, data: &str| {
        let creds = Credentials::new(KEY, SECRET);
        let sig = creds.user_signature(SocketId::new(&c.socket_id).unwrap(), data);
        let auth = format!(
            "{KEY}:{}",
            String::from_utf8(sig.to_hex().to_vec()).unwrap()
        );
        r.hub.signin(c.id, &auth, data);
    };
    sign_in(&mut r, &watcher, r#"{"id":"w","watchlist":["alice"]}"#);
    assert_eq!(events(&mut watcher), ["pusher:signin_success"]);
    sign_in(&mut r, &alice, r#"{"id":"alice"}"#);
    assert_eq!(events(&mut alice), ["pusher:signin_success"]);
    let online = received(&mut watcher);
    assert_eq!(online[0]["event"], "pusher_internal:watchlist_events");
    assert!(
        online[0]["data"]
            .as_str()
            .unwrap()
            .contains(r#""name":"online""#)
    );

    r.hub.subscribe(
        alice.id,
        ChannelName::new("#server-to-user-alice").unwrap(),
        Some(""),
        None,
    );
    assert_eq!(
        events(&mut alice),
        ["pusher_internal:subscription_succeeded"]
    );
    assert_eq!(r.hub.publish("#server-to-user-alice", "hi", "{}", None), 1);

    assert_eq!(r.hub.terminate("alice"), 1);
    let got = received(&mut alice);
    assert_eq!(got.last().unwrap()["close"], 4009);
    r.hub.disconnect(alice.id);
    assert!(
        received(&mut watcher)[0]["data"]
            .as_str()
            .unwrap()
            .contains("offline")
    );
}

#[test]
fn reverb_refuses_sign_in_and_keeps_the_socket() {
    let mut r = rig(Config::default().compat(Compat::Reverb));
    let mut c = r.connect();
    r.hub.signin(c.id, "app-key:00", r#"{"id":"u"}"#);
    let got = received(&mut c);
    assert_eq!(got.len(), 1);
    let data: Value = serde_json::from_str(got[0]["data"].as_str().unwrap()).unwrap();
    assert_eq!(data["code"], 4200);
}

#[test]
fn cache_channels_replay_the_last_event_or_say_miss() {
    let mut r = rig(Config::default());
    let (mut a, mut b) = (r.connect(), r.connect());
    r.subscribe(&a, "cache-prices", None);
    assert_eq!(
        events(&mut a),
        [
            "pusher_internal:subscription_succeeded",
            "pusher:cache_miss"
        ]
    );
    r.hub.publish("cache-prices", "tick", "42", None);
    r.subscribe(&b, "cache-prices", None);
    let got = received(&mut b);
    assert_eq!(got[1]["event"], "tick");
    assert_eq!(got[1]["data"], "42");
    assert_eq!(r.hub.channel_info("cache-prices").cache.unwrap().0, "42");
}

#[test]
fn occupancy_counts_and_webhooks() {
    let mut r = rig(Config {
        subscription_count: true,
        ..Config::default()
    });
    let (mut a, b) = (r.connect(), r.connect());
    r.subscribe(&a, "news", None);
    r.subscribe(&b, "news", None);
    let got = received(&mut a);
    let last = got.last().unwrap();
    assert_eq!(last["event"], "pusher_internal:subscription_count");
    assert!(
        last["data"]
            .as_str()
            .unwrap()
            .contains(r#""subscription_count":2"#)
    );
    r.hub.disconnect(a.id);
    r.hub.disconnect(b.id);
    let hooks = r.hooks();
    assert!(hooks[0].contains("channel_occupied"), "{hooks:?}");
    assert!(
        hooks.last().unwrap().contains("channel_vacated"),
        "{hooks:?}"
    );
    assert!(r.hub.occupied("").is_empty());
    assert_eq!(r.hub.connections(), 0);
}

#[test]
fn floods_and_duplicates_are_refused() {
    let mut r = rig(Config {
        max_channels_per_connection: 3,
        max_connections: 2,
        ..Config::default()
    });
    let mut c = r.connect();
    let _second = r.connect();
    assert!(r.hub.connect(outbox(10).0).is_err(), "over capacity");
    for n in 0..5 {
        r.subscribe(&c, &format!("c{n}"), None);
    }
    r.subscribe(&c, "c0", None);
    let got = events(&mut c);
    assert_eq!(
        got.iter().filter(|e| *e == "pusher:error").count(),
        3,
        "{got:?}"
    );
    assert_eq!(r.hub.occupied("").len(), 3);
}

#[test]
fn escaped_user_ids_are_unescaped_by_the_core() {
    assert_eq!(plain("alice"), "alice");
    assert_eq!(plain(r#"caf\u00e9 \"x\""#), "café \"x\"");
    assert_eq!(plain(r"bad\q"), r"bad\q");
}
