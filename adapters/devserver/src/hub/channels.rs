//! Subscribing and leaving: signatures checked by the core, presence members counted per
//! user, occupied/vacated and member webhooks, cache replay, subscription counts.

use std::time::Instant;

use pusher_core::auth::Credentials;
use pusher_core::name::{ChannelKind, ChannelName, SocketId};
use pusher_core::server::reply::MemberEntry;
use pusher_core::server::verify_subscription;

use super::{CACHE_TTL_SECS, Channel, ConnId, Hub, Member};
use crate::activity::Activity;
use crate::frames;
use crate::webhooks::HookEvent;

/// Pusher's limit on a channel name, prefix included.
pub const MAX_CHANNEL_NAME: usize = 164;

/// Pusher's limit on the members of a presence channel.
pub const MAX_PRESENCE_MEMBERS: usize = 100;

impl Hub {
    /// Handles `pusher:subscribe`.
    pub fn subscribe(
        &mut self,
        id: ConnId,
        channel: ChannelName<'_>,
        auth: Option<&str>,
        channel_data: Option<&str>,
    ) {
        let name = channel.as_str();
        let Some(conn) = self.conns.get(&id) else {
            return;
        };
        if conn.channels.contains_key(name) {
            return self.error(
                id,
                None,
                &format!("Existing subscription to channel {name}"),
            );
        }
        if conn.channels.len() >= self.cfg.max_channels_per_connection {
            let limit = self.cfg.max_channels_per_connection;
            return self.error(
                id,
                None,
                &format!("Too many channels on one connection (limit {limit})"),
            );
        }
        if name.len() > MAX_CHANNEL_NAME {
            return self.error(
                id,
                None,
                &format!("Channel name too long (limit {MAX_CHANNEL_NAME} characters)"),
            );
        }
        let kind = channel.kind();
        if kind == ChannelKind::ServerToUser {
            let own = name.strip_prefix("#server-to-user-");
            if conn.user.as_deref().map(super::plain).as_deref() != own {
                return self.error(
                    id,
                    None,
                    &format!("Subscription to {name} needs a sign-in as that user"),
                );
            }
        }
        let creds = Credentials::new(&self.cfg.key, &self.cfg.secret);
        let Ok(socket) = SocketId::new(&conn.socket_id) else {
            return;
        };
        let member = match verify_subscription(&creds, socket, channel, auth, channel_data) {
            Ok(m) => m,
            Err(refusal) => return self.error(id, None, &refusal.to_string()),
        };
        let member = member.map(|m| (m.user_id.raw().to_owned(), m.user_info.map(str::to_owned)));
        let ch = self.channels.entry(name.to_owned()).or_default();
        if let Some((uid, _)) = &member
            && !ch.members.contains_key(uid)
            && ch.members.len() >= MAX_PRESENCE_MEMBERS
        {
            if ch.subscribers.is_empty() {
                self.channels.remove(name);
            }
            return self.error(
                id,
                None,
                &format!("Presence channel {name} is full ({MAX_PRESENCE_MEMBERS} members)"),
            );
        }
        let first = ch.subscribers.is_empty();
        ch.subscribers.insert(id);
        let mut new_member = false;
        if let Some((uid, info)) = &member {
            let m = ch.members.entry(uid.clone()).or_insert(Member {
                info: info.clone(),
                sockets: 0,
            });
            m.sockets += 1;
            new_member = m.sockets == 1;
        }
        if let Some(conn) = self.conns.get_mut(&id) {
            conn.channels
                .insert(name.to_owned(), member.as_ref().map(|(u, _)| u.clone()));
        }
        self.after_subscribe(
            id,
            name,
            kind,
            first,
            new_member.then_some(member).flatten(),
        );
    }

