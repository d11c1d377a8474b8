#![allow(dead_code)] // each bench uses its own part of the corpus
//! A seeded corpus of realistic server traffic: unmasked WebSocket text frames carrying Pusher
//! events whose `data` is double-encoded as servers send it. 60% small events, 30% medium ones
//! with `\u` escapes (BMP and surrogate pairs), raw UTF-8 and nested objects, 10% of 5-10 KB.

/// Deterministic xorshift64* generator, so every run measures the same bytes.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.max(1))
    }

    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    pub fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }
}

const WORDS: &[&str] = &[
    "alpha",
    "order",
    "shipped",
    "price",
    "Zürich",
    "naïve",
    "crème",
    "señor",
    "東京",
    "日本語",
    "😀",
    "🎉",
    "status",
    "ok",
];
const ESCAPED: &[&str] = &[
    r"\u00e9",
    r"\u00fc",
    r"\u4e1c\u4eac",
    r"\ud83c\udf89",
    r"\ud83d\ude00",
    r"\n",
    r"\t",
    r#"\""#,
    r"\\",
];

/// Appends `s` as a JSON string; with `ascii`, non-ASCII is written as `\u` escapes (as
/// Python's `json.dumps` does by default), surrogate pairs included.
pub fn push_json_string(out: &mut String, s: &str, ascii: bool) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c if ascii && !c.is_ascii() => {
                let mut units = [0u16; 2];
                for u in c.encode_utf16(&mut units) {
                    out.push_str(&format!("\\u{u:04x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

fn small(rng: &mut Rng) -> String {
    format!(
        r#"{{"symbol":"{}","price":{}.{},"volume":{},"ts":{}}}"#,
        rng.pick(&["BTC", "ETH", "SOL", "ADA"]),
        rng.below(100_000),
        rng.below(100),
        rng.below(1_000_000),
        1_700_000_000 + rng.below(1_000_000)
    )
}

fn text(rng: &mut Rng, words: usize) -> String {
    let mut s = String::new();
    for i in 0..words {
        if i > 0 {
            s.push(' ');
        }
        if rng.below(4) == 0 {
            s.push_str(rng.pick(ESCAPED));
        } else {
            s.push_str(rng.pick(WORDS));
        }
    }
    s
}

fn medium(rng: &mut Rng) -> String {
    let mut s = String::from(r#"{"user":{"id":""#);
    s.push_str(&rng.below(1_000_000).to_string());
    s.push_str(r#"","name":""#);
    s.push_str(&text(rng, 2));
    s.push_str(r#"","roles":["admin","editor"]},"messages":["#);
    for i in 0..(3 + rng.below(6)) {
        if i > 0 {
            s.push(',');
        }
        s.push_str(&format!(r#"{{"id":{},"text":""#, rng.below(1 << 30)));
        let words = 6 + rng.below(20) as usize;
        s.push_str(&text(rng, words));
        s.push_str(r#"","meta":{"edited":false,"reactions":{"👍":3,"x":null}}}"#);
    }
    s.push_str("]}");
    s
}

fn large(rng: &mut Rng) -> String {
    let target = 5_000 + rng.below(5_000) as usize;
    let mut s = String::from(r#"{"rows":["#);
    let mut first = true;
    while s.len() < target {
        if !first {
            s.push(',');
        }
        first = false;
        let (id, sku) = (rng.below(1 << 20), rng.below(99_999));
        let title = text(rng, 4);
        let (price, cents) = (rng.below(1000), rng.below(100));
        s.push_str(&format!(
            r#"{{"id":{id},"sku":"SKU-{sku}","title":"{title}","price":{price}.{cents},"tags":["a","b","c"]}}"#
        ));
    }
    s.push_str("]}");
    s
}

/// A Pusher frame JSON text: `{"event","channel","data"}` with `data` double-encoded.
pub fn frame_text(rng: &mut Rng) -> String {
    let roll = rng.below(100);
    let (event, channel, data) = if roll < 60 {
        (
            "price-update",
            format!("ticker-{}", rng.below(50)),
            small(rng),
        )
    } else if roll < 90 {
        (
            "App\\Events\\MessagePosted",
            format!("private-chat-{}", rng.below(50)),
            medium(rng),
        )
    } else {
        (
            "inventory-sync",
            "presence-warehouse".to_string(),
            large(rng),
        )
    };
    // Half of the medium and large frames come from an ASCII-only encoder.
    let ascii = roll >= 60 && rng.below(2) == 0;
    let mut out = String::from(r#"{"event":"#);
    push_json_string(&mut out, event, ascii);
    out.push_str(r#","channel":"#);
    push_json_string(&mut out, &channel, ascii);
    out.push_str(r#","data":"#);
    push_json_string(&mut out, &data, ascii);
    out.push('}');
    out
}

/// `count` frames, each a complete unmasked WebSocket text frame.
pub fn corpus(seed: u64, count: usize) -> Vec<Vec<u8>> {
    let mut rng = Rng::new(seed);
    (0..count)
        .map(|_| frame_of(&frame_text(&mut rng)))
        .collect()
}

/// A frame as existing Rust clients decode it: serde_json into owned strings.
#[derive(serde::Deserialize)]
pub struct OwnedFrame {
    pub event: String,
    pub channel: Option<String>,
    pub data: Option<String>,
}

/// A harder mix, as publishers in the field send it: half the frames from an ASCII-only
/// encoder (Python's `json.dumps`: every non-ASCII character a `\u` escape, surrogate pairs
/// for emoji), 12% Laravel-style escaped event names, and `data` before `channel` (or the
/// event last) in half of the frames.
pub fn hard_frame_text(rng: &mut Rng) -> String {
    let roll = rng.below(100);
    let (channel, data) = if roll < 50 {
        (format!("ticker-{}", rng.below(50)), small(rng))
    } else if roll < 70 {
        let words = 4 + rng.below(12) as usize;
        (
            format!("chat-{}", rng.below(50)),
            format!(
                r#"{{"from":"{}","text":"{}","n":{}}}"#,
                text(rng, 1),
                text(rng, words),
                rng.below(1000)
            ),
        )
    } else if roll < 92 {
        (format!("private-chat-{}", rng.below(50)), medium(rng))
    } else {
        ("presence-warehouse".to_string(), large(rng))
    };
    let event = if rng.below(100) < 12 {
        format!(
            "App\\Events\\{}",
            rng.pick(&["OrderShipped", "MessagePosted", "PriceChanged"])
        )
    } else {
        rng.pick(&["price-update", "message", "inventory-sync", "status"])
            .to_string()
    };
    let ascii = rng.below(2) == 0;
    let mut e = String::new();
    push_json_string(&mut e, &event, ascii);
    let mut c = String::new();
    push_json_string(&mut c, &channel, ascii);
    let mut d = String::new();
    push_json_string(&mut d, &data, ascii);
    match rng.below(4) {
        0 => format!(r#"{{"data":{d},"channel":{c},"event":{e}}}"#),
        1 => format!(r#"{{"channel":{c},"data":{d},"event":{e}}}"#),
        _ => format!(r#"{{"event":{e},"channel":{c},"data":{d}}}"#),
    }
}

/// `count` frames of [`hard_frame_text`], each a complete unmasked WebSocket text frame.
pub fn hard_corpus(seed: u64, count: usize) -> Vec<Vec<u8>> {
    let mut rng = Rng::new(seed);
    (0..count)
        .map(|_| frame_of(&hard_frame_text(&mut rng)))
        .collect()
}

/// `text` as an unmasked WebSocket text frame.
pub fn frame_of(text: &str) -> Vec<u8> {
    let mut frame = vec![0u8; text.len() + 14];
    let n = pusher_core::wire::ws::emit_frame(
        &mut frame,
        true,
        pusher_core::wire::ws::Opcode::Text,
        text.as_bytes(),
        None,
    )
    .expect("frame fits");
    frame.truncate(n);
    frame
}
