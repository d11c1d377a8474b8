//! Users: sign-in checked by the core, the watchlist's online/offline events, and
//! terminating a user's connections from REST.

use pusher_core::auth::Credentials;
use pusher_core::name::SocketId;
use pusher_core::server::verify_signin;

use super::{ConnId, Hub};
use crate::activity::Activity;
use crate::config::Compat;
use crate::frames;

/// Pusher's limit on a watchlist; the rest is dropped with a 4302 error.
pub const MAX_WATCHLIST: usize = 100;

impl Hub {
    /// Handles `pusher:signin`.
    pub fn signin(&mut self, id: ConnId, auth: &str, user_data: &str) {
        if self.compat() == Compat::Reverb {
            // Reverb has no user authentication: it answers, and keeps the socket.
            return self.error(id, Some(4200), "Invalid message format");
        }
        let Some(conn) = self.conns.get(&id) else {
            return;
        };
        let creds = Credentials::new(&self.cfg.key, &self.cfg.secret);
        let Ok(socket) = SocketId::new(&conn.socket_id) else {
            return;
        };
        let user = match verify_signin(&creds, socket, auth, user_data) {
            Ok(u) => u,
            Err(refusal) => return self.error(id, None, &refusal.to_string()),
        };
        let uid = user.id.raw().to_owned();
        if let Some(current) = &conn.user {
            if *current != uid {
                let message = format!("Already signed in as {}", super::plain(current));
                return self.error(id, None, &message);
            }
            return self.send(id, frames::signin_success(user_data));
        }
        let mut watchlist: Vec<String> = user
            .watchlist
            .and_then(|w| w.array())
            .into_iter()
            .flatten()
            .filter_map(|v| v.ok()?.as_raw_str().map(|s| s.raw().to_owned()))
            .collect();
        let overflow = watchlist.len() > MAX_WATCHLIST;
        watchlist.truncate(MAX_WATCHLIST);
        self.send(id, frames::signin_success(user_data));
        if overflow {
            self.error(
                id,
                Some(4302),
                "Watchlist limit exceeded. Only the first 100 user IDs are accepted",
            );
        }
        for w in &watchlist {
            self.watchers.entry(w.clone()).or_default().insert(id);
        }
        let online: Vec<String> = watchlist
            .iter()
            .filter(|w| self.users.contains_key(*w))
            .cloned()
            .collect();
        if !online.is_empty() {
            self.send(id, frames::watchlist("online", &online));
        }
        let sockets = self.users.entry(uid.clone()).or_default();
        sockets.push(id);
        let first = sockets.len() == 1;
        if let Some(conn) = self.conns.get_mut(&id) {
            conn.user = Some(uid.clone());
            conn.watchlist = watchlist;
        }
        if first {
            self.tell_watchers(&uid, "online");
        }
        self.observe(Activity::SignedIn {
            socket_id: self.socket_id(id),
            user_id: super::plain(&uid),
        });
    }

    fn tell_watchers(&self, uid: &str, name: &str) {
        let Some(watchers) = self.watchers.get(uid) else {
            return;
        };
        let frame = frames::watchlist(name, &[uid.to_owned()]);
        for &w in watchers {
            self.send(w, frame.clone());
        }
    }

    /// Undoes a connection's sign-in and watchlist (on disconnect).
    pub(super) fn sign_out(&mut self, id: ConnId) {
        let Some(conn) = self.conns.get_mut(&id) else {
            return;
        };
        let watchlist = std::mem::take(&mut conn.watchlist);
        let user = conn.user.take();
        for w in watchlist {
            if let Some(set) = self.watchers.get_mut(&w) {
                set.remove(&id);
                if set.is_empty() {
                    self.watchers.remove(&w);
                }
            }
        }
        let Some(uid) = user else {
            return;
        };
        let Some(sockets) = self.users.get_mut(&uid) else {
            return;
        };
        sockets.retain(|&s| s != id);
        if sockets.is_empty() {
            self.users.remove(&uid);
            self.tell_watchers(&uid, "offline");
        }
    }

    /// Closes every connection signed in as `user_id` (4009, so clients do not reconnect
    /// unchanged). Returns how many.
    pub fn terminate(&mut self, user_id: &str) -> usize {
        let sockets = self
            .users
            .iter()
            .find(|(raw, _)| super::plain(raw) == user_id)
            .map(|(_, s)| s.clone())
            .unwrap_or_default();
        for s in &sockets {
            if let Some(c) = self.conns.get(s) {
                c.out.close(4009, "Connection terminated by the server");
            }
        }
        sockets.len()
    }
}
