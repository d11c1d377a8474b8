//! JSON output lines (escaping through the core's encoder).

use pusher_core::Writer;
use pusher_core::wire::json::write_string;
use pusher_std::pusher::EventData;
use pusher_std::rest::WebhookEvent;

fn object(fields: &[(&str, Option<&str>)]) -> String {
    let size: usize = fields
        .iter()
        .map(|(k, v)| k.len() + v.map_or(4, |v| v.len() * 6 + 2) + 4)
        .sum::<usize>()
        + 2;
    let mut buf = vec![0u8; size];
    let mut w = Writer::new(&mut buf);
    w.push_byte(b'{');
    let mut first = true;
    for (k, v) in fields {
        let Some(v) = v else { continue };
        if !first {
            w.push_byte(b',');
        }
        first = false;
        write_string(&mut w, k);
        w.push_byte(b':');
        write_string(&mut w, v);
    }
    w.push_byte(b'}');
    let n = w.len();
    buf.truncate(n);
    String::from_utf8(buf).unwrap_or_default()
}

/// `{"event":..,"channel":..,"data":..,"user_id":..}` for one received event.
pub fn event_line(e: &EventData<'_>) -> String {
    object(&[
        ("event", Some(e.event)),
        ("channel", e.channel),
        ("data", e.data),
        ("user_id", e.user_id),
    ])
}

/// One webhook event.
pub fn webhook_line(e: &WebhookEvent) -> String {
    object(&[
        ("name", Some(e.name.as_str())),
        ("channel", e.channel.as_deref()),
        ("event", e.event.as_deref()),
        ("data", e.data.as_deref()),
        ("socket_id", e.socket_id.as_deref()),
        ("user_id", e.user_id.as_deref()),
    ])
}
