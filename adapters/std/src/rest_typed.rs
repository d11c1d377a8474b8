//! The REST API's answers as types: channel lists with their attributes, one channel's
//! state, a presence channel's users, a trigger's `info`. The `String`-returning calls in
//! [`crate::rest`] stay for callers that want the body as it came.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::rest::{Error, Rest, WebhookEvent};

/// A channel's attributes, as `info` asked for them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct ChannelAttributes {
    /// Distinct presence members (`info=user_count`, presence channels).
    pub user_count: Option<u64>,
    /// Subscribed connections (`info=subscription_count`).
    pub subscription_count: Option<u64>,
}

/// `GET /channels`: the occupied channels.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct Channels {
    /// Channel name to its attributes.
    pub channels: BTreeMap<String, ChannelAttributes>,
}

/// A cache channel's cached event.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct Cached {
    /// The last event's data.
    pub data: String,
    /// Seconds it stays cached.
    pub ttl: u64,
}

/// `GET /channels/{name}`: one channel's state.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct ChannelInfo {
    /// Whether anyone is subscribed.
    pub occupied: bool,
    /// Distinct presence members (`info=user_count`).
    pub user_count: Option<u64>,
    /// Subscribed connections (`info=subscription_count`).
    pub subscription_count: Option<u64>,
    /// The cached event (`info=cache`, cache channels).
    pub cache: Option<Cached>,
}

#[derive(Deserialize)]
struct Users {
    users: Vec<User>,
}

#[derive(Deserialize)]
struct User {
    id: String,
}

/// A trigger's answer with `info`: each channel's attributes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct TriggerInfo {
    /// Channel name to its attributes (empty when no `info` was asked).
    #[serde(default)]
    pub channels: BTreeMap<String, ChannelAttributes>,
}

fn parse<'a, T: Deserialize<'a>>(what: &str, body: &'a str) -> Result<T, Error> {
    serde_json::from_str(body).map_err(|e| Error::Response(format!("{what}: {e} in {body:?}")))
}

impl Channels {
    /// A `GET /channels` answer.
    pub fn parse(body: &str) -> Result<Self, Error> {
        parse("channels", body)
    }
}

impl ChannelInfo {
    /// A `GET /channels/{name}` answer.
    pub fn parse(body: &str) -> Result<Self, Error> {
        parse("channel", body)
    }
}

impl TriggerInfo {
    /// A trigger's answer (with `info`, or `{}`).
    pub fn parse(body: &str) -> Result<Self, Error> {
        parse("trigger", body)
    }
}

/// The user ids of a `GET /channels/{name}/users` answer.
pub fn parse_user_ids(body: &str) -> Result<Vec<String>, Error> {
    let users: Users = parse("users", body)?;
    Ok(users.users.into_iter().map(|u| u.id).collect())
}

impl Rest {
    /// The occupied channels whose names start with `prefix`, with the `info` attributes
    /// (`user_count` needs `prefix` `presence-`).
    pub fn channels_info(
        &self,
        prefix: Option<&str>,
        info: Option<&str>,
    ) -> Result<Channels, Error> {
        Channels::parse(&self.channels(prefix, info)?)
    }

    /// One channel's state, with the `info` attributes (`user_count`, `subscription_count`,
    /// `cache`).
    pub fn channel_info(&self, name: &str, info: Option<&str>) -> Result<ChannelInfo, Error> {
        ChannelInfo::parse(&self.channel(name, info)?)
    }

    /// A presence channel's user ids.
    pub fn user_ids(&self, name: &str) -> Result<Vec<String>, Error> {
        parse_user_ids(&self.users(name)?)
    }

    /// Triggers `T` as JSON data on `channels`, asking for the `info` attributes back.
    pub fn trigger_json_info<T: serde::Serialize + ?Sized>(
        &self,
        channels: &[&str],
        event: &str,
        data: &T,
        info: &str,
    ) -> Result<TriggerInfo, Error> {
        let json = serde_json::to_string(data).map_err(|e| {
            crate::rest::invalid_because("data", format!("cannot be written as JSON: {e}"))
        })?;
        TriggerInfo::parse(&self.trigger_with(channels, event, &json, None, Some(info))?)
    }
}

impl WebhookEvent {
    /// A `client_event`'s data decoded into `T`.
    pub fn json<T: serde::de::DeserializeOwned>(&self) -> Result<T, Error> {
        let data = self
            .data
            .as_deref()
            .ok_or_else(|| Error::Response(format!("webhook event {} has no data", self.name)))?;
        serde_json::from_str(data)
            .map_err(|e| Error::Response(format!("webhook {} data: {e}", self.name)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn webhook_client_event_data_decodes_typed() {
        #[derive(Deserialize, Debug, PartialEq)]
        struct Typing {
            user: String,
            active: bool,
        }
        let ev = WebhookEvent {
            name: "client_event".into(),
            data: Some(r#"{"user":"Zo\u00eb","active":true}"#.into()),
            ..WebhookEvent::default()
        };
        assert_eq!(
            ev.json::<Typing>().unwrap(),
            Typing {
                user: "Zoë".into(),
                active: true
            }
        );
        assert!(matches!(
            WebhookEvent::default().json::<Typing>(),
            Err(Error::Response(_))
        ));
    }
}
