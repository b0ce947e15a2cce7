//! One shard's table of who listens where: for each channel, pattern and
//! shard channel, the shard's own connections subscribed to it. Other
//! shards keep their own tables; nothing here is shared.
//!
//! Entries with no subscriber left are removed at once (as Redis does), so
//! `PUBSUB CHANNELS` lists only live channels and a client cannot grow the
//! table by subscribing and leaving.

use hashbrown::{HashMap, HashSet};

use crate::command::resp::glob;
use crate::command::resp::pubsub::Kind;

/// A subscribed connection of this shard: its slab index and generation
/// (a later connection in the same slot has another generation, so it never
/// receives what its predecessor subscribed to).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SubscriberId {
    /// The connection's slot in the shard's slab.
    pub index: u32,
    /// The connection's generation (`Connection::generation`).
    pub generation: u32,
}

impl SubscriberId {
    /// The subscriber for connection `index` of generation `generation`.
    pub fn new(index: usize, generation: u32) -> SubscriberId {
        SubscriberId {
            index: index as u32,
            generation,
        }
    }
}

/// The connections listening to one name.
pub type Group = HashSet<SubscriberId>;

/// A shard's subscriptions, by namespace and name.
#[derive(Debug, Default)]
pub struct Subscribers {
    channels: HashMap<Box<[u8]>, Group>,
    patterns: HashMap<Box<[u8]>, Group>,
    shard_channels: HashMap<Box<[u8]>, Group>,
}

impl Subscribers {
    fn map(&self, kind: Kind) -> &HashMap<Box<[u8]>, Group> {
        match kind {
            Kind::Channel => &self.channels,
            Kind::Pattern => &self.patterns,
            Kind::ShardChannel => &self.shard_channels,
        }
    }

    fn map_mut(&mut self, kind: Kind) -> &mut HashMap<Box<[u8]>, Group> {
        match kind {
            Kind::Channel => &mut self.channels,
            Kind::Pattern => &mut self.patterns,
            Kind::ShardChannel => &mut self.shard_channels,
        }
    }

    /// Subscribes `id` to `name`; `false` if it already was.
    pub fn add(&mut self, kind: Kind, name: &[u8], id: SubscriberId) -> bool {
        let map = self.map_mut(kind);
        match map.get_mut(name) {
            Some(group) => group.insert(id),
            None => {
                map.insert(name.into(), Group::from_iter([id]));
                true
            }
        }
    }

    /// Unsubscribes `id` from `name`, dropping the entry once nobody is
    /// left; `false` if it was not subscribed.
    pub fn remove(&mut self, kind: Kind, name: &[u8], id: SubscriberId) -> bool {
        let map = self.map_mut(kind);
        let Some(group) = map.get_mut(name) else {
            return false;
        };
        let removed = group.remove(&id);
        if group.is_empty() {
            map.remove(name);
        }
        removed
    }

    /// Calls `each` for every group that receives a message published to
    /// `channel`: its subscribers first (with no pattern), then, for a
    /// plain channel, the subscribers of each pattern that matches it (with
    /// the pattern). Shard channels have no patterns, as in Redis.
    pub fn for_each_receiver(
        &self,
        shard_channel: bool,
        channel: &[u8],
        mut each: impl FnMut(Option<&[u8]>, &Group),
    ) {
        let kind = if shard_channel {
            Kind::ShardChannel
        } else {
            Kind::Channel
        };
        if let Some(group) = self.map(kind).get(channel) {
            each(None, group);
        }
        if shard_channel {
            return;
        }
        for (pattern, group) in &self.patterns {
            if glob::matches(pattern, channel, false) {
                each(Some(pattern), group);
            }
        }
    }

