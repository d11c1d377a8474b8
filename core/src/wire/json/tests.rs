//! The JSON scanner, unescaper and encoder against tricky and generated texts.

use super::escape::next_special;
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
use super::unescape::Unescape;
use super::unescape::{
    Features, unescape, unescape_in_place, unescape_in_place_bytes, unescape_with,
};
use super::*;
use crate::wire::scan::specials;
use std::string::String;

/// Strings of quotes, backslashes, escapes, control bytes and UTF-8 from a seed.
fn tricky(seed: u64, len: usize) -> std::vec::Vec<u8> {
    let pieces: [&[u8]; 14] = [
        b"\\ud83d",
        b"\\u12",
        b"\\q",
        b"\\t\\b\\f\\r",
        b"a",
        b"\"",
        b"\\",
        b"\\\"",
        b"\\u00e9",
        b"\\n",
        b"\x01",
        "é".as_bytes(),
        b"\\ud83d\\ude00",
        b"bcdefgh",
    ];
    let mut x = seed | 1;
    let mut out = std::vec::Vec::new();
    while out.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.extend_from_slice(pieces[(x % pieces.len() as u64) as usize]);
    }
    out
}

#[test]
fn shuffle_unescaper_agrees_with_the_portable_one() {
    // Both on every prefix length of tricky texts (escapes cut at every block edge,
    // invalid escapes, lone surrogates, control bytes, a closing quote or none).
    for seed in 0..400u64 {
        let mut body = tricky(seed, 40 + (seed % 200) as usize);
        if seed % 3 == 0 {
            body.extend_from_slice(b"\"tail");
        }
        for cut in 0..body.len() {
            let text = &body[..cut];
            let mut a = [0u8; 512];
            let mut b = [0u8; 512];
            let portable = unescape_with(text, 0, &mut a, Features::default());
            let fast = unescape(text, 0, &mut b);
            assert_eq!(portable, fast, "{:?}", String::from_utf8_lossy(text));
            if let Ok((_, n, _)) = portable {
                assert_eq!(a[..n], b[..n], "{:?}", String::from_utf8_lossy(text));
                // What `unescaped_text` relies on.
                if core::str::from_utf8(text).is_ok() {
                    assert!(core::str::from_utf8(&a[..n]).is_ok());
                }
            }
            #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
            {
                let mut c = [0u8; 512];
                let unescape = Unescape {
                    s: text,
                    from: 0,
                    out: &mut c,
                };
                if let Some(ssse3) = crate::wire::arch::with_ssse3_only(unescape) {
                    assert_eq!(portable, ssse3, "{:?}", String::from_utf8_lossy(text));
                    if let Ok((_, n, _)) = portable {
                        assert_eq!(a[..n], c[..n]);
                    }
                }
                // And AVX2 without AVX-512 (what `unescape` runs on CPUs without it).
                let mut d = [0u8; 512];
                let unescape = Unescape {
                    s: text,
                    from: 0,
                    out: &mut d,
                };
                if let Some(avx2) = crate::wire::arch::with_avx2_only(unescape) {
                    assert_eq!(portable, avx2, "{:?}", String::from_utf8_lossy(text));
                    if let Ok((_, n, _)) = portable {
                        assert_eq!(a[..n], d[..n]);
                    }
                }
            }
        }
    }
}

#[test]
fn byte_and_word_scanners_agree() {
    for seed in 0..3000u64 {
        let body = tricky(seed, (seed % 150) as usize);
        let mut text = std::vec![b'"'];
        text.extend_from_slice(&body);
        text.extend_from_slice(b"\" , 1]");
        let Ok(text) = core::str::from_utf8(&text) else {
            continue;
        };
        let mut words = Scanner::new(text);
        let mut bytes = Scanner::new(text);
        let w = words.string_lazy();
        bytes.consume(b'"').unwrap();
        let b = bytes.string_lazy_bytes();
        assert_eq!(w, b, "{text:?}");
        if w.is_ok() {
            assert_eq!(words.pos, bytes.pos, "{text:?}");
        }
        let mut a = body.clone();
        let mut c = body.clone();
        let wa = unescape_in_place(&mut a).map(|n| a[..n].to_vec());
        let wc = unescape_in_place_bytes(&mut c).map(|n| c[..n].to_vec());
        assert_eq!(wa, wc, "{:?}", String::from_utf8_lossy(&body));
        assert_eq!(
            next_special(&body, 0),
            body.iter()
                .position(|&b| b == b'"' || b == b'\\' || b < 0x20)
                .unwrap_or(body.len())
        );
    }
}

