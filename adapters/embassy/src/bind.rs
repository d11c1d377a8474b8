//! pusher-js style `bind` for firmware: a [`Router`] is a [`Handler`] that calls the
//! callbacks bound to a channel and event name, with no heap (the table's size is a type
//! parameter, callbacks are borrowed closures).

use core::ops::ControlFlow;

use pusher_core::client::{Event, EventData};

use crate::driver::Handler;

/// A bound callback.
type Callback<'a> = &'a mut dyn FnMut(&EventData<'_>);

/// One binding: channel and event filters (`None` matches any) and the callback.
type Route<'a> = (Option<&'a str>, Option<&'a str>, Callback<'a>);

/// The table is full.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct RouterFull;

impl core::fmt::Display for RouterFull {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("no room to bind another callback")
    }
}

impl core::error::Error for RouterFull {}

/// Up to `N` bindings of (channel, event) to callbacks; `None` matches any.
pub struct Router<'a, const N: usize> {
    routes: [Option<Route<'a>>; N],
    others: Option<&'a mut dyn FnMut(&Event<'_>)>,
}

impl<'a, const N: usize> Default for Router<'a, N> {
    fn default() -> Self {
        Router {
            routes: [const { None }; N],
            others: None,
        }
    }
}

impl<'a, const N: usize> Router<'a, N> {
    /// An empty router.
    pub fn new() -> Self {
        Self::default()
    }

    /// Calls `callback` for `event` on `channel` (pusher-js `channel.bind(event, ..)`).
    pub fn bind(
        &mut self,
        channel: &'a str,
        event: &'a str,
        callback: Callback<'a>,
    ) -> Result<(), RouterFull> {
        self.add(Some(channel), Some(event), callback)
    }

    /// Calls `callback` for `event` on any channel (pusher-js `pusher.bind(event, ..)`).
    pub fn bind_event(&mut self, event: &'a str, callback: Callback<'a>) -> Result<(), RouterFull> {
        self.add(None, Some(event), callback)
    }

    /// Calls `callback` for every event on `channel` (`channel.bind_global`).
    pub fn bind_channel(
        &mut self,
        channel: &'a str,
        callback: Callback<'a>,
    ) -> Result<(), RouterFull> {
        self.add(Some(channel), None, callback)
    }

    /// Calls `callback` for every event handlers can bind to (`pusher.bind_global`): channel
    /// events and the protocol events of `Event::bindable`.
    pub fn bind_global(&mut self, callback: Callback<'a>) -> Result<(), RouterFull> {
        self.add(None, None, callback)
    }

    /// Receives every other client event (state changes, errors, auth requests, ...).
    pub fn on_other(&mut self, callback: &'a mut dyn FnMut(&Event<'_>)) {
        self.others = Some(callback);
    }

    fn add(
        &mut self,
        channel: Option<&'a str>,
        event: Option<&'a str>,
        callback: Callback<'a>,
    ) -> Result<(), RouterFull> {
        let free = self
            .routes
            .iter_mut()
            .find(|r| r.is_none())
            .ok_or(RouterFull)?;
        *free = Some((channel, event, callback));
        Ok(())
    }

    /// Removes every binding of `event` on `channel` (`channel.unbind(event)`).
    pub fn unbind(&mut self, channel: &str, event: &str) {
        for route in &mut self.routes {
            if matches!(route, Some((Some(c), Some(e), _)) if *c == channel && *e == event) {
                *route = None;
            }
        }
    }
}

impl<const N: usize> Handler for Router<'_, N> {
    fn event(&mut self, event: Event<'_>) -> ControlFlow<()> {
        match event.bindable() {
            Some(data) => {
                for (c, e, callback) in self.routes.iter_mut().flatten() {
                    let channel_matches = c.is_none() || *c == data.channel;
                    let event_matches = e.is_none_or(|e| e == data.event);
                    if channel_matches && event_matches {
                        callback(&data);
                    }
                }
            }
            None => {
                if let Some(callback) = self.others.as_mut() {
                    callback(&event);
                }
            }
        }
        ControlFlow::Continue(())
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use std::format;
    use std::string::{String, ToString};
    use std::vec::Vec;

    use super::*;

    fn message<'e>(channel: &'e str, event: &'e str, data: &'e str) -> Event<'e> {
        Event::Message {
            event,
            channel: Some(channel),
            data: Some(data),
            user_id: None,
        }
    }

    #[test]
    fn routes_by_channel_and_event() {
        let mut seen: Vec<String> = Vec::new();
        let mut channel_wide = 0;
        let mut global = 0;
        let mut others = 0;
        {
            let mut on_order = |d: &EventData<'_>| seen.push(d.data.unwrap_or("").to_string());
            let mut on_channel = |_: &EventData<'_>| channel_wide += 1;
            let mut on_any = |_: &EventData<'_>| global += 1;
            let mut on_other = |_: &Event<'_>| others += 1;
            let mut router: Router<'_, 3> = Router::new();
            router.bind("orders", "created", &mut on_order).unwrap();
            router.bind_channel("orders", &mut on_channel).unwrap();
            router.bind_global(&mut on_any).unwrap();
            let mut extra = |_: &EventData<'_>| {};
            assert_eq!(router.bind("x", "y", &mut extra), Err(RouterFull));
            router.on_other(&mut on_other);
            let _ = router.event(message("orders", "created", "1"));
            let _ = router.event(message("orders", "deleted", "2"));
            let _ = router.event(message("news", "created", "3"));
            let _ = router.event(Event::Pong);
            router.unbind("orders", "created");
            let _ = router.event(message("orders", "created", "4"));
        }
        assert_eq!(seen, ["1"]);
        assert_eq!(channel_wide, 3);
        assert_eq!(global, 4);
        assert_eq!(others, 1);
    }

    #[test]
    fn an_event_on_any_channel_and_protocol_events_bind_by_pusher_js_names() {
        let (mut created, mut joined, mut others) = (Vec::new(), Vec::new(), 0);
        {
            let mut on_created =
                |d: &EventData<'_>| created.push(d.channel.unwrap_or("-").to_string());
            let mut on_joined = |d: &EventData<'_>| {
                joined.push(format!("{} {}", d.event, d.user_id.unwrap_or("-")))
            };
            let mut on_other = |_: &Event<'_>| others += 1;
            let mut router: Router<'_, 2> = Router::new();
            router.bind_event("created", &mut on_created).unwrap();
            router
                .bind_channel("presence-room", &mut on_joined)
                .unwrap();
            router.on_other(&mut on_other);
            let _ = router.event(message("orders", "created", "1"));
            let _ = router.event(message("news", "created", "2"));
            let _ = router.event(Event::Subscribed {
                channel: "presence-room",
            });
            let _ = router.event(Event::MemberAdded {
                channel: "presence-room",
                id: "7",
                info: "{}",
                new: true,
            });
            let _ = router.event(Event::Ping);
        }
        assert_eq!(created, ["orders", "news"]);
        assert_eq!(
            joined,
            ["pusher:subscription_succeeded -", "pusher:member_added 7"]
        );
        assert_eq!(others, 1);
    }
}