    /// The names with at least one subscriber in one namespace.
    pub fn names(&self, kind: Kind) -> impl Iterator<Item = &[u8]> + '_ {
        self.map(kind).keys().map(|name| &name[..])
    }

    /// How many of this shard's connections are subscribed to `name`.
    pub fn subscriber_count(&self, kind: Kind, name: &[u8]) -> usize {
        self.map(kind).get(name).map_or(0, HashSet::len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: SubscriberId = SubscriberId {
        index: 1,
        generation: 7,
    };
    const B: SubscriberId = SubscriberId {
        index: 2,
        generation: 8,
    };
    /// Connection 1 again, after its slot was reused.
    const A_AGAIN: SubscriberId = SubscriberId {
        index: 1,
        generation: 9,
    };

    fn receivers(table: &Subscribers, shard: bool, channel: &str) -> Vec<(Option<String>, u32)> {
        let mut found = Vec::new();
        table.for_each_receiver(shard, channel.as_bytes(), |pattern, group| {
            for id in group {
                let pattern = pattern.map(|p| String::from_utf8_lossy(p).into_owned());
                found.push((pattern, id.index * 100 + id.generation));
            }
        });
        found.sort();
        found
    }

    #[test]
    fn subscribers_are_counted_once_and_entries_go_when_empty() {
        let mut table = Subscribers::default();
        assert!(table.add(Kind::Channel, b"news", A));
        assert!(!table.add(Kind::Channel, b"news", A));
        assert!(table.add(Kind::Channel, b"news", B));
        assert!(table.add(Kind::Channel, b"news", A_AGAIN));
        assert_eq!(table.subscriber_count(Kind::Channel, b"news"), 3);
        assert_eq!(table.subscriber_count(Kind::ShardChannel, b"news"), 0);
        assert!(table.remove(Kind::Channel, b"news", A));
        assert!(!table.remove(Kind::Channel, b"news", A));
        assert!(!table.remove(Kind::Channel, b"other", A));
        assert_eq!(table.names(Kind::Channel).count(), 1);
        table.remove(Kind::Channel, b"news", B);
        table.remove(Kind::Channel, b"news", A_AGAIN);
        assert_eq!(table.names(Kind::Channel).count(), 0, "no entry is left");
    }

    #[test]
    fn channel_subscribers_come_first_then_matching_patterns() {
        let mut table = Subscribers::default();
        table.add(Kind::Channel, b"news", A);
        table.add(Kind::Pattern, b"n*", A);
        table.add(Kind::Pattern, b"n*", B);
        table.add(Kind::Pattern, b"x*", B);
        table.add(Kind::ShardChannel, b"news", B);
        let mut order = Vec::new();
        table.for_each_receiver(false, b"news", |pattern, _| order.push(pattern.is_some()));
        assert_eq!(order, [false, true]);
        assert_eq!(
            receivers(&table, false, "news"),
            [
                (None, 107),
                (Some("n*".into()), 107),
                (Some("n*".into()), 208)
            ]
        );
        assert_eq!(
            receivers(&table, false, "xylophone"),
            [(Some("x*".into()), 208)]
        );
        assert_eq!(receivers(&table, false, "sports"), []);
        // Shard channels are their own namespace, without patterns.
        assert_eq!(receivers(&table, true, "news"), [(None, 208)]);
        assert_eq!(receivers(&table, true, "nothing"), []);
    }

    #[test]
    fn the_three_namespaces_are_apart() {
        let mut table = Subscribers::default();
        table.add(Kind::Channel, b"a", A);
        table.add(Kind::Pattern, b"a", A);
        table.add(Kind::ShardChannel, b"a", A);
        for kind in [Kind::Channel, Kind::Pattern, Kind::ShardChannel] {
            assert_eq!(table.names(kind).collect::<Vec<_>>(), [&b"a"[..]]);
        }
        assert!(table.remove(Kind::Pattern, b"a", A));
        assert_eq!(table.subscriber_count(Kind::Channel, b"a"), 1);
        assert_eq!(table.subscriber_count(Kind::ShardChannel, b"a"), 1);
    }
}