fn unesc(raw: &str) -> Result<String, JsonError> {
    let mut out = [0u8; 256];
    RawStr::new(raw).unescape_into(&mut out).map(String::from)
}

#[test]
fn swar_classification_is_exact() {
    for b in 0..=255u8 {
        for lane in 0..8 {
            let mut bytes = [b'a'; 8];
            bytes[lane] = b;
            let m = specials(u64::from_le_bytes(bytes));
            let want = b == b'"' || b == b'\\' || b < 0x20;
            assert_eq!(m != 0, want, "byte {b:#x} lane {lane}");
            if want {
                assert_eq!(m.trailing_zeros() / 8, lane as u32);
                assert_eq!(m.count_ones(), 1);
            }
        }
    }
}

#[test]
fn unescapes_every_escape() {
    assert_eq!(
        unesc(r#"a\"b\\c\/d\be\ff\ng\rh\ti"#).unwrap(),
        "a\"b\\c/d\u{8}e\u{c}f\ng\rh\ti"
    );
    assert_eq!(unesc(r"\u00e9\u20AC").unwrap(), "é€");
    assert_eq!(unesc(r"party \ud83c\udf89!").unwrap(), "party 🎉!");
    assert_eq!(
        unesc("plain ünïcode 🎉 stays").unwrap(),
        "plain ünïcode 🎉 stays"
    );
    assert_eq!(
        unesc(r"App\\Events\\OrderShipped").unwrap(),
        r"App\Events\OrderShipped"
    );
}

#[test]
fn rejects_bad_escapes() {
    assert_eq!(unesc(r"\ud83c"), Err(JsonError::LoneSurrogate { at: 0 }));
    assert_eq!(unesc(r"x\udf89"), Err(JsonError::LoneSurrogate { at: 1 }));
    assert_eq!(
        unesc(r"\ud83c\u0041"),
        Err(JsonError::LoneSurrogate { at: 0 })
    );
    assert_eq!(unesc(r"\ud83cx"), Err(JsonError::LoneSurrogate { at: 0 }));
    assert_eq!(unesc(r"\u12"), Err(JsonError::InvalidEscape { at: 0 }));
    assert_eq!(unesc(r"\u12g4"), Err(JsonError::InvalidEscape { at: 0 }));
    assert_eq!(unesc(r"\x"), Err(JsonError::InvalidEscape { at: 0 }));
    assert_eq!(unesc("\\"), Err(JsonError::UnexpectedEnd));
    assert_eq!(unesc("a\u{1}"), Err(JsonError::ControlCharacter { at: 1 }));
}

#[test]
fn unescape_reports_small_buffers() {
    let raw = RawStr::new(r#"0123456789\"abcdef"#);
    for n in 0..17 {
        let mut out = std::vec![0u8; n];
        assert!(
            matches!(
                raw.unescape_into(&mut out),
                Err(JsonError::BufferTooSmall { .. })
            ),
            "{n}"
        );
    }
    let mut out = [0u8; 17];
    assert_eq!(raw.unescape_into(&mut out), Ok("0123456789\"abcdef"));
}

#[test]
fn in_place_matches_copying_unescape() {
    for raw in [
        r#"a\"b\\c\/d\be\ff\ng\rh\ti"#,
        r"\u00e9\u20AC party \ud83c\udf89!",
        "plain ünïcode 🎉 stays",
        r"\\\\\\\\",
    ] {
        let mut buf = raw.as_bytes().to_vec();
        let n = unescape_in_place(&mut buf).unwrap();
        assert_eq!(
            core::str::from_utf8(&buf[..n]).unwrap(),
            unesc(raw).unwrap()
        );
    }
    let mut buf = r#"\"x"#.repeat(100).into_bytes();
    let n = unescape_in_place(&mut buf).unwrap();
    assert_eq!(&buf[..n], "\"x".repeat(100).as_bytes());
    let mut bad = br"ab\ud83c".to_vec();
    assert_eq!(
        unescape_in_place(&mut bad),
        Err(JsonError::LoneSurrogate { at: 2 })
    );
}

#[test]
fn eq_str_decodes_escapes() {
    assert!(RawStr::new(r"App\\Events\\X").eq_str(r"App\Events\X"));
    assert!(RawStr::new(r"\ud83c\udf89").eq_str("🎉"));
    assert!(!RawStr::new(r"\ud83c\udf89").eq_str("🎉x"));
    assert!(!RawStr::new(r"ab\n").eq_str("ab"));
    assert!(RawStr::new("plain").eq_str("plain"));
}

#[test]
fn string_scan_matches_unescape_at_all_offsets() {
    // Escapes at every position relative to the 8-byte words.
    for pad in 0..17 {
        let body = std::format!("{}\\\"x\\\\\\u00e9\\ud83c\\udf89y\\n", "p".repeat(pad));
        let text = std::format!("\"{body}\" ");
        let mut sc = Scanner::new(&text);
        let s = sc.string().unwrap();
        assert_eq!(s.raw(), body);
        assert_eq!(sc.pos(), text.len() - 1);
        let mut out = [0u8; 64];
        let mut sc = Scanner::new(&text);
        let direct = sc.string_into(&mut out).unwrap();
        assert_eq!(direct, std::format!("{}\"x\\é🎉y\n", "p".repeat(pad)));
    }
}

#[test]
fn values_and_containers() {
    for ok in [
        "0",
        "-0.5e+10",
        "12",
        "true",
        "false",
        "null",
        r#""s""#,
        "[]",
        "{}",
        r#" { "a" : [1, {"b": null}, "c\"}"], "d": {} } "#,
        "[[[[]]]]",
    ] {
        assert!(Value::parse(ok).is_ok(), "{ok}");
    }
    for bad in [
        "",
        "01",
        "1.",
        "-",
        "1e",
        "tru",
        "nul",
        "[1,]",
        "{\"a\"}",
        "{\"a\":}",
        "{,}",
        "[1 2]",
        "{\"a\":1,}",
        "[}",
        "{]",
        "\"abc",
        "1 2",
        "{\"a\":1",
        "[",
        "{1:2}",
        "+1",
        ".5",
    ] {
        assert!(Value::parse(bad).is_err(), "{bad:?}");
    }
    let deep = std::format!("{}{}", "[".repeat(64), "]".repeat(64));
    assert!(Value::parse(&deep).is_ok());
    let deeper = std::format!("{}{}", "[".repeat(65), "]".repeat(65));
    assert_eq!(Value::parse(&deeper), Err(JsonError::TooDeep));
}

#[test]
fn object_access() {
    let v = Value::parse(r#"{"a":1,"b\u0063":"x","n":null,"arr":[1,"2",{}]}"#).unwrap();
    assert_eq!(v.get("a").and_then(|v| v.as_u64()), Some(1));
    assert_eq!(
        v.get("bc").and_then(|v| v.as_raw_str()).map(|s| s.raw()),
        Some("x")
    );
    assert!(v.get("n").unwrap().is_null());
    let arr: std::vec::Vec<_> = v
        .get("arr")
        .unwrap()
        .array()
        .unwrap()
        .map(|e| e.unwrap().raw())
        .collect();
    assert_eq!(arr, ["1", "\"2\"", "{}"]);
    assert!(v.get("zz").is_none());
}

#[test]
fn escaping_round_trips() {
    let nasty = "q\"b\\n\nt\tc\u{1}\u{1f}é🎉/";
    let mut buf = [0u8; 128];
    let mut w = crate::Writer::new(&mut buf);
    write_string(&mut w, nasty);
    let out = w.finish().unwrap();
    let text = core::str::from_utf8(out).unwrap();
    assert_eq!(text, r#""q\"b\\n\nt\tc\u0001\u001fé🎉/""#);
    let v = Value::parse(text).unwrap();
    let mut dec = [0u8; 128];
    assert_eq!(
        v.as_raw_str().unwrap().unescape_into(&mut dec).unwrap(),
        nasty
    );
}
