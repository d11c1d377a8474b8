//! Events: published over REST to every subscriber (but the excluded socket), and client
//! events from one subscriber to the others, with Pusher's rules and rate limit.

use std::time::{Duration, Instant};

use pusher_core::name::{ChannelName, EventName};

use super::{ConnId, Hub};
use crate::activity::Activity;
use crate::config::Compat;
use crate::frames;
use crate::webhooks::HookEvent;

/// Pusher's limit on an event's data, in bytes.
pub const MAX_EVENT_DATA: usize = 10 * 1024;

impl Hub {
    /// Publishes an event to a channel's subscribers, except the connection whose socket id
    /// is `except`. Returns how many connections it was sent to.
    pub fn publish(
        &mut self,
        channel: &str,
        event: &str,
        data: &str,
        except: Option<&str>,
    ) -> usize {
        self.remember(channel, event, data);
        let Some(ch) = self.channels.get(channel) else {
            self.published(channel, event, data.len(), 0, "rest".into());
            return 0;
        };
        let frame = frames::event(channel, event, data, None);
        let mut receivers = 0;
        for s in &ch.subscribers {
            let Some(conn) = self.conns.get(s) else {
                continue;
            };
            if except == Some(conn.socket_id.as_str()) {
                continue;
            }
            conn.out.send(frame.clone());
            receivers += 1;
        }
        self.published(channel, event, data.len(), receivers, "rest".into());
        receivers
    }

    fn published(&self, channel: &str, event: &str, bytes: usize, receivers: usize, from: String) {
        self.observe(Activity::Published {
            channel: channel.to_owned(),
            event: event.to_owned(),
            bytes,
            receivers,
            from,
        });
    }

    /// Handles a `client-` event: only on private and presence channels the sender is
    /// subscribed to, when the app allows them, within the rate limit; never echoed back.
    pub fn client_event(
        &mut self,
        id: ConnId,
        event: EventName<'_>,
        channel: ChannelName<'_>,
        data: Option<&str>,
    ) {
        let name = channel.as_str();
        let compat = self.compat();
        if !self.cfg.client_events {
            return self.error(id, Some(4301), "Client events are not enabled for this app");
        }
        if !channel.kind().allows_client_events() {
            return self.error(
                id,
                None,
                &format!(
                    "Client event rejected - only supported on private and presence channels, not {name}"
                ),
            );
        }
        let limit = self.cfg.client_event_rate;
        let Some(conn) = self.conns.get_mut(&id) else {
            return;
        };
        let Some(member) = conn.channels.get(name).cloned() else {
            let code = (compat == Compat::Reverb).then_some(4009);
            return self.error(
                id,
                code,
                &format!("Client event rejected - not subscribed to {name}"),
            );
        };
        let now = Instant::now();
        if now.duration_since(conn.rate.0) >= Duration::from_secs(1) {
            conn.rate = (now, 0);
        }
        if conn.rate.1 >= limit {
            return self.error(id, Some(4301), "Client event rejected due to rate limit");
        }
        conn.rate.1 += 1;
        let socket_id = conn.socket_id.clone();
        let data = data.unwrap_or("");
        if data.len() > MAX_EVENT_DATA {
            return self.error(
                id,
                None,
                &format!("Client event rejected - data over the {MAX_EVENT_DATA} byte limit"),
            );
        }
        let user_id = member.as_deref().map(super::plain);
        let frame = frames::event(name, event.as_str(), data, user_id.as_deref());
        let mut receivers = 0;
        if let Some(ch) = self.channels.get(name) {
            for &s in ch.subscribers.iter().filter(|&&s| s != id) {
                self.send(s, frame.clone());
                receivers += 1;
            }
        }
        self.hook(HookEvent::client_event(
            name,
            event.as_str(),
            data,
            &socket_id,
            user_id.as_deref(),
        ));
        self.published(name, event.as_str(), data.len(), receivers, socket_id);
    }
}