    /// Everything a successful subscription sends: the confirmation, member and count
    /// updates, the cached event, webhooks and the activity record.
    fn after_subscribe(
        &mut self,
        id: ConnId,
        name: &str,
        kind: ChannelKind,
        first: bool,
        new_member: Option<(String, Option<String>)>,
    ) {
        let Some(ch) = self.channels.get(name) else {
            return;
        };
        let confirmation = if kind.is_presence() {
            let omit_bare = self.compat() == crate::Compat::Soketi;
            frames::presence_subscribed(name, entries(ch), omit_bare)
        } else {
            frames::subscribed(name)
        };
        self.send(id, confirmation);
        if first {
            self.hook(HookEvent::channel("channel_occupied", name));
        }
        if let Some((uid, info)) = new_member {
            let added = frames::member_added(
                name,
                MemberEntry {
                    id: &uid,
                    info: info.as_deref(),
                },
            );
            for &other in ch.subscribers.iter().filter(|&&o| o != id) {
                self.send(other, added.clone());
            }
            self.hook(HookEvent::member("member_added", name, &super::plain(&uid)));
        }
        if kind.is_cache() {
            self.replay_cache(id, name);
        }
        self.broadcast_count(name, kind);
        self.observe(Activity::Subscribed {
            socket_id: self.socket_id(id),
            channel: name.to_owned(),
        });
    }

    fn replay_cache(&mut self, id: ConnId, name: &str) {
        let fresh = self
            .cache
            .get(name)
            .filter(|c| c.at.elapsed().as_secs() < CACHE_TTL_SECS);
        match fresh {
            Some(c) => self.send(id, frames::event(name, &c.event, &c.data, None)),
            None => {
                self.cache.remove(name);
                self.send(id, frames::cache_miss(name));
                self.hook(HookEvent::channel("cache_miss", name));
            }
        }
    }

    /// Sends `pusher_internal:subscription_count` to a channel's subscribers when the app
    /// has it on (never on presence channels, as Pusher does).
    fn broadcast_count(&self, name: &str, kind: ChannelKind) {
        if !self.cfg.subscription_count || kind.is_presence() {
            return;
        }
        let Some(ch) = self.channels.get(name) else {
            return;
        };
        let count = ch.subscribers.len() as u64;
        let frame = frames::subscription_count(name, count);
        for &s in &ch.subscribers {
            self.send(s, frame.clone());
        }
        self.hook(HookEvent::count(name, count));
    }

    /// Handles `pusher:unsubscribe` (and a connection's end): a channel it was not on is
    /// ignored, as Pusher does.
    pub fn unsubscribe(&mut self, id: ConnId, name: &str) {
        let Some(member) = self
            .conns
            .get_mut(&id)
            .and_then(|c| c.channels.remove(name))
        else {
            return;
        };
        let Some(ch) = self.channels.get_mut(name) else {
            return;
        };
        ch.subscribers.remove(&id);
        let mut gone = None;
        if let Some(uid) = member
            && let Some(m) = ch.members.get_mut(&uid)
        {
            m.sockets -= 1;
            if m.sockets == 0 {
                ch.members.remove(&uid);
                gone = Some(uid);
            }
        }
        let empty = ch.subscribers.is_empty();
        if let Some(uid) = &gone {
            let frame = frames::member_removed(name, uid);
            for s in ch.subscribers.iter().filter_map(|s| self.conns.get(s)) {
                s.out.send(frame.clone());
            }
            self.hook(HookEvent::member(
                "member_removed",
                name,
                &super::plain(uid),
            ));
        }
        if empty {
            self.channels.remove(name);
            self.hook(HookEvent::channel("channel_vacated", name));
        } else {
            self.broadcast_count(name, ChannelKind::of(name));
        }
        self.observe(Activity::Unsubscribed {
            socket_id: self.socket_id(id),
            channel: name.to_owned(),
        });
    }

    /// Remembers the last event of a cache channel.
    pub(super) fn remember(&mut self, channel: &str, event: &str, data: &str) {
        if ChannelKind::of(channel).is_cache() {
            self.cache.insert(
                channel.to_owned(),
                super::Cached {
                    event: event.to_owned(),
                    data: data.to_owned(),
                    at: Instant::now(),
                },
            );
        }
    }
}

fn entries(ch: &Channel) -> impl Iterator<Item = MemberEntry<'_>> + Clone {
    ch.members.iter().map(|(id, m)| MemberEntry {
        id,
        info: m.info.as_deref(),
    })
}
