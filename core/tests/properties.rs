//! Property tests: encoders and decoders agree on arbitrary input, and name validation matches
//! the regular expressions of the official libraries.

use proptest::prelude::*;
use pusher_core::wire::event::Event;
use pusher_core::wire::json::{RawStr, Value};
use pusher_core::wire::message::{Payload, server};
use pusher_core::wire::ws::{Message, Opcode, Reader, Role, emit_frame};
use pusher_core::{ChannelName, SocketId, Writer};

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn json_strings_round_trip(s in any::<String>()) {
        let mut buf = vec![0u8; s.len() * 6 + 2];
        let mut w = Writer::new(&mut buf);
        pusher_core::wire::json::write_string(&mut w, &s);
        let n = w.finish_len().unwrap();
        let text = std::str::from_utf8(&buf[..n]).unwrap();
        let v = Value::parse(text).unwrap();
        let raw = v.as_raw_str().unwrap();
        let mut out = vec![0u8; raw.raw().len()];
        prop_assert_eq!(raw.unescape_into(&mut out).unwrap(), s.as_str());
        prop_assert!(RawStr::new(raw.raw()).eq_str(&s));
    }

    #[test]
    fn events_round_trip(event in "\\PC{1,40}", channel in "[a-z0-9-]{1,30}", data in any::<String>()) {
        let mut out = vec![0u8; (event.len() + channel.len() + data.len()) * 6 + 128];
        let n = server::event(&mut out, &event, Some(&channel), Some(Payload::Text(&data)), None).unwrap();
        let text = std::str::from_utf8(&out[..n]).unwrap();
        let mut scratch = vec![0u8; n];
        let ev = Event::decode(text, &mut scratch).unwrap();
        prop_assert_eq!((ev.event, ev.channel, ev.data), (event.as_str(), Some(channel.as_str()), Some(data.as_str())));
    }

    // 16- and 64-bit lengths up to 70 000 bytes are covered by the unit tests in `ws`.
    #[test]
    fn frames_round_trip(payload in proptest::collection::vec(any::<u8>(), 0..1000), mask in any::<[u8; 4]>(), chunk in 1usize..64) {
        let mut frame = vec![0u8; payload.len() + 14];
        let n = emit_frame(&mut frame, true, Opcode::Binary, &payload, Some(mask)).unwrap();
        let mut r = Reader::new(vec![0u8; payload.len() + 14], Role::Server, payload.len());
        for piece in frame[..n].chunks(chunk) {
            prop_assert_eq!(r.feed(piece), piece.len());
        }
        prop_assert_eq!(r.read(), Ok(Some(Message::Binary(&payload))));
    }

    #[test]
    fn channel_names_match_the_official_regex(name in "[-a-zA-Z0-9_=@,.;:#/ é]{0,170}") {
        let re = regex::Regex::new(r"\A[-a-zA-Z0-9_=@,.;]+\z").unwrap();
        let want = re.is_match(&name) && name.len() <= 164;
        prop_assert_eq!(ChannelName::new(&name).is_ok(), want, "{:?}", name);
    }

    #[test]
    fn socket_ids_match_the_official_regex(id in "[0-9.a\n:]{0,12}") {
        let re = regex::Regex::new(r"\A\d+\.\d+\z").unwrap();
        prop_assert_eq!(SocketId::new(&id).is_ok(), re.is_match(&id), "{:?}", id);
    }
}
