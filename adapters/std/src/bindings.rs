//! Event handlers bound as pusher-js binds them: per channel and event, per event, per
//! channel, globally, to the signed-in user's events and to watchlist changes; each with an
//! id to unbind it by.

use pusher_core::client::EventData;

/// Names a bound handler, for [`Bindings::unbind`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BindId(u64);

/// Which events a handler sees.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Scope {
    /// Channel events (and the bindable protocol events): this channel, or any when `None`.
    Channel(Option<String>),
    /// Events on the signed-in user's `#server-to-user-` channel (pusher-js `user.bind`).
    User,
    /// Watchlist changes (pusher-js `user.watchlist.bind`): event `online` or `offline`,
    /// data the user ids (a JSON array).
    Watchlist,
}

type Handler<'a> = Box<dyn FnMut(&EventData<'_>) + 'a>;

struct Bound<'a> {
    id: BindId,
    scope: Scope,
    event: Option<String>,
    f: Handler<'a>,
}

/// The handlers of one client.
#[derive(Default)]
pub(crate) struct Bindings<'a> {
    bound: Vec<Bound<'a>>,
    next: u64,
}

impl<'a> Bindings<'a> {
    pub(crate) fn bind(
        &mut self,
        scope: Scope,
        event: Option<&str>,
        f: impl FnMut(&EventData<'_>) + 'a,
    ) -> BindId {
        self.next += 1;
        let id = BindId(self.next);
        self.bound.push(Bound {
            id,
            scope,
            event: event.map(str::to_owned),
            f: Box::new(f),
        });
        id
    }

    /// Removes one handler; whether it was bound.
    pub(crate) fn unbind(&mut self, id: BindId) -> bool {
        let before = self.bound.len();
        self.bound.retain(|b| b.id != id);
        self.bound.len() != before
    }

    /// Removes every handler of `scope` bound to `event` (`None`: bound to every event);
    /// returns how many.
    pub(crate) fn unbind_matching(&mut self, scope: &Scope, event: Option<&str>) -> usize {
        let before = self.bound.len();
        self.bound
            .retain(|b| !(&b.scope == scope && b.event.as_deref() == event));
        before - self.bound.len()
    }

    /// Removes every handler of `scope`, whatever its event; returns how many.
    pub(crate) fn unbind_scope(&mut self, scope: &Scope) -> usize {
        let before = self.bound.len();
        self.bound.retain(|b| &b.scope != scope);
        before - self.bound.len()
    }

    /// Removes every handler.
    pub(crate) fn clear(&mut self) {
        self.bound.clear();
    }

    /// Calls the handlers of a channel (or protocol) event.
    pub(crate) fn channel_event(&mut self, e: &EventData<'_>) {
        let to_user = e.channel.is_some_and(|c| c.starts_with("#server-to-user-"));
        for b in &mut self.bound {
            let scope_ok = match &b.scope {
                Scope::Channel(None) => true,
                Scope::Channel(Some(c)) => Some(c.as_str()) == e.channel,
                Scope::User => to_user,
                Scope::Watchlist => false,
            };
            if scope_ok && b.event.as_deref().is_none_or(|n| n == e.event) {
                (b.f)(e);
            }
        }
    }

    /// Calls the watchlist handlers for one change (`online` / `offline`).
    pub(crate) fn watchlist(&mut self, status: &str, user_ids: &str) {
        let e = EventData {
            event: status,
            channel: None,
            data: Some(user_ids),
            user_id: None,
        };
        for b in &mut self.bound {
            if b.scope == Scope::Watchlist && b.event.as_deref().is_none_or(|n| n == status) {
                (b.f)(&e);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;

    fn ev<'a>(channel: &'a str, event: &'a str) -> EventData<'a> {
        EventData {
            event,
            channel: Some(channel),
            data: None,
            user_id: None,
        }
    }

    #[test]
    fn routes_unbinds_by_id_by_name_and_all() {
        let seen = RefCell::new(Vec::new());
        let mut b = Bindings::default();
        let log = |tag: &'static str| {
            let seen = &seen;
            move |e: &EventData<'_>| seen.borrow_mut().push(format!("{tag} {}", e.event))
        };
        let exact = b.bind(Scope::Channel(Some("a".into())), Some("x"), log("exact"));
        b.bind(Scope::Channel(Some("a".into())), None, log("channel"));
        b.bind(Scope::Channel(None), Some("x"), log("event"));
        b.bind(Scope::Channel(None), None, log("global"));
        b.bind(Scope::User, Some("x"), log("user"));
        b.bind(Scope::Watchlist, Some("online"), log("watch"));
        b.channel_event(&ev("a", "x"));
        b.channel_event(&ev("#server-to-user-1", "x"));
        b.watchlist("online", r#"["1"]"#);
        b.watchlist("offline", r#"["1"]"#);
        assert_eq!(
            seen.take(),
            [
                "exact x",
                "channel x",
                "event x",
                "global x",
                "event x",
                "global x",
                "user x",
                "watch online"
            ]
        );
        assert!(b.unbind(exact));
        assert!(!b.unbind(exact));
        assert_eq!(b.unbind_matching(&Scope::Channel(None), None), 1);
        b.channel_event(&ev("a", "x"));
        assert_eq!(seen.take(), ["channel x", "event x"]);
        b.clear();
        b.channel_event(&ev("a", "x"));
        assert!(seen.take().is_empty());
    }
}
