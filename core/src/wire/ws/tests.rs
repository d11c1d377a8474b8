//! Frames and the reader against RFC 6455 cases, fragmentation and limits.

use super::*;
use crate::buf::{BufferTooSmall, Status};
use std::vec::Vec;

const KEY: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

fn frame(fin: bool, op: Opcode, payload: &[u8], mask: Option<[u8; 4]>) -> Vec<u8> {
    let mut out = std::vec![0u8; payload.len() + MAX_HEADER_LEN];
    let n = emit_frame(&mut out, fin, op, payload, mask).unwrap();
    out.truncate(n);
    out
}

#[test]
fn rfc_examples() {
    // RFC 6455 5.7: unmasked and masked "Hello".
    let unmasked = [0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f];
    assert_eq!(frame(true, Opcode::Text, b"Hello", None), unmasked);
    let masked = [
        0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58,
    ];
    assert_eq!(frame(true, Opcode::Text, b"Hello", Some(KEY)), masked);
    let mut r = Reader::new([0u8; 64], Role::Server, 64);
    r.feed(&masked);
    assert_eq!(r.read(), Ok(Some(Message::Text("Hello"))));
    let mut r = Reader::new([0u8; 64], Role::Client, 64);
    // Fragmented "Hel" + "lo".
    r.feed(&[0x01, 0x03, 0x48, 0x65, 0x6c, 0x80, 0x02, 0x6c, 0x6f]);
    assert_eq!(r.read(), Ok(Some(Message::Text("Hello"))));
    // Unmasked ping "Hello".
    r.feed(&[0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f]);
    assert_eq!(r.read(), Ok(Some(Message::Ping(b"Hello"))));
    assert_eq!(r.read(), Ok(None));
}

#[test]
fn lengths_16_and_64_bit() {
    for len in [0usize, 125, 126, 127, 65535, 65536, 70000] {
        let payload: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
        for mask in [None, Some(KEY)] {
            let bytes = frame(true, Opcode::Binary, &payload, mask);
            assert_eq!(bytes.len(), header_len(len as u64, mask.is_some()) + len);
            let role = if mask.is_some() {
                Role::Server
            } else {
                Role::Client
            };
            let (h, n) = parse_header(&bytes, role).unwrap().complete().unwrap();
            assert_eq!(
                (h.payload_len, n, h.mask),
                (len as u64, bytes.len() - len, mask)
            );
            let mut r = Reader::new(std::vec![0u8; 80_000], role, 80_000);
            assert_eq!(r.feed(&bytes), bytes.len());
            assert_eq!(r.read(), Ok(Some(Message::Binary(&payload))));
        }
    }
}

#[test]
fn header_partial_at_every_prefix() {
    let bytes = frame(true, Opcode::Text, &[b'x'; 300], Some(KEY));
    for cut in 0..8 {
        assert_eq!(
            parse_header(&bytes[..cut], Role::Server),
            Ok(Status::Partial),
            "{cut}"
        );
    }
    assert!(matches!(
        parse_header(&bytes[..8], Role::Server),
        Ok(Status::Complete(_, 8))
    ));
}

#[test]
fn protocol_violations() {
    let r = |b: &[u8], role| parse_header(b, role);
    assert_eq!(r(&[0xC1, 0x00], Role::Client), Err(WsError::ReservedBits));
    assert_eq!(
        r(&[0x83, 0x00], Role::Client),
        Err(WsError::UnknownOpcode(3))
    );
    assert_eq!(
        r(&[0x09, 0x00], Role::Client),
        Err(WsError::FragmentedControl)
    );
    assert_eq!(
        r(&[0x89, 0x7E, 0x00, 0x7E], Role::Client),
        Err(WsError::ControlTooLong)
    );
    assert_eq!(
        r(&[0x81, 0x80, 1, 2, 3, 4], Role::Client),
        Err(WsError::MaskedFrame)
    );
    assert_eq!(r(&[0x81, 0x00], Role::Server), Err(WsError::UnmaskedFrame));
    let huge = [0x82, 0x7F, 0x80, 0, 0, 0, 0, 0, 0, 0];
    assert_eq!(r(&huge, Role::Client), Err(WsError::InvalidLength));
}

#[test]
fn message_sequence_errors() {
    let mut r = Reader::new([0u8; 64], Role::Client, 64);
    r.feed(&frame(true, Opcode::Continuation, b"x", None));
    assert_eq!(r.read(), Err(WsError::UnexpectedContinuation));
    let mut r = Reader::new([0u8; 64], Role::Client, 64);
    r.feed(&frame(false, Opcode::Text, b"x", None));
    r.feed(&frame(true, Opcode::Text, b"y", None));
    assert_eq!(r.read(), Err(WsError::ExpectedContinuation));
    let mut r = Reader::new([0u8; 64], Role::Client, 64);
    r.feed(&frame(true, Opcode::Text, &[0xff, 0xfe], None));
    assert_eq!(r.read(), Err(WsError::InvalidUtf8));
}

#[test]
fn size_limits() {
    let mut r = Reader::new([0u8; 256], Role::Client, 16);
    r.feed(&frame(true, Opcode::Text, &[b'a'; 17], None));
    assert_eq!(r.read(), Err(WsError::MessageTooLarge { limit: 16 }));
    // Fragments that together pass the limit.
    let mut r = Reader::new([0u8; 256], Role::Client, 16);
    r.feed(&frame(false, Opcode::Text, &[b'a'; 10], None));
    r.feed(&frame(true, Opcode::Continuation, &[b'a'; 10], None));
    assert_eq!(r.read(), Err(WsError::MessageTooLarge { limit: 16 }));
    // A frame larger than the buffer itself.
    let mut r = Reader::new([0u8; 32], Role::Client, 1000);
    r.feed(&frame(true, Opcode::Text, &[b'a'; 40], None)[..32]);
    assert_eq!(r.read(), Err(WsError::MessageTooLarge { limit: 18 }));
}

#[test]
fn a_buffer_grown_after_too_large_goes_on_where_it_stopped() {
    let mut stream = frame(false, Opcode::Text, b"start-", Some([1, 2, 3, 4]));
    stream.extend(frame(
        true,
        Opcode::Continuation,
        &[b'x'; 100],
        Some([5, 6, 7, 8]),
    ));
    let mut r = Reader::new(std::vec![0u8; 32], Role::Server, 1000);
    let mut fed = 0;
    let mut grown = false;
    let text = loop {
        fed += r.feed(&stream[fed..]);
        match r.read() {
            Ok(Some(Message::Text(t))) => break std::string::String::from(t),
            Ok(Some(other)) => panic!("{other:?}"),
            Ok(None) => {}
            Err(WsError::MessageTooLarge { limit }) if limit < 1000 => {
                r.buffer_mut().resize(256, 0);
                grown = true;
            }
            Err(e) => panic!("{e}"),
        }
    };
    assert!(grown);
    assert_eq!(text.len(), 106);
    assert!(text.starts_with("start-x"));
}

#[test]
fn fragments_with_control_frames_between_byte_by_byte() {
    let mut stream = Vec::new();
    stream.extend(frame(false, Opcode::Text, "héllo ".as_bytes(), Some(KEY)));
    stream.extend(frame(true, Opcode::Ping, b"p1", Some(KEY)));
    stream.extend(frame(
        false,
        Opcode::Continuation,
        "wörld".as_bytes(),
        Some([9, 8, 7, 6]),
    ));
    stream.extend(frame(true, Opcode::Pong, b"", Some(KEY)));
    stream.extend(frame(
        true,
        Opcode::Continuation,
        " 🎉".as_bytes(),
        Some(KEY),
    ));
    stream.extend(frame(true, Opcode::Binary, &[0, 1, 2], Some(KEY)));
    let mut close = [0u8; 64];
    let n = emit_close(
        &mut close,
        Some(CloseFrame {
            code: 4201,
            reason: "pong",
        }),
        Some(KEY),
    )
    .unwrap();
    stream.extend(&close[..n]);
    let n = emit_close(&mut close, None, Some(KEY)).unwrap();
    stream.extend(&close[..n]);

    let expected = [
        "Ping(p1)",
        "Pong()",
        "Text(héllo wörld 🎉)",
        "Binary([0, 1, 2])",
        "Close(4201 pong)",
        "Close(-)",
    ];
    for chunk in [1usize, 2, 3, 7, 64] {
        let mut r = Reader::new([0u8; 48], Role::Server, 48);
        let mut got = Vec::new();
        for piece in stream.chunks(chunk) {
            let mut rest = piece;
            while !rest.is_empty() {
                let n = r.feed(rest);
                rest = &rest[n..];
                while let Some(m) = r.read().unwrap() {
                    got.push(match m {
                        Message::Text(t) => std::format!("Text({t})"),
                        Message::Binary(b) => std::format!("Binary({b:?})"),
                        Message::Ping(p) => {
                            std::format!("Ping({})", std::str::from_utf8(p).unwrap())
                        }
                        Message::Pong(p) => {
                            std::format!("Pong({})", std::str::from_utf8(p).unwrap())
                        }
                        Message::Close(Some(c)) => {
                            std::format!("Close({} {})", c.code, c.reason)
                        }
                        Message::Close(None) => "Close(-)".into(),
                    });
                }
            }
        }
        assert_eq!(got, expected, "chunk {chunk}");
        assert_eq!(r.buffered(), 0);
    }
}

#[test]
fn close_payloads() {
    assert_eq!(parse_close(&[]), Ok(None));
    assert_eq!(parse_close(&[3]), Err(WsError::InvalidClosePayload));
    assert_eq!(
        parse_close(&[0x03, 0xE8]),
        Ok(Some(CloseFrame {
            code: 1000,
            reason: ""
        }))
    );
    assert_eq!(
        parse_close(&[0x03, 0xED]),
        Err(WsError::InvalidCloseCode(1005))
    );
    assert_eq!(parse_close(&[0x03, 0xE8, 0xff]), Err(WsError::InvalidUtf8));
    let long = "é".repeat(100);
    let mut out = [0u8; 200];
    let n = emit_close(
        &mut out,
        Some(CloseFrame {
            code: 1000,
            reason: &long,
        }),
        None,
    )
    .unwrap();
    let (h, hl) = parse_header(&out[..n], Role::Client)
        .unwrap()
        .complete()
        .unwrap();
    assert!(h.payload_len <= 125);
    let c = parse_close(&out[hl..n]).unwrap().unwrap();
    assert_eq!(c.reason.len(), 122);
}

#[test]
fn mask_offsets_compose() {
    let mut a: Vec<u8> = (0..37).collect();
    let orig = a.clone();
    apply_mask(&mut a, KEY, 0);
    let (x, y) = a.split_at_mut(13);
    apply_mask(x, KEY, 0);
    apply_mask(y, KEY, 13);
    assert_eq!(a, orig);
}

#[test]
fn emit_reports_needed_size() {
    let mut out = [0u8; 4];
    assert_eq!(
        emit_frame(&mut out, true, Opcode::Text, b"hello", Some(KEY)),
        Err(BufferTooSmall { needed: 11 })
    );
}
